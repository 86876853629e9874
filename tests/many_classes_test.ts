/**
 * Data sets of more than ten classes: the model's classifier, training, the
 * checkpoint, the label graph, the strategies, the accuracy, the
 * probabilities' wire format, and the page's helpers (keys, picker filter,
 * colours) with 12 classes; and ten classes unchanged.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import {
  ConfigError,
  modelClassCount,
  resolveConfig,
  type SSVAEConfig,
} from "../lib/ssvae/config.ts";
import {
  CLASS_PRIOR_RADIUS,
  classPriorCentres,
  classPriorRadius,
} from "../lib/ssvae/loss.ts";
import { denseLayerSpecs, SSVAE } from "../lib/ssvae/model.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";
import {
  CheckpointError,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../lib/training/checkpoint.ts";
import { accuracyOf } from "../lib/training/accuracy.ts";
import { restrictClasses } from "../lib/training/restrict_classes.ts";
import { gatherRows } from "../lib/training/batches.ts";
import { knn } from "../lib/graph/knn.ts";
import {
  buildGraph,
  spreadLabels,
  spreadProbabilities,
  voteOfNeighbours,
} from "../lib/graph/label_spreading.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { acquisitionScores } from "../lib/active/strategies.ts";
import { uncertaintyOrder } from "../lib/active/coverage.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { ProbsCache } from "../lib/server/probs_cache.ts";
import { rankAll } from "../lib/client/suggestions.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import {
  classForKey,
  dataset,
  filterClasses,
  keyForClass,
  labelKeys,
  MNIST_VIEW,
  needsClassPicker,
  setDataset,
} from "../lib/client/dataset.ts";
import { CLASS_COLORS, SELECTION_COLOR } from "../lib/client/palette.ts";
import { hexRgb } from "../lib/client/point_colors.ts";
import { dispatchKey, KEY_ACTIONS } from "../lib/client/key_actions.ts";
import { createStore } from "../lib/client/store.ts";
import { MAX_CLASSES } from "../lib/protocol/limits.ts";
import { validateClasses } from "../lib/images/classes.ts";

await initBackend();

const K = 12;
const NAMES = [
  "bag",
  "eight",
  "five",
  "four",
  "nine",
  "one",
  "seven",
  "six",
  "sneaker",
  "three",
  "two",
  "zero",
];

/** `per` points around each of `k` well separated centres in `dim` dimensions. */
function clusters(k: number, per: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const n = k * per;
  const data = new Float32Array(n * dim);
  const truth = new Uint8Array(n);
  for (let c = 0; c < k; c++) {
    const centre = Array.from({ length: dim }, () => 10 * rng.normal());
    for (let p = 0; p < per; p++) {
      const i = c * per + p;
      truth[i] = c;
      for (let j = 0; j < dim; j++) {
        data[i * dim + j] = centre[j] + rng.normal();
      }
    }
  }
  return { n, data, truth };
}

/** Asserts that `fn` throws an `errorClass` (its message including `includes`). */
async function assertThrows(
  fn: () => unknown,
  errorClass: new (...args: never[]) => Error,
  includes?: string,
) {
  await assertRejects(async () => await fn(), errorClass, includes);
}

Deno.test("the model's class count: 10 up to ten classes, one per class beyond, 2-100", async () => {
  assertEquals([1, 4, 10, 11, 12, 100].map(modelClassCount), [
    10,
    10,
    10,
    11,
    12,
    100,
  ]);
  assertEquals(resolveConfig().num_classes, 10);
  await assertThrows(() => resolveConfig({ num_classes: 1 }), ConfigError);
  await assertThrows(() => resolveConfig({ num_classes: 101 }), ConfigError);
  await assertThrows(() => resolveConfig({ num_classes: 12.5 }), ConfigError);
  // The folder classes stop at MAX_CLASSES, named in the error.
  validateClasses(NAMES, "test");
  const many = Array.from({ length: MAX_CLASSES + 1 }, (_, i) => `c${i}`);
  await assertThrows(
    () => validateClasses(many, "test"),
    Error,
    `at most ${MAX_CLASSES}`,
  );
  validateClasses(many.slice(0, MAX_CLASSES), "test");
});

Deno.test("class-mixture prior: ten centres as before, more on a wider circle", () => {
  assertEquals(classPriorRadius(10), CLASS_PRIOR_RADIUS);
  const ten = classPriorCentres(2);
  assertEquals(ten.length, 20);
  assertEquals(classPriorCentres(2, 10), ten);
  const c = classPriorCentres(2, K);
  assertEquals(c.length, 2 * K);
  // Neighbouring centres stay as far apart as ten classes' are.
  const gap = (a: Float32Array) => Math.hypot(a[2] - a[0], a[3] - a[1]);
  assert(Math.abs(gap(c) - gap(ten)) < 1e-4, `${gap(c)} vs ${gap(ten)}`);
});

Deno.test("a 12-class model: outputs, training with soft labels, checkpoint", async () => {
  const data = await loadTrainImages({ limit: 360 });
  const n = data.count;
  // Classes 10 and 11 stand for two extra classes (a tenth of the images each).
  const truth = Uint8Array.from(
    data.labels,
    (l, i) => i % 10 === 0 ? 10 + (i % 20 === 0 ? 1 : 0) : l,
  );
  const labels = labelsPerClass(truth, 3, 5);
  let labelled = 0;
  for (const l of labels) if (!Number.isNaN(l)) labelled++;
  assertEquals(labelled, 3 * K, "3 labels of each of the 12 classes");
  const config = resolveConfig({
    num_classes: K,
    hidden_dims: [32, 16],
    batch_size: 64,
  });
  assertEquals(denseLayerSpecs(config).at(-1)!.outDim, K);
  // Soft targets of the right width train the unlabelled rows.
  const targets = new Float32Array(n * K).fill(1 / K);
  const rows = gatherRows(
    data.images,
    labels,
    [0, 1],
    { targets, weight: 1 },
    undefined,
    K,
  );
  assertEquals(rows.oneHot.length, 2 * K);
  const trainer = new InteractiveTrainer(new SSVAE(config), { threads: 1 });
  const dir = await Deno.makeTempDir({ prefix: "ssvae-12-" });
  try {
    await trainer.trainEpochs(2, data.images, labels, { targets });
    assert(trainer.history.every((h) => Number.isFinite(h.train.loss)));
    // Targets of another width are refused by name.
    await assertRejects(
      () =>
        trainer.trainEpochs(1, data.images, labels, {
          targets: new Float32Array(n * 10),
        }),
      Error,
      "rows of 12 classes",
    );
    const p = trainer.model.predict(data.images, n);
    assertEquals(p.probs.length, n * K);
    for (let i = 0; i < n; i += 37) {
      const row = p.probs.subarray(i * K, (i + 1) * K);
      assert(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assertEquals(p.predClass[i], row.indexOf(Math.max(...row)));
    }
    // Scored over all 12 classes.
    const acc = accuracyOf(p.predClass, truth, K);
    assertEquals(acc.confusion.length, K);
    assertEquals(acc.confusion[11].length, K);
    assertEquals(acc.perClass.length, K);

    const path = `${dir}/twelve.ckpt`;
    await saveCheckpoint(path, trainer);
    const back = await loadCheckpoint(path, config);
    assertEquals(back.config.num_classes, K);
    assertEquals(
      back.model.predict(data.images, 8).probs,
      trainer.model.predict(data.images, 8).probs,
    );
    back.dispose();
    // A checkpoint of another class count is refused, by name, untouched.
    await assertRejects(
      () => loadCheckpoint(path, { ...config, num_classes: 10 }),
      CheckpointError,
      "num_classes is 12 in the checkpoint but 10",
    );
  } finally {
    trainer.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint written before num_classes existed loads as ten classes", async () => {
  const config: SSVAEConfig = resolveConfig({ hidden_dims: [16] });
  const trainer = new InteractiveTrainer(new SSVAE(config), { threads: 1 });
  const bytes = await encodeCheckpoint(trainer);
  trainer.dispose();
  // Drop the field from the header, keeping its length (spaces), and reseal.
  const len = new DataView(bytes.buffer).getUint32(8, true);
  const head = new TextDecoder().decode(bytes.subarray(44, 44 + len));
  const old = head.replace('"num_classes":10,', "");
  assert(old !== head);
  const out = bytes.slice();
  out.set(new TextEncoder().encode(old.padEnd(len, " ")), 44);
  out.set(
    new Uint8Array(await crypto.subtle.digest("SHA-256", out.subarray(44))),
    12,
  );
  const dir = await Deno.makeTempDir({ prefix: "ssvae-old-" });
  try {
    await Deno.writeFile(`${dir}/old.ckpt`, out);
    const t = await loadCheckpoint(`${dir}/old.ckpt`, config);
    assertEquals(t.config.num_classes, 10);
    t.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("label spreading over 12 classes; any width sums as the ten-column path", () => {
  const { n, data, truth } = clusters(K, 40, 8, 3);
  const nb = knn(data, n, 8, data, n, 10, { excludeSelf: true });
  const graph = buildGraph(nb);
  const labels = new Float32Array(n).fill(NaN);
  for (let c = 0; c < K; c++) labels[c * 40] = c;
  const f = spreadLabels(graph, labels, { classes: K });
  assertEquals(f.length, n * K);
  const p = spreadProbabilities(f, labels, K);
  let right = 0;
  for (let i = 0; i < n; i++) {
    const row = p.subarray(i * K, (i + 1) * K);
    if (row.indexOf(Math.max(...row)) === truth[i]) right++;
  }
  assert(right / n > 0.95, `${right}/${n} right`);
  // Classes 0-9 only: the generic path (11 columns) gives the unrolled
  // ten-column path's numbers exactly in its first ten columns.
  const ten = labels.map((l) => l < 10 ? l : NaN);
  const f10 = spreadLabels(graph, ten);
  const f11 = spreadLabels(graph, ten, { classes: 11 });
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 10; c++) {
      if (f10[i * 10 + c] !== f11[i * 11 + c]) {
        throw new Error(
          `row ${i} class ${c}: ${f10[i * 10 + c]} ≠ ${f11[i * 11 + c]}`,
        );
      }
    }
    assertEquals(f11[i * 11 + 10], 0);
  }
  // The test vote counts every class.
  const votes = voteOfNeighbours(nb, truth, K);
  assertEquals(votes, truth);
});

Deno.test("the label graph propagates 12 classes and votes the test images", () => {
  // 12 classes of 8×8 "images": each class a bright block somewhere.
  const per = 30, px = 64, rng = new Rng(9);
  const make = (count: number) => {
    const raw = new Uint8Array(count * K * px);
    const truth = new Uint8Array(count * K);
    for (let c = 0; c < K; c++) {
      for (let j = 0; j < count; j++) {
        const i = c * count + j;
        truth[i] = c;
        for (let k = 0; k < px; k++) {
          const on = Math.floor(k / 8) % 4 === c % 4 &&
            Math.floor((k % 8) / 3) === Math.floor(c / 4);
          raw[i * px + k] = on ? 200 + 50 * rng.uniform() : 40 * rng.uniform();
        }
      }
    }
    return { raw, truth };
  };
  const train = make(per), test = make(5);
  const g = LabelGraph.build(train.raw, K * per, px, {
    test: { raw: test.raw, count: K * 5 },
  });
  const labels = new Float32Array(K * per).fill(NaN);
  for (let c = 0; c < K; c++) labels[c * per] = c;
  const p = g.propagate(labels, K);
  assertEquals(p.probs.length, K * per * K);
  assertEquals(accuracyOf(p.predClass, train.truth, K).overall, 1);
  const votes = g.classifyTest(p.predClass, K)!;
  assertEquals(accuracyOf(votes, test.truth, K).overall, 1);
  // The default queue reads rows of 12.
  const order = g.suggest(new Float32Array(K * per).fill(NaN), p.probs, 5);
  assertEquals(order.order.length, 5);
  const unc = uncertaintyOrder(p.probs, labels, g.coverage.typicality, 5);
  assertEquals(unc.length, 5);
});

Deno.test("strategies, restriction and the PRB1 body at 12 classes", () => {
  const n = 3;
  const probs = new Float32Array(n * K);
  probs[0 * K + 11] = 1; // sure
  probs[1 * K + 10] = 0.5; // between two
  probs[1 * K + 3] = 0.5;
  for (let k = 0; k < K; k++) probs[2 * K + k] = 1 / K; // no idea
  const margin = acquisitionScores(probs, "margin", 0, K);
  assertEquals(margin.length, n);
  assert(margin[1] > margin[0] && margin[2] > margin[0]);
  const entropy = acquisitionScores(probs, "entropy", 0, K);
  assert(Math.abs(entropy[2] - Math.log(K)) < 1e-5);
  // Restricting to all 12 changes nothing; the wire format keeps 12 columns.
  const pc = new Uint8Array([11, 10, 0]), cert = new Float32Array(3);
  restrictClasses(probs, pc, cert, K, K);
  assertEquals(Array.from(pc), [11, 10, 0]);
  const { bytes } = new ProbsCache().get(probs, n, 4);
  const snap = decodeProbs(bytes.slice().buffer);
  assertEquals([snap.count, snap.classes], [n, K]);
  assertEquals(Math.round(snap.probs[11] * 255), 255);
  const r = rankAll(snap, "least_confidence");
  assertEquals(r.order[r.order.length - 1], 0, "the sure one ranks last");
});

Deno.test("page helpers at 12 classes: keys for the first ten, the picker's filter, colours", () => {
  try {
    setDataset({ ...MNIST_VIEW, kind: "images", name: "mix", classes: NAMES });
    assertEquals(dataset.value.classes.length, K);
    assert(needsClassPicker());
    // 1–9 and 0 label the first ten; the other two have no key.
    assertEquals(classForKey("1"), 0);
    assertEquals(classForKey("0"), 9);
    assertEquals(keyForClass(9), "0");
    assertEquals(keyForClass(10), "");
    assertEquals(keyForClass(11), "");
    assertEquals(labelKeys(), ["1", "0"]);
    // Names starting with the text first, then those containing it.
    assertEquals(filterClasses("zer"), [11]);
    assertEquals(filterClasses("E"), [1, 2, 4, 5, 6, 8, 9, 11]);
    assertEquals(filterClasses(" s "), [6, 7, 8]);
    assertEquals(filterClasses(""), [...NAMES.keys()]);
    assertEquals(filterClasses("xyz"), []);
    // `/` puts the focus in the picker, and the help lists it.
    const store = createStore();
    const slash = (): KeyboardEvent =>
      ({
        key: "/",
        ctrlKey: false,
        metaKey: false,
        altKey: false,
        shiftKey: false,
        defaultPrevented: false,
        target: null,
        preventDefault(this: { defaultPrevented: boolean }) {
          this.defaultPrevented = true;
        },
      }) as unknown as KeyboardEvent;
    assertEquals(dispatchKey(store, slash()), "pick");
    assertEquals(store.ui.pickClass.value, 1);
    assert(KEY_ACTIONS.find((a) => a.id === "pick")!.available!());
    assertEquals(store.countsPerClass.value.length, K);

    setDataset(MNIST_VIEW);
    assert(!needsClassPicker());
    assertEquals(labelKeys(), ["0", "9"]);
    assertEquals(keyForClass(7), "7");
    assertEquals(dispatchKey(store, slash()), null);
    assert(!KEY_ACTIONS.find((a) => a.id === "pick")!.available!());
  } finally {
    setDataset(MNIST_VIEW);
  }
});

Deno.test("class colours: the first ten as before, then distinct ones, never red or grey", () => {
  assertEquals(CLASS_COLORS.length, MAX_CLASSES);
  assertEquals(CLASS_COLORS[0], "#1f77b4");
  assertEquals(CLASS_COLORS[9], "#d4a017");
  assertEquals(new Set(CLASS_COLORS).size, MAX_CLASSES);
  const red = hexRgb(SELECTION_COLOR);
  for (const [k, hex] of CLASS_COLORS.entries()) {
    assert(/^#[0-9a-f]{6}$/.test(hex), hex);
    const [r, g, b] = hexRgb(hex);
    const max = Math.max(r, g, b), min = Math.min(r, g, b);
    assert(max - min > 40, `class ${k} ${hex} is greyish`);
    // Away from the selection's red.
    const d = Math.hypot(r - red[0], g - red[1], b - red[2]);
    assert(d > 90, `class ${k} ${hex} is too close to the selection red`);
  }
  // The first 30 stay apart from each other (picked farthest-first).
  for (let k = 10; k < 30; k++) {
    for (let j = 0; j < k; j++) {
      const a = hexRgb(CLASS_COLORS[k]), b = hexRgb(CLASS_COLORS[j]);
      const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      assert(d > 30, `classes ${j} and ${k} too close (${d})`);
    }
  }
});
