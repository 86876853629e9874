/**
 * The label graph's self-check (lib/graph/self_check.ts): the interval, the
 * calibration fit, the fallback before a check, and cross-validation over a
 * real graph of real MNIST images, with true and with corrupted labels.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import {
  calibratedCertainty,
  checkLabels,
  fallbackCalibration,
  fitCalibration,
  wilsonInterval,
} from "../lib/graph/self_check.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { Rng } from "../lib/ssvae/rng.ts";

Deno.test("wilsonInterval: the textbook values, and [0, 1] with nothing scored", () => {
  const [lo, hi] = wilsonInterval(8, 10);
  assertAlmostEquals(lo, 0.4902, 1e-3);
  assertAlmostEquals(hi, 0.9433, 1e-3);
  assertEquals(wilsonInterval(0, 0), [0, 1]);
  const [l1, h1] = wilsonInterval(100, 100);
  assert(l1 > 0.96 && h1 > 0.9999, `${l1} ${h1}`);
});

Deno.test("fallback: one label of ten classes reads 19%, not 100%", () => {
  const labels = new Float32Array(3).fill(NaN);
  labels[0] = 2;
  const cal = fallbackCalibration(labels, 10);
  assertEquals(cal, { temperature: 1, floor: 0.9 });
  const probs = new Float32Array(30);
  for (let i = 0; i < 3; i++) probs[i * 10 + 2] = 1;
  const c = calibratedCertainty(probs, labels, 10, cal);
  assertEquals(c[0], 1, "the labelled image is certain");
  assertAlmostEquals(c[1], 0.19, 1e-6);
  // All ten classes seen: no floor.
  assertEquals(
    fallbackCalibration(Float32Array.from({ length: 10 }, (_, i) => i), 10)
      .floor,
    0,
  );
});

Deno.test("fitCalibration sharpens under-confident rows and flattens over-confident ones", () => {
  const rng = new Rng(3);
  const m = 400, C = 4;
  // The argmax reads 40% and is right 90% of the time: too shy.
  const shy = new Float32Array(m * C), shyTruth = new Uint8Array(m);
  // The argmax reads 99% and is right 50% of the time: too bold.
  const bold = new Float32Array(m * C), boldTruth = new Uint8Array(m);
  for (let j = 0; j < m; j++) {
    for (let c = 0; c < C; c++) {
      shy[j * C + c] = c === 0 ? 0.4 : 0.2;
      bold[j * C + c] = c === 0 ? 0.99 : 0.01 / 3;
    }
    shyTruth[j] = rng.uniform() < 0.9 ? 0 : 1 + (j % 3);
    boldTruth[j] = rng.uniform() < 0.5 ? 0 : 1 + (j % 3);
  }
  const mean = (p: Float32Array, cal: ReturnType<typeof fitCalibration>) => {
    const c = calibratedCertainty(p, new Float32Array(m).fill(NaN), C, cal);
    return c.reduce((s, v) => s + v, 0) / m;
  };
  const s = fitCalibration(shy, shyTruth, C);
  assert(s.temperature < 1, `shy: T ${s.temperature}`);
  assertAlmostEquals(mean(shy, s), 0.9, 0.03);
  const b = fitCalibration(bold, boldTruth, C);
  assertAlmostEquals(mean(bold, b), 0.5, 0.05);
});

Deno.test({
  name:
    "checkLabels on an MNIST graph: true labels check out, flipped ones do not",
  async fn() {
    await initBackend();
    const n = 2000;
    const data = await loadTrainImages({ limit: n });
    const g = LabelGraph.build(data.raw, n, 784, { features: "pixels" });
    const prop = (l: Float32Array) => g.propagate(l).probs;
    // 10 labels of each class, the first found.
    const labels = new Float32Array(n).fill(NaN);
    const per = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      if (per[data.labels[i]] < 10) {
        labels[i] = data.labels[i];
        per[data.labels[i]]++;
      }
    }
    const full = prop(labels);
    const good = (await checkLabels(prop, labels, full, 10))!;
    assertEquals(good.labelled, 100);
    assertEquals(good.scored, 100);
    assertEquals(good.folds, 5);
    assert(good.heldOut > 0.8, `held out ${good.heldOut}`);
    assert(good.low <= good.accuracy && good.accuracy <= good.high);
    // The estimate is the unlabelled images' mean calibrated certainty:
    // near the graph's real accuracy on them.
    const pred = g.propagate(labels).predClass;
    let right = 0, count = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(labels[i])) {
        count++;
        if (pred[i] === data.labels[i]) right++;
      }
    }
    assertAlmostEquals(good.accuracy, right / count, 0.06);

    // A third of the labels wrong: the held-out share says so.
    const rng = new Rng(5);
    const bad = labels.slice();
    for (let i = 0; i < n; i++) {
      if (!Number.isNaN(bad[i]) && rng.uniform() < 1 / 3) {
        bad[i] = (bad[i] + 1 + Math.floor(rng.uniform() * 9)) % 10;
      }
    }
    const worse = (await checkLabels(prop, bad, prop(bad), 10))!;
    assert(
      worse.heldOut < good.heldOut - 0.2,
      `${worse.heldOut} vs ${good.heldOut}`,
    );

    // Given up between folds (the worker took newer labels): null.
    let folds = 0;
    const stopped = await checkLabels(prop, labels, full, 10, {
      between: () => ++folds < 3,
    });
    assertEquals(stopped, null);
    assertEquals(folds, 3);
    // Too few to check: one label per class has nothing to hold out.
    const one = new Float32Array(n).fill(NaN);
    for (let c = 0; c < 10; c++) one[data.labels.indexOf(c)] = c;
    assertEquals(await checkLabels(prop, one, prop(one), 10), null);
  },
});
