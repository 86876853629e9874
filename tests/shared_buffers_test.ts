import { assert, assertEquals } from "./assert.ts";
import { ownBuffers, SharedBuffers } from "../lib/training/shared_buffers.ts";

Deno.test("shared buffers: one name is one memory, reused and grown", () => {
  const b = new SharedBuffers();
  const a = b.floats("x", 4);
  assert(a.buffer instanceof SharedArrayBuffer);
  a.set([1, 2, 3, 4]);
  // A shorter view of the same name sees the same memory.
  assertEquals(b.floats("x", 2), new Float32Array([1, 2]));
  // Another name is other memory.
  assertEquals(b.floats("y", 2), new Float32Array(2));
  // Growing gives new memory; a view handed out before keeps the old.
  const big = b.floats("x", 8);
  assertEquals(big.length, 8);
  big.fill(9);
  assertEquals(a, new Float32Array([1, 2, 3, 4]));
  assertEquals(b.floats("x", 3), new Float32Array([9, 9, 9]));
  const rows = b.rows(3, 2, 10);
  assertEquals([rows.x.length, rows.oneHot.length], [6, 30]);
  assert(rows.x.buffer === big.buffer);
  const bytes = b.bytes("c", 5);
  assert(bytes instanceof Uint8Array && bytes.length === 5);
});

Deno.test("ownBuffers: shared arrays are not transferred, each own buffer once", () => {
  const shared = new Float32Array(new SharedArrayBuffer(16));
  const own = new Float32Array(8);
  const list = ownBuffers([shared, own, own.subarray(2), new Uint8Array(3)]);
  assertEquals(list.length, 2);
  assert(list[0] === own.buffer);
  assert(!list.some((x) => (x as unknown) === shared.buffer));
});
