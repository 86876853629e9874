import * as tf from "@tensorflow/tfjs";
import { assertAlmostEquals, assertEquals } from "./assert.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { AdamW, BETA1, BETA2, EPSILON } from "../lib/training/adamw.ts";

await initBackend();

Deno.test("AdamW: clipping, bias correction, and decay on kernels only, by hand", () => {
  const kernel = tf.variable(
    tf.tensor2d([[1], [2]]),
    true,
    "adamw_test/kernel",
  );
  const bias = tf.variable(tf.tensor1d([0.5]), true, "adamw_test/bias");
  const opt = new AdamW([kernel, bias], [true, false]);
  const settings = { learningRate: 0.1, weightDecay: 0.5, gradClipNorm: 1 };

  // Step 1: gradient norm sqrt(9 + 16 + 144) = 13 > 1, so g is scaled by 1/13.
  // Bias-corrected m̂ = g, v̂ = g², so the Adam direction is g/|g| = +1 for each
  // entry (up to ε), and p ← p − lr·(1 + wd·p) for kernels, p − lr·1 for biases.
  const norm = opt.apply(
    [Float32Array.of(3, 4), Float32Array.of(12)],
    settings,
  );
  assertAlmostEquals(norm, 13, 1e-5);
  assertAlmostEquals(kernel.dataSync()[0], 1 - 0.1 * (1 + 0.5 * 1), 1e-6); // 0.85
  assertAlmostEquals(kernel.dataSync()[1], 2 - 0.1 * (1 + 0.5 * 2), 1e-6); // 1.8
  assertAlmostEquals(bias.dataSync()[0], 0.5 - 0.1, 1e-6); // no decay on biases
  assertEquals(opt.step, 1);

  // Step 2: norm 5 > 1, scale 0.2 → g = (0.6, −0.8), bias gradient 0.
  const g1 = [3 / 13, 4 / 13, 12 / 13];
  const g2 = [0.6, -0.8, 0];
  const m = g1.map((g, i) => BETA1 * (1 - BETA1) * g + (1 - BETA1) * g2[i]);
  const v = g1.map((g, i) =>
    BETA2 * (1 - BETA2) * g * g + (1 - BETA2) * g2[i] ** 2
  );
  const bc1 = 1 - BETA1 ** 2, bc2 = 1 - BETA2 ** 2;
  const dir = m.map((mi, i) => (mi / bc1) / (Math.sqrt(v[i] / bc2) + EPSILON));
  const p1 = [0.85, 1.8, 0.4];
  const expected = [
    p1[0] - 0.1 * (dir[0] + 0.5 * p1[0]),
    p1[1] - 0.1 * (dir[1] + 0.5 * p1[1]),
    p1[2] - 0.1 * dir[2],
  ];
  assertAlmostEquals(
    opt.apply([Float32Array.of(3, -4), Float32Array.of(0)], settings),
    5,
    1e-5,
  );
  assertAlmostEquals(kernel.dataSync()[0], expected[0], 1e-5);
  assertAlmostEquals(kernel.dataSync()[1], expected[1], 1e-5);
  assertAlmostEquals(bias.dataSync()[0], expected[2], 1e-5);
  assertAlmostEquals(opt.m[0][1], m[1], 1e-6);
  assertAlmostEquals(opt.v[1][0], v[2], 1e-8);

  // With gradClipNorm null a large gradient (norm 100) enters the moments unscaled.
  const mBefore = opt.m[0][0];
  opt.apply([Float32Array.of(60, 80), Float32Array.of(0)], {
    ...settings,
    gradClipNorm: null,
  });
  assertAlmostEquals(opt.m[0][0], BETA1 * mBefore + (1 - BETA1) * 60, 1e-4);
  assertEquals(opt.step, 3);
  tf.dispose([kernel, bias]);
});

Deno.test("AdamW: a second shard's gradients are added before the update", () => {
  const a = tf.variable(tf.tensor1d([1, 1]), true, "adamw_sum/a");
  const b = tf.variable(tf.tensor1d([1, 1]), true, "adamw_sum/b");
  const split = new AdamW([a], [false]), whole = new AdamW([b], [false]);
  const s = { learningRate: 0.01, weightDecay: 0, gradClipNorm: 1 };
  const n1 = split.apply([Float32Array.of(0.3, 0.1)], s, [
    Float32Array.of(0.5, -0.4),
  ]);
  const n2 = whole.apply([Float32Array.of(0.8, -0.3)], s);
  assertAlmostEquals(n1, n2, 1e-6);
  assertEquals(a.dataSync(), b.dataSync());
  tf.dispose([a, b]);
});
