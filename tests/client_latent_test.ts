import { leastCertainUnlabelled, withLabels } from "../lib/client/latent.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import { encodeLatentSource } from "../lib/server/latent_cache.ts";
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

Deno.test("withLabels copies the label column only when something changes", () => {
  const s = decodeLatent(
    encodeLatentSource(sample(6), 2).buffer as ArrayBuffer,
  );
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
  const s = decodeLatent(
    encodeLatentSource(sample(14), 2).buffer as ArrayBuffer,
  );
  // certainty = (i % 7) / 6: zeros at 0 and 7.
  assertEquals(leastCertainUnlabelled(s), 0);
  assertEquals(leastCertainUnlabelled(s, 0), 7);
  const all = withLabels(
    s,
    Array.from({ length: 14 }, (_, i) => ({ index: i, label: 1 })),
  );
  assertEquals(leastCertainUnlabelled(all), -1);
});
