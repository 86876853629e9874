import {
  decodeLatent,
  latentByteLength,
  LatentFormatError,
  leastCertainUnlabelled,
  withLabels,
} from "../lib/client/latent.ts";
import { encodeLatent } from "../lib/server/latent_snapshot.ts";
import { assert, assertEquals } from "./assert.ts";

function sample(n: number) {
  const latent = new Float32Array(2 * n);
  const predClass = new Uint8Array(n);
  const certainty = new Float32Array(n);
  const labels = new Float32Array(n).fill(NaN);
  for (let i = 0; i < n; i++) {
    latent[2 * i] = i * 0.5 - 1;
    latent[2 * i + 1] = -i * 0.25;
    predClass[i] = i % 10;
    certainty[i] = (i % 7) / 6;
  }
  labels[1] = 3;
  labels[n - 1] = 9;
  return { latent, latentDim: 2, predClass, certainty, labels, count: n };
}

Deno.test("decodeLatent reads what the server's encoder writes", () => {
  for (const n of [0, 1, 3, 4, 5, 1001]) {
    const src = sample(n);
    const bytes = encodeLatent(src, 7);
    assertEquals(bytes.byteLength, latentByteLength(n), `length n=${n}`);
    const buf = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength,
    ) as ArrayBuffer;
    const s = decodeLatent(buf);
    assertEquals(s.version, 7);
    assertEquals(s.count, n);
    for (let i = 0; i < n; i++) {
      assertEquals(s.x[i], src.latent[2 * i]);
      assertEquals(s.y[i], src.latent[2 * i + 1]);
      assertEquals(s.predClass[i], src.predClass[i]);
      assertEquals(s.certainty[i], Math.round(src.certainty[i] * 255));
      assertEquals(
        s.userLabel[i],
        Number.isNaN(src.labels[i]) ? -1 : src.labels[i],
      );
    }
    // Zero-copy views on the response buffer.
    if (n > 0) assert(s.x.buffer === buf && s.userLabel.buffer === buf);
  }
});

Deno.test("decodeLatent rejects bad magic and truncated bodies", () => {
  const bytes = encodeLatent(sample(10), 1);
  const bad = bytes.slice();
  bad[0] = "X".charCodeAt(0);
  let err: unknown;
  try {
    decodeLatent(bad.buffer);
  } catch (e) {
    err = e;
  }
  assert(err instanceof LatentFormatError && /magic/.test(err.message));
  err = undefined;
  try {
    decodeLatent(bytes.slice(0, 16 + 50).buffer);
  } catch (e) {
    err = e;
  }
  assert(err instanceof LatentFormatError && /needs/.test(err.message));
  err = undefined;
  try {
    decodeLatent(new ArrayBuffer(3));
  } catch (e) {
    err = e;
  }
  assert(err instanceof LatentFormatError);
});

Deno.test("withLabels copies the label column only when something changes", () => {
  const s = decodeLatent(encodeLatent(sample(6), 2).buffer as ArrayBuffer);
  const same = withLabels(s, [{ index: 1, label: 3 }]);
  assert(same === s, "no-op change keeps the snapshot");
  const t = withLabels(s, [
    { index: 0, label: 5 },
    { index: 1, label: null },
    { index: 99, label: 1 },
  ]);
  assert(t !== s && t.userLabel !== s.userLabel && t.x === s.x);
  assertEquals(Array.from(t.userLabel), [5, -1, -1, -1, -1, 9]);
  assertEquals(Array.from(s.userLabel), [-1, 3, -1, -1, -1, 9]);
});

Deno.test("leastCertainUnlabelled skips labelled points and the excluded one", () => {
  const s = decodeLatent(encodeLatent(sample(14), 2).buffer as ArrayBuffer);
  // certainty = (i % 7) / 6: zeros at 0 and 7.
  assertEquals(leastCertainUnlabelled(s), 0);
  assertEquals(leastCertainUnlabelled(s, 0), 7);
  const all = withLabels(
    s,
    Array.from({ length: 14 }, (_, i) => ({ index: i, label: 1 })),
  );
  assertEquals(leastCertainUnlabelled(all), -1);
});
