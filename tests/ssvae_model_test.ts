import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import {
  checkpointConfig,
  presetConfig,
  resolveConfig,
  type SSVAEConfig,
} from "../lib/ssvae/config.ts";
import {
  CLASS_PRIOR_RADIUS,
  classPriorCentres,
  classPriorMean,
  klPerSample,
  ssvaeLoss,
} from "../lib/ssvae/loss.ts";
import { emptyPrediction, IMAGE_SIZE, SSVAE } from "../lib/ssvae/model.ts";
import { Rng } from "../lib/ssvae/rng.ts";

await initBackend();

Deno.test("forward and predict give every output its shape", () => {
  const model = new SSVAE(resolveConfig({ latent_dim: 3 }));
  const x = tf.randomUniform(
    [5, IMAGE_SIZE],
    0,
    1,
    "float32",
    1,
  ) as tf.Tensor2D;
  const noise = {
    eps: tf.randomNormal([5, 3], 0, 1, "float32", 2) as tf.Tensor2D,
    dropoutMasks: [
      tf.ones([5, 64]) as tf.Tensor2D,
      tf.ones([5, 64]) as tf.Tensor2D,
    ],
  };
  for (const out of [model.forward(x), model.forward(x, noise)]) {
    assertEquals(out.zMean.shape, [5, 3]);
    assertEquals(out.zLogvar.shape, [5, 3]);
    assertEquals(out.recon.shape, [5, IMAGE_SIZE]);
    assertEquals(out.logits.shape, [5, 10]);
  }
  const images = new Float32Array(7 * IMAGE_SIZE).map((_, i) => (i % 13) / 13);
  const p = model.predict(images, 7, { batchSize: 3 });
  assertEquals(p.latent.length, 7 * 3);
  assertEquals(p.recon.length, 7 * IMAGE_SIZE);
  assertEquals(p.predClass.length, 7);
  assertEquals(p.certainty.length, 7);
  assertEquals(p.probs.length, 70);
  for (let i = 0; i < 7; i++) {
    const row = p.probs.subarray(i * 10, i * 10 + 10);
    assertAlmostEquals(row.reduce((a, b) => a + b, 0), 1, 1e-5);
    assertEquals(p.certainty[i], Math.max(...row));
    assertEquals(p.predClass[i], row.indexOf(Math.max(...row)));
  }
  // Batching must not change results: one batch of 7 equals batches of 3.
  const whole = model.predict(images, 7, { batchSize: 7 });
  for (let i = 0; i < p.latent.length; i++) {
    assertAlmostEquals(p.latent[i], whole.latent[i], 1e-5);
  }
  assertEquals(model.predict(images, 7, { decode: false }).recon.length, 0);
  model.dispose();
});

Deno.test("predict into an existing prediction fills its rows from the given row, with the same bits", () => {
  const model = new SSVAE(resolveConfig({ latent_dim: 3 }));
  const images = new Float32Array(7 * IMAGE_SIZE).map((_, i) => (i % 11) / 11);
  const alone = model.predict(images, 7, { batchSize: 3 });
  const out = emptyPrediction(10, 3, 64, true);
  const back = model.predict(images, 7, { batchSize: 3, into: { out, at: 2 } });
  assert(back === out);
  const rows = <T extends Float32Array | Uint8Array>(a: T, w: number) =>
    a.subarray(2 * w, 9 * w);
  assertEquals(rows(out.latent, 3), alone.latent);
  assertEquals(rows(out.features, 64), alone.features);
  assertEquals(rows(out.recon, IMAGE_SIZE), alone.recon);
  assertEquals(rows(out.probs, 10), alone.probs);
  assertEquals(rows(out.predClass, 1), alone.predClass);
  assertEquals(rows(out.certainty, 1), alone.certainty);
  // Rows outside [2, 9) are left alone.
  for (const r of [0, 1, 9]) {
    assertEquals(out.latent.subarray(r * 3, r * 3 + 3), new Float32Array(3));
    assertEquals(out.certainty[r], 0);
  }
  model.dispose();
});

Deno.test("the parameter count matches the dense architecture of the spec", () => {
  const model = new SSVAE(resolveConfig({}));
  const enc = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 64 + 64 +
    2 * (64 * 2 + 2);
  const dec = 2 * 64 + 64 + 64 * 128 + 128 + 128 * 256 + 256 + 256 * 784 + 784;
  const cls = 2 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10;
  assertEquals(model.parameterCount(), enc + dec + cls);
  model.dispose();
});

Deno.test("the same seed builds the same weights, another seed different ones", () => {
  const a = new SSVAE(resolveConfig({ random_seed: 7 }));
  const b = new SSVAE(resolveConfig({ random_seed: 7 }));
  const c = new SSVAE(resolveConfig({ random_seed: 8 }));
  const ka = a.variables()[0].dataSync() as Float32Array;
  const kb = b.variables()[0].dataSync() as Float32Array;
  const kc = c.variables()[0].dataSync() as Float32Array;
  assertEquals(ka, kb);
  assert(ka.some((v, i) => v !== kc[i]));
  // LeCun normal: variance ≈ 1/fan_in.
  const variance = ka.reduce((s, v) => s + v * v, 0) / ka.length;
  assertAlmostEquals(variance, 1 / 784, 0.1 / 784);
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("loss terms match hand-computed values on a tiny batch", () => {
  // Two samples, four "pixels" (the loss does not care about the image size).
  const x = tf.tensor2d([[0, 1, 0.5, 0], [1, 1, 0, 0]]);
  const recon = tf.tensor2d([[0.5, 1, 0.5, 0], [1, 0, 0, 1]]);
  const zMean = tf.tensor2d([[1, 0], [0, 2]]);
  const zLogvar = tf.tensor2d([[0, 0], [Math.log(2), 0]]);
  const logits = tf.tensor2d([
    [2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ]);
  // Only sample 0 is labelled, as class 0.
  const oneHot = tf.tensor2d([
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    new Array(10).fill(0),
  ]);
  const terms = ssvaeLoss(x, { zMean, zLogvar, recon, logits }, {
    oneHot,
    labelledCount: 1,
  }, {
    recon_weight: 10,
    kl_weight: 0.5,
    label_weight: 2,
  });
  // MSE: sample 0: 0.25/4, sample 1: (1 + 1)/4; batch mean = (0.0625 + 0.5) / 2.
  const mse = (0.25 / 4 + 2 / 4) / 2;
  // KL per sample: -0.5 Σ(1 + lv - m² - e^lv). s0: -0.5(1-1-1 + 1-0-1) = 0.5;
  // s1: -0.5((1 + ln2 - 0 - 2) + (1 + 0 - 4 - 1)) = -0.5(ln2 - 1 - 4).
  const kl = (0.5 + -0.5 * (Math.log(2) - 5)) / 2;
  // CE of sample 0: -log(e² / (e² + 9)).
  const ce = -Math.log(Math.exp(2) / (Math.exp(2) + 9));
  assertAlmostEquals(terms.reconstruction.dataSync()[0], 10 * mse, 1e-5);
  assertAlmostEquals(terms.kl.dataSync()[0], 0.5 * kl, 1e-5);
  assertAlmostEquals(terms.classification.dataSync()[0], ce, 1e-5);
  assertAlmostEquals(terms.weightedClassification.dataSync()[0], 2 * ce, 1e-5);
  assertAlmostEquals(
    terms.total.dataSync()[0],
    10 * mse + 0.5 * kl + 2 * ce,
    1e-4,
  );

  // No labelled sample: the classification term is exactly 0, not NaN.
  const none = ssvaeLoss(x, { zMean, zLogvar, recon, logits }, {
    oneHot: tf.zeros([2, 10]) as tf.Tensor2D,
    labelledCount: 0,
  }, { recon_weight: 10, kl_weight: 0.5, label_weight: 2 });
  assertEquals(none.classification.dataSync()[0], 0);
});

for (
  const [name, preset, soft] of [
    ["the original SSVAE", "original", false],
    [
      "the graph preset: class-mixture prior and soft graph labels",
      "graph",
      true,
    ],
  ] as const
) {
  Deno.test(`gradients match central finite differences on a tiny model: ${name}`, () => {
    const config = resolveConfig({
      hidden_dims: [6, 5],
      latent_dim: 2,
      recon_weight: 1,
      kl_weight: 0.7,
      // The preset's 100 would swamp the other terms in float32 differences.
      label_weight: 1,
    }, presetConfig(preset));
    const model = new SSVAE(config);
    const rng = new Rng(3);
    const n = 4;
    const x = tf.tensor2d(
      Float32Array.from({ length: n * IMAGE_SIZE }, () => rng.uniform()),
      [n, IMAGE_SIZE],
    );
    const noise = {
      eps: tf.tensor2d(rng.fillNormal(new Float32Array(n * 2)), [n, 2]),
      dropoutMasks: [0, 1].map(() =>
        tf.tensor2d(
          Float32Array.from(
            { length: n * 64 },
            () => (rng.uniform() < 0.2 ? 0 : 1.25),
          ),
          [n, 64],
        )
      ),
    };
    // Two labelled rows; with `soft`, a third row carries soft graph labels
    // (weight 0.5) that pull its z toward a mix of two class centres.
    const rowsOf = [
      [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
      soft ? [0.3, 0, 0, 0, 0, 0, 0, 0, 0.2, 0] : new Array(10).fill(0),
      new Array(10).fill(0),
    ];
    const oneHot = tf.tensor2d(rowsOf) as tf.Tensor2D;
    const labels = { oneHot, labelledCount: soft ? 2.5 : 2 };
    const lossOf = () =>
      ssvaeLoss(x, model.forward(x, noise), labels, config).total;
    const vars = model.variables();
    const { grads } = tf.variableGrads(lossOf, vars);
    let checked = 0, strongest = 0;
    for (const v of vars) {
      const g = grads[v.name].dataSync() as Float32Array;
      const values = Float32Array.from(v.dataSync());
      // A few entries of every tensor, the largest-gradient one included.
      const largest = g.reduce(
        (best, x, i) => (Math.abs(x) > Math.abs(g[best]) ? i : best),
        0,
      );
      const picks = [...new Set([0, values.length - 1, largest])];
      for (const i of picks) {
        const h = 1e-2;
        const at = (delta: number) => {
          const moved = values.slice();
          moved[i] += delta;
          v.assign(tf.tensor(moved, v.shape));
          return tf.tidy(() => lossOf().dataSync()[0]);
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.tensor(values, v.shape));
        const tol = 2e-3 + 2e-2 * Math.abs(numeric);
        assert(
          Math.abs(numeric - g[i]) <= tol,
          `${v.name}[${i}]: analytic ${g[i]} vs numeric ${numeric}`,
        );
        checked++;
        strongest = Math.max(strongest, Math.abs(g[i]));
      }
    }
    assert(checked >= vars.length * 2);
    // Every tensor's largest entry really was compared, and it is not vanishingly small.
    assert(strongest > 1e-2, `largest gradient checked: ${strongest}`);
    model.dispose();
  });
}

Deno.test("class-mixture prior: KL to the label's centre, soft rows to the weighted mean", () => {
  const L = 2;
  const centres = classPriorCentres(L);
  // Class 0 at (R, 0), class 5 at (−R, 0).
  assertAlmostEquals(centres[0], CLASS_PRIOR_RADIUS, 1e-6);
  assertAlmostEquals(centres[5 * L], -CLASS_PRIOR_RADIUS, 1e-5);
  const targets = tf.tensor2d([
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0.25, 0, 0, 0, 0, 0.25, 0, 0, 0, 0], // half 0, half 5: the origin
    new Array(10).fill(0), // unlabelled: prior mean 0, as N(0, I)
  ]) as tf.Tensor2D;
  const mean = classPriorMean(targets, L).arraySync();
  assertAlmostEquals(mean[0][0], CLASS_PRIOR_RADIUS, 1e-5);
  assertAlmostEquals(mean[1][0], 0, 1e-5);
  assertEquals(mean[2], [0, 0]);
  // KL(N(m, e^lv) ‖ N(μ, I)) = ½ Σ (e^lv + (m − μ)² − 1 − lv), by hand.
  const m = tf.tensor2d([[3, 1], [0, 0], [1, 2]]) as tf.Tensor2D;
  const lv = tf.tensor2d([[0, Math.log(2)], [0, 0], [0, 0]]) as tf.Tensor2D;
  const kl = klPerSample(m, lv, classPriorMean(targets, L)).arraySync();
  const R = CLASS_PRIOR_RADIUS;
  assertAlmostEquals(
    kl[0],
    0.5 * ((3 - R) ** 2 + (2 + 1 - 1 - Math.log(2))),
    1e-4,
  );
  assertAlmostEquals(kl[1], 0, 1e-6);
  assertAlmostEquals(kl[2], 0.5 * (1 + 4), 1e-5);
});

Deno.test("a checkpoint written before the presets loads as the original SSVAE", () => {
  const stored: Partial<SSVAEConfig> = { ...presetConfig("original") };
  delete stored.classifier_input;
  delete stored.prior;
  delete stored.pseudo_label_weight;
  assertEquals(checkpointConfig(stored), presetConfig("original"));
  // A new checkpoint keeps what it says.
  assertEquals(checkpointConfig(presetConfig("graph")), presetConfig("graph"));
  assertEquals(presetConfig("graph").prior, "class_mixture");
});
