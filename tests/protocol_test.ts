/**
 * Every codec of lib/protocol round-trips: what one side writes, the other
 * reads back unchanged, and bad bytes are refused with a clear error.
 */
import {
  allocateLatent,
  decodeLatent,
  encodeLatent,
  latentByteLength,
  latentBytes,
  LatentFormatError,
  type LatentSnapshot,
} from "../lib/protocol/latent_format.ts";
import {
  decodeProbs,
  encodeProbs,
  ProbsFormatError,
} from "../lib/protocol/probs_format.ts";
import { base64ToBytes, bytesToBase64 } from "../lib/protocol/base64.ts";
import { encodeLatentSource } from "../lib/server/latent_cache.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

function randomSnapshot(n: number, seed: number): LatentSnapshot {
  const rng = new Rng(seed);
  const rand = () => rng.uniform();
  const s = allocateLatent(n, 7);
  for (let i = 0; i < n; i++) {
    s.x[i] = rand() * 8 - 4;
    s.y[i] = rand() * 8 - 4;
    s.predClass[i] = Math.floor(rand() * 10);
    s.certainty[i] = Math.floor(rand() * 256);
    s.userLabel[i] = rand() < 0.3 ? Math.floor(rand() * 10) : -1;
  }
  return s;
}

Deno.test("LAT1: encode → decode gives every column back, for any count", () => {
  for (const n of [0, 1, 3, 4, 5, 1001]) {
    const snap = randomSnapshot(n, n + 1);
    const bytes = encodeLatent(snap);
    assertEquals(bytes.byteLength, latentByteLength(n));
    assertEquals(bytes.byteLength % 4, 0);
    assertEquals(new TextDecoder().decode(bytes.subarray(0, 4)), "LAT1");
    const back = decodeLatent(bytes.buffer as ArrayBuffer);
    assertEquals(back.version, 7);
    assertEquals(back.count, n);
    for (
      const k of ["x", "y", "predClass", "certainty", "userLabel"] as const
    ) {
      assertEquals(Array.from(back[k]), Array.from(snap[k]), `${k}, n=${n}`);
    }
    // Zero-copy: the columns are views on the response buffer.
    if (n > 0) assert(back.x.buffer === bytes.buffer);
    // allocateLatent's own bytes are the same encoding.
    assertEquals(Array.from(latentBytes(snap)), Array.from(bytes));
  }
  assertEquals(latentByteLength(60000), 660016);
});

Deno.test("LAT1: a view inside a larger buffer decodes (aligned or not)", () => {
  const bytes = encodeLatent(randomSnapshot(9, 3));
  for (const offset of [4, 5]) {
    const big = new Uint8Array(bytes.length + 8);
    big.set(bytes, offset);
    const back = decodeLatent(big.subarray(offset, offset + bytes.length));
    assertEquals(
      Array.from(back.userLabel),
      Array.from(decodeLatent(bytes).userLabel),
    );
    assertEquals(Array.from(back.x), Array.from(decodeLatent(bytes).x));
  }
});

Deno.test("LAT1: the server's encoder of a prediction and the labels", () => {
  const src = {
    latent: new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    latentDim: 2,
    predClass: new Uint8Array([1, 2, 3, 4, 5]),
    certainty: new Float32Array([0, 0.5, 1, 1.5, NaN]),
    labels: new Float32Array([NaN, 3, NaN, 9, 0]),
    count: 5,
  };
  const d = decodeLatent(encodeLatentSource(src, 7));
  assertEquals(d.version, 7);
  assertEquals([...d.x], [0, 2, 4, 6, 8]);
  assertEquals([...d.y], [1, 3, 5, 7, 9]);
  assertEquals([...d.predClass], [1, 2, 3, 4, 5]);
  // Certainty is clamped to [0, 1] and NaN is 0.
  assertEquals([...d.certainty], [0, 128, 255, 255, 0]);
  assertEquals([...d.userLabel], [-1, 3, -1, 9, 0]);
  // A 1-D latent plots on a line; a 3-D one shows its first two dimensions.
  const one = decodeLatent(encodeLatentSource({ ...src, latentDim: 1 }, 1));
  assertEquals([...one.x], [0, 1, 2, 3, 4]);
  assertEquals([...one.y], [0, 0, 0, 0, 0]);
});

Deno.test("LAT1: bad magic, truncated bodies and short headers are refused", () => {
  const bytes = encodeLatent(randomSnapshot(10, 1));
  const bad = bytes.slice();
  bad[0] = "X".charCodeAt(0);
  assertThrows(() => decodeLatent(bad.buffer), LatentFormatError, "magic");
  assertThrows(
    () => decodeLatent(bytes.slice(0, 16 + 50).buffer),
    LatentFormatError,
    "needs",
  );
  assertThrows(() => decodeLatent(new ArrayBuffer(3)), LatentFormatError);
});

Deno.test("PRB1: probabilities and the queue trailer round-trip (any class count)", () => {
  for (const [count, classes] of [[0, 10], [3, 10], [5, 3], [7, 12]]) {
    const rng = new Rng(count * 31 + classes);
    const rand = () => rng.uniform();
    const p = new Float32Array(count * classes);
    for (let i = 0; i < p.length; i++) p[i] = Math.round(rand() * 255) / 255;
    const order = Uint32Array.from({ length: count }, (_, i) => count - 1 - i);
    const bytes = encodeProbs(p, count, classes, 9, {
      phase: "coverage",
      order,
    });
    const back = decodeProbs(bytes.buffer as ArrayBuffer);
    assertEquals(back.version, 9);
    assertEquals([back.count, back.classes], [count, classes]);
    for (let i = 0; i < p.length; i++) {
      assert(Math.abs(back.probs[i] - p[i]) < 1e-6, `p[${i}]`);
    }
    assertEquals(Array.from(back.queue), Array.from(order));
    assertEquals(back.queuePhase, "coverage");
  }
  // Out-of-range and NaN probabilities are clamped to bytes.
  const q = decodeProbs(
    encodeProbs(new Float32Array([NaN, -1, 2, 0.5]), 1, 4, 1)
      .buffer as ArrayBuffer,
  );
  assertEquals(Array.from(q.probs).map((v) => Math.round(v * 255)), [
    0,
    0,
    255,
    128,
  ]);
  assertEquals([q.queuePhase, q.queue.length], [null, 0]);
});

Deno.test("PRB1: bad bytes are refused", () => {
  const ok = encodeProbs(new Float32Array(20), 2, 10, 1, {
    phase: "uncertainty",
    order: new Uint32Array([1]),
  });
  assertEquals(decodeProbs(ok.buffer as ArrayBuffer).queuePhase, "uncertainty");
  const bad = ok.slice();
  bad[1] = 0;
  assertThrows(
    () => decodeProbs(bad.buffer as ArrayBuffer),
    ProbsFormatError,
    "magic",
  );
  assertThrows(
    () => decodeProbs(ok.slice(0, 30).buffer as ArrayBuffer),
    ProbsFormatError,
  );
  const badIndex = encodeProbs(new Float32Array(20), 2, 10, 1, {
    phase: "coverage",
    order: new Uint32Array([2]),
  });
  assertThrows(
    () => decodeProbs(badIndex.buffer as ArrayBuffer),
    ProbsFormatError,
    "index",
  );
});

Deno.test("base64: bytes round-trip, views encode only their own bytes", () => {
  const rng = new Rng(5);
  const rand = () => rng.uniform();
  const bytes = Uint8Array.from({ length: 70_001 }, () => rand() * 256);
  assertEquals(
    Array.from(base64ToBytes(bytesToBase64(bytes))),
    Array.from(bytes),
  );
  assertEquals(bytesToBase64(new Uint8Array([1, 2, 3])), "AQID");
  assertEquals(bytesToBase64(bytes.subarray(0, 0)), "");
  const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
  assertEquals(bytesToBase64(view), "AQID");
});
