/**
 * The label graph's feature spaces (HOG, the choice on the validation
 * images) and class-balanced spreading: a batch of one class must not flood
 * the graph.
 */
import { assert, assertEquals } from "./assert.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { loadTestRaw, loadTrainRaw } from "../lib/data/mnist.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import {
  chooseFeatures,
  DEFAULT_FEATURES,
  featureRows,
  MIN_CHOICE_IMAGES,
  pooledPixels,
} from "../lib/graph/features.ts";
import { HOG_BINS, hogFeatures, hogLength } from "../lib/graph/hog.ts";
import {
  buildGraph,
  classWeights,
  spreadLabels,
} from "../lib/graph/label_spreading.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { knn } from "../lib/graph/knn.ts";
import { fitPca, projectPca } from "../lib/graph/pca.ts";
import { makeSplit } from "../lib/training/split.ts";
import { calibrationError } from "../lib/active/calibration.ts";
import { withTempDir } from "../support/temp_dir.ts";

await initBackend();

Deno.test("HOG: a vertical edge fills the horizontal-gradient bin wherever it sits; blocks are unit length", () => {
  const rows = 16, cols = 16, cell = 4;
  const shape = { rows, cols, cell };
  const len = hogLength(shape);
  assertEquals(len, 3 * 3 * 4 * HOG_BINS);
  // Two images: a dark-to-bright vertical edge at column 5 and at column 9.
  const raw = new Uint8Array(2 * rows * cols);
  for (const [m, at] of [[0, 5], [1, 9]]) {
    for (let y = 0; y < rows; y++) {
      for (let x = at; x < cols; x++) raw[m * rows * cols + y * cols + x] = 200;
    }
  }
  const f = hogFeatures(raw, 0, 2, shape);
  for (let m = 0; m < 2; m++) {
    // Sum every block's bins: a gradient along x (0°) lands in the bins
    // either side of 0°, i.e. bin 0 and bin 8; nothing else.
    const bins = new Float64Array(HOG_BINS);
    for (let i = 0; i < len; i++) bins[i % HOG_BINS] += f[m * len + i];
    const edge = bins[0] + bins[HOG_BINS - 1];
    const total = bins.reduce((a, b) => a + b, 0);
    assert(edge / total > 0.999, `edge bins ${edge} of ${total}`);
    // Every block with any gradient has unit L2 norm.
    for (let b = 0; b < len; b += 4 * HOG_BINS) {
      let s = 0;
      for (let j = 0; j < 4 * HOG_BINS; j++) s += f[m * len + b + j] ** 2;
      assert(s < 1e-9 || Math.abs(s - 1) < 1e-4, `block norm² ${s}`);
    }
  }
  // A blank image has all-zero features (no NaN from the normalisation).
  const blank = hogFeatures(new Uint8Array(rows * cols), 0, 1, shape);
  assert(blank.every((v) => v === 0));
});

Deno.test("pooled pixels: block means per channel, smaller edge blocks, rows picked in order", () => {
  // Two 5 × 5 two-channel images: channel 0 = 10·x, channel 1 = 255.
  const img = (add: number) =>
    Array.from({ length: 25 }, (_, p) => [10 * (p % 5) + add, 255]).flat();
  const raw = Uint8Array.from([...img(0), ...img(1)]);
  const images = { raw, count: 2, rows: 5, cols: 5, channels: 2 };
  // Side 2: blocks of 3 × 3 (f = 3), the last row and column of blocks 2 wide.
  const { rows, dim } = pooledPixels(images, 2, [1, 0]);
  assertEquals(dim, 2 * 2 * 2);
  const out = (rows as (s: number, c: number) => Float32Array)(0, 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length / 255;
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  // Row 0 is image 1 (add 1): block (0,0) covers x 0..2, block (0,1) x 3..4.
  assert(near(out[0], mean([1, 11, 21])), `${out[0]}`);
  assert(near(out[1], 1));
  assert(near(out[2], mean([31, 41])), `${out[2]}`);
  assert(near(out[8], mean([0, 10, 20])), `${out[8]}`);
  // A side the images already fit: the plain pixels / 255.
  const plain = pooledPixels(images, 5);
  assertEquals(plain.dim, 50);
  const p = (plain.rows as (s: number, c: number) => Float32Array)(1, 1);
  assert(near(p[2], 11 / 255));
});

Deno.test("class weights: balanced labels weigh 1; a class labelled 100 times weighs 1/100 of a class labelled once", () => {
  const labels = new Float32Array(12).fill(NaN);
  labels[0] = 0;
  labels[1] = 1;
  assertEquals([...classWeights(labels, 3)], [1, 1, 1]);
  const many = new Float32Array(202).fill(NaN);
  many[0] = 0;
  for (let i = 1; i <= 100; i++) many[i] = 1;
  const w = classWeights(many, 3);
  assert(Math.abs(w[0] / w[1] - 100) < 1e-3, `weights ${w}`);
  // The labels' total mass is unchanged: 1 + 100 labels weigh 101.
  assert(Math.abs(w[0] + 100 * w[1] - 101) < 1e-3);
});

/** MNIST's first `n` images in deskewed pixels: the graph and its validation split. */
async function mnistGraph(n: number) {
  const train = await loadTrainRaw({ limit: n });
  const images = { ...train, count: n };
  const { rows, dim } = featureRows("deskewed pixels", images);
  const pca = fitPca(rows, n, dim, 50, 0);
  const z = projectPca(pca, rows, n);
  const graph = buildGraph(knn(z, n, 50, z, n, 10, { excludeSelf: true }));
  const split = makeSplit(n, 0.2, 1);
  return { train, graph, split };
}

function accuracyOn(
  f: Float32Array,
  truth: Uint8Array,
  keep: (i: number) => boolean,
): number {
  let right = 0, total = 0;
  for (let i = 0; i < truth.length; i++) {
    if (!keep(i)) continue;
    let best = 0;
    for (let c = 1; c < 10; c++) if (f[i * 10 + c] > f[i * 10 + best]) best = c;
    total++;
    if (best === truth[i]) right++;
  }
  return right / total;
}

Deno.test("balanced spreading: a batch of every true 1 leaves the other classes' predictions as they were (plain spreading floods them)", async () => {
  const n = 4000;
  const { train, graph, split } = await mnistGraph(n);
  for (const cls of [1, 0]) {
    const labels = labelsPerClass(train.labels, 2, 3, split.train);
    const others = (i: number) =>
      split.val.includes(i) && train.labels[i] !== cls;
    const before = accuracyOn(
      spreadLabels(graph, labels, { balance: true }),
      train.labels,
      others,
    );
    // The batch: every training image of the class.
    for (const i of split.train) if (train.labels[i] === cls) labels[i] = cls;
    const balanced = accuracyOn(
      spreadLabels(graph, labels, { balance: true }),
      train.labels,
      others,
    );
    const plain = accuracyOn(spreadLabels(graph, labels), train.labels, others);
    assert(before > 0.75, `class ${cls}: before the batch ${before}`);
    assert(
      balanced > before - 0.03,
      `class ${cls}: balanced ${balanced} against ${before} before`,
    );
    assert(plain < before - 0.2, `class ${cls}: plain spreading ${plain}`);
  }
});

Deno.test("LabelGraph.propagate is balanced: a flooding class does not take over the graph", async () => {
  const n = 3000;
  const train = await loadTrainRaw({ limit: n });
  const g = LabelGraph.build(train.raw, n, 784, {
    seed: 1,
    features: "deskewed pixels",
    shape: train,
  });
  const labels = labelsPerClass(train.labels, 2, 4);
  const rightOthers = (pred: Uint8Array) => {
    let right = 0, total = 0;
    for (let i = 0; i < n; i++) {
      if (train.labels[i] === 1 || !Number.isNaN(labels[i])) continue;
      total++;
      if (pred[i] === train.labels[i]) right++;
    }
    return right / total;
  };
  const before = rightOthers(g.propagate(labels).predClass);
  const flooded = labels.slice();
  for (let i = 0; i < n; i++) if (train.labels[i] === 1) flooded[i] = 1;
  const after = rightOthers(g.propagate(flooded).predClass);
  assert(after > before - 0.03, `others right: ${before} → ${after}`);
});

Deno.test("feature choice: every candidate scored on the validation images, the best taken; no ground truth takes the default", async () => {
  const n = 3000;
  const train = await loadTrainRaw({ limit: n });
  const val = makeSplit(n, 0.2, 1).val;
  const c = chooseFeatures(train, val, train.labels);
  assertEquals(
    c.candidates.map((s) => s.kind),
    ["pixels", "deskewed pixels", "hog", "deskewed hog"],
  );
  assertEquals(c.scoredOn, val.length);
  const best = Math.max(...c.candidates.map((s) => s.accuracy!));
  assertEquals(c.accuracy, best);
  // On MNIST digits, deskewing helps nearest neighbours (LeCun et al.).
  const score = (k: string) =>
    c.candidates.find((s) => s.kind === k)!.accuracy!;
  assert(score("deskewed pixels") > score("pixels"), JSON.stringify(c));
  assert(c.accuracy! > 0.85, JSON.stringify(c));
  // Colour images have no deskewed candidates.
  const rgb = {
    raw: new Uint8Array(300 * 4 * 4 * 3),
    count: 300,
    rows: 4,
    cols: 4,
    channels: 3,
  };
  const none = chooseFeatures(rgb, [], new Uint8Array(300).fill(255));
  assertEquals(none.kind, DEFAULT_FEATURES);
  assertEquals(none.accuracy, null);
  assertEquals(none.candidates.map((s) => s.kind), ["pixels", "hog"]);
  // Too few validation images with a class: the default, not a coin toss.
  const few = chooseFeatures(
    train,
    val.subarray(0, MIN_CHOICE_IMAGES - 1),
    train.labels,
  );
  assertEquals(few.scoredOn, 0);
});

Deno.test("loadOrBuild: the feature choice and the graph are cached; the second start reads both", async () => {
  await withTempDir("graph-features-", async (dir) => {
    const n = 1500;
    const train = await loadTrainRaw({ limit: n });
    const val = makeSplit(n, 0.2, 1).val;
    const steps: string[] = [];
    const test = await loadTestRaw({ limit: 1000 });
    const opts = {
      // Whole image sets, as the worker passes them: only their shape counts.
      shape: train,
      test: { raw: test.raw, count: test.count },
      validation: val,
      truth: train.labels,
      progress: (s: string) => steps.push(s),
    };
    const a = await LabelGraph.loadOrBuild(train.raw, n, 784, dir, opts);
    assert(
      steps.some((s) => s.startsWith("choosing the features")),
      steps.join("; "),
    );
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(files.length, 2, files.join(", "));
    steps.length = 0;
    const b = await LabelGraph.loadOrBuild(train.raw, n, 784, dir, opts);
    assertEquals(steps, [], "nothing rebuilt");
    // The test images sit among their own nearest training images: a vote
    // of the true training classes scores most of them right.
    const vote = b.graph.classifyTest(train.labels)!;
    let right = 0;
    for (let i = 0; i < test.count; i++) {
      if (vote[i] === test.labels[i]) right++;
    }
    assert(right / test.count > 0.85, `test 10-NN vote ${right / test.count}`);
    assertEquals(b.features, a.features);
    const labels = labelsPerClass(train.labels, 2, 1);
    assertEquals(
      [...b.graph.propagate(labels).predClass],
      [...a.graph.propagate(labels).predClass],
    );
  });
});

Deno.test("calibration error: 0 when the certainty is the accuracy, the gap when it is not", () => {
  const n = 1000;
  const truth = new Uint8Array(n);
  const pred = new Uint8Array(n);
  // 70% right, all shown at 0.75 (one bin): the gap is 0.05.
  for (let i = 0; i < n; i++) pred[i] = i % 10 < 7 ? 0 : 1;
  const mask = new Uint8Array(n).fill(1);
  const e = calibrationError(
    new Float32Array(n).fill(0.75),
    pred,
    truth,
    mask,
  );
  assert(Math.abs(e - 0.05) < 1e-6, `ece ${e}`);
  assertEquals(
    calibrationError(new Float32Array(n).fill(0.7), pred, truth, mask) < 1e-6,
    true,
  );
});
