/**
 * The label graph: PCA, neighbour search, label spreading, coverage
 * suggestions and the cache file, on synthetic clusters and real MNIST.
 */
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertThrows,
} from "./assert.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { loadTestSet, loadTrainImages } from "../lib/data/mnist.ts";
import { fitPca, projectPca } from "../lib/graph/pca.ts";
import { approximateKnn, knn } from "../lib/graph/knn.ts";
import {
  buildGraph,
  spreadLabels,
  spreadProbabilities,
} from "../lib/graph/label_spreading.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { deskew } from "../lib/graph/deskew.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { gatherRows } from "../lib/training/batches.ts";
import { Rng } from "../lib/ssvae/rng.ts";

await initBackend();

/** `perCluster` points around each of `k` centres in `dim` dimensions. */
function clusters(k: number, perCluster: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const n = k * perCluster;
  const data = new Float32Array(n * dim);
  const truth = new Uint8Array(n);
  for (let c = 0; c < k; c++) {
    const centre = Array.from({ length: dim }, () => 10 * rng.normal());
    for (let p = 0; p < perCluster; p++) {
      const i = c * perCluster + p;
      truth[i] = c;
      for (let j = 0; j < dim; j++) {
        data[i * dim + j] = centre[j] + rng.normal();
      }
    }
  }
  return { n, data, truth };
}

Deno.test("PCA: orthonormal components, largest variance first", () => {
  // Variance 9 along axis 0, 1 along axis 1, ~0 along the rest.
  const rng = new Rng(1);
  // More rows than one chunk (4096), so the chunked reads below are chunks.
  const n = 9000, dim = 6;
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    data[i * dim] = 3 * rng.normal() + 5;
    data[i * dim + 1] = rng.normal();
    for (let j = 2; j < dim; j++) data[i * dim + j] = 0.01 * rng.normal();
  }
  const pca = fitPca(data, n, dim, 2, 7);
  const c = pca.components; // dim × 2
  const dot = (a: number, b: number) =>
    Array.from({ length: dim }, (_, j) => c[j * 2 + a] * c[j * 2 + b])
      .reduce((s, v) => s + v, 0);
  assertAlmostEquals(dot(0, 0), 1, 1e-4);
  assertAlmostEquals(dot(1, 1), 1, 1e-4);
  assertAlmostEquals(dot(0, 1), 0, 1e-4);
  assert(Math.abs(c[0]) > 0.99, "first component along axis 0");
  assert(Math.abs(c[1 * 2 + 1]) > 0.99, "second along axis 1");
  assertAlmostEquals(pca.mean[0], 5, 0.2);
  const z = projectPca(pca, data, n);
  let v0 = 0;
  for (let i = 0; i < n; i++) v0 += z[i * 2] ** 2;
  assertAlmostEquals(v0 / n, 9, 0.8);
  // Rows given chunk by chunk (into one reused buffer, as the label graph
  // scales bytes): the same fit and projection, bit for bit.
  const buffer = new Float32Array(n * dim);
  const calls: Array<[number, number]> = [];
  const rows = (start: number, count: number) => {
    calls.push([start, count]);
    const out = buffer.subarray(0, count * dim);
    out.set(data.subarray(start * dim, (start + count) * dim));
    return out;
  };
  const chunked = fitPca(rows, n, dim, 2, 7);
  assertEquals(chunked, pca);
  assertEquals(projectPca(chunked, rows, n), z);
  assert(calls.every(([, count]) => count < n), "never all rows at once");
});

Deno.test("neighbours: exact search is exact; the inverted file finds nearly all", () => {
  const { n, data } = clusters(8, 250, 10, 2);
  const exact = knn(data, n, 10, data, n, 10, { excludeSelf: true });
  // Brute force on a few rows.
  for (const i of [0, 777, 1999]) {
    const d = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let t = 0; t < 10; t++) {
        s += (data[i * 10 + t] - data[j * 10 + t]) ** 2;
      }
      return { j, s };
    }).filter((e) => e.j !== i).sort((a, b) => a.s - b.s).slice(0, 10);
    assertEquals(
      new Set(exact.index.subarray(i * 10, i * 10 + 10)),
      new Set(d.map((e) => e.j)),
    );
  }
  const approx = approximateKnn(data, n, 10, 10, { seed: 3 });
  let found = 0;
  for (let i = 0; i < n; i++) {
    const want = new Set(exact.index.subarray(i * 10, i * 10 + 10));
    for (let j = 0; j < 10; j++) {
      const nb = approx.index[i * 10 + j];
      assert(nb !== i, "never its own neighbour");
      if (want.has(nb)) found++;
    }
  }
  assert(found / (n * 10) > 0.9, `recall ${found / (n * 10)}`);

  // Outside queries (the test images) search the same cells.
  const q = clusters(8, 25, 10, 2);
  const exactQ = knn(data, n, 10, q.data, q.n, 10);
  const { queryNb } = approximateKnn(data, n, 10, 10, {
    seed: 3,
    queries: { data: q.data, n: q.n },
  });
  assert(queryNb, "query neighbours");
  assertEquals([queryNb.n, queryNb.k], [q.n, 10]);
  let foundQ = 0;
  for (let i = 0; i < q.n; i++) {
    const want = new Set(exactQ.index.subarray(i * 10, i * 10 + 10));
    for (let j = 0; j < 10; j++) {
      if (want.has(queryNb.index[i * 10 + j])) foundQ++;
    }
  }
  assert(foundQ / (q.n * 10) > 0.9, `query recall ${foundQ / (q.n * 10)}`);
});

Deno.test("label spreading: one label per cluster labels its cluster", () => {
  const { n, data, truth } = clusters(4, 300, 8, 4);
  const g = buildGraph(knn(data, n, 8, data, n, 10, { excludeSelf: true }));
  const labels = new Float32Array(n).fill(NaN);
  for (let c = 0; c < 4; c++) labels[c * 300 + 5] = c;
  const p = spreadProbabilities(spreadLabels(g, labels), labels);
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0, sum = 0;
    for (let k = 0; k < 10; k++) {
      sum += p[i * 10 + k];
      if (p[i * 10 + k] > p[i * 10 + best]) best = k;
    }
    assertAlmostEquals(sum, 1, 1e-5);
    if (best === truth[i]) right++;
  }
  assertEquals(right, n);
  // A labelled row is one-hot on its label.
  assertEquals(p[5 * 10 + 0], 1);
});

Deno.test("soft graph labels: unlabelled rows take their target times the weight", () => {
  const images = new Float32Array(3 * 784);
  const labels = Float32Array.from([2, NaN, NaN]);
  const targets = new Float32Array(30);
  targets[1 * 10 + 4] = 0.8;
  targets[1 * 10 + 5] = 0.2;
  targets[0 * 10 + 9] = 1; // ignored: row 0 has a user label
  const rows = gatherRows(images, labels, [0, 1, 2], { targets, weight: 0.5 });
  assertEquals([...rows.oneHot.subarray(0, 10)], [
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  assertAlmostEquals(rows.oneHot[10 + 4], 0.4, 1e-6);
  assertAlmostEquals(rows.oneHot[10 + 5], 0.1, 1e-6);
  assertAlmostEquals(rows.labelledCount, 1.5, 1e-6);
  // Without targets, the reference's masking: unlabelled rows are all zero.
  assertEquals(gatherRows(images, labels, [0, 1, 2]).labelledCount, 1);
});

Deno.test("label graph on MNIST: spreading beats the labels alone; cache round trip; first suggestions cover the classes", async () => {
  const n = 3000;
  const train = await loadTrainImages({ limit: n });
  const test = await loadTestSet();
  const testSet = { raw: test.raw.subarray(0, 1000 * 784), count: 1000 };
  const g = LabelGraph.build(train.raw, n, 784, { seed: 1, test: testSet });
  // 30 class-balanced labels on 3000 images: spreading labels ~79% of them
  // (seeded, so the figure is fixed; 70% leaves room for float rounding).
  const labels = labelsPerClass(train.labels, 3, 5);
  const p = g.propagate(labels);
  let right = 0;
  for (let i = 0; i < n; i++) if (p.predClass[i] === train.labels[i]) right++;
  assert(right / n > 0.7, `transductive accuracy ${right / n}`);
  const testPred = g.classifyTest(p.predClass)!;
  let testRight = 0;
  for (let i = 0; i < 1000; i++) {
    if (testPred[i] === test.labels[i]) testRight++;
  }
  assert(testRight / 1000 > 0.7, `test accuracy ${testRight / 1000}`);

  // The cache file gives the same graph back; a damaged one is refused.
  const bytes = g.serialize();
  const back = LabelGraph.deserialize(bytes, n)!;
  assert(back, "cache read back");
  assertEquals([...back.propagate(labels).predClass], [...p.predClass]);
  assertEquals(LabelGraph.deserialize(bytes, n + 1), null);
  assertEquals(
    LabelGraph.deserialize(bytes.subarray(0, bytes.length - 4), n),
    null,
  );

  // With no labels at all, the first 10 suggestions are typical images of
  // different regions: at least 7 digits, and no two of them neighbours.
  const none = new Float32Array(n).fill(NaN);
  const first = g.suggest(none, g.propagate(none).probs, 10);
  assertEquals(first.phase, "coverage");
  assertEquals(first.order.length, 10);
  const classes = new Set([...first.order].map((i) => train.labels[i]));
  assert(classes.size >= 7, `first 10 cover ${classes.size} digits`);
});

Deno.test("deskew: a slanted stroke stands upright and centred; blank images stay blank", () => {
  // A 2-px wide stroke from (6, 22) to (16, 4), off-centre and slanted.
  const img = new Uint8Array(28 * 28);
  for (let y = 4; y <= 22; y++) {
    const x = Math.round(6 + (22 - y) * (10 / 18));
    img[y * 28 + x] = 255;
    img[y * 28 + x + 1] = 255;
  }
  const both = new Uint8Array(2 * 784);
  both.set(img);
  const out = deskew(both, 2, 28, 28);
  // Each row's centre of mass: spread before, nearly constant after.
  const rowCentres = (a: Uint8Array) => {
    const cs: number[] = [];
    for (let y = 6; y <= 20; y++) {
      let m = 0, mx = 0;
      for (let x = 0; x < 28; x++) {
        m += a[y * 28 + x];
        mx += x * a[y * 28 + x];
      }
      if (m > 0) cs.push(mx / m);
    }
    return cs;
  };
  const spread = (cs: number[]) => Math.max(...cs) - Math.min(...cs);
  assert(spread(rowCentres(img)) > 7, "slanted before");
  const after = rowCentres(out.subarray(0, 784));
  assert(spread(after) < 1.5, `upright after: ${spread(after)}`);
  const mean = after.reduce((s, v) => s + v, 0) / after.length;
  assertAlmostEquals(mean, 13.5, 1);
  assertEquals([...out.subarray(784)], new Array(784).fill(0));
});

Deno.test("quick graph on MNIST: labels spread nearly as far as on the real graph; test images voted; coverage first", async () => {
  const n = 3000;
  const train = await loadTrainImages({ limit: n });
  const test = await loadTestSet();
  const testSet = { raw: test.raw.subarray(0, 1000 * 784), count: 1000 };
  const shape = { rows: 28, cols: 28, channels: 1 };
  const quick = LabelGraph.buildProvisional(train.raw, n, 784, {
    seed: 1,
    test: testSet,
    shape,
  });
  const real = LabelGraph.build(train.raw, n, 784, { seed: 1, test: testSet });
  const labels = labelsPerClass(train.labels, 3, 5);
  const share = (g: LabelGraph) => {
    const p = g.propagate(labels);
    let right = 0;
    for (let i = 0; i < n; i++) if (p.predClass[i] === train.labels[i]) right++;
    const t = g.classifyTest(p.predClass)!;
    let testRight = 0;
    for (let i = 0; i < 1000; i++) if (t[i] === test.labels[i]) testRight++;
    return { train: right / n, test: testRight / 1000 };
  };
  const q = share(quick), r = share(real);
  // Seeded: within a few points of the real graph here.
  assert(q.train > r.train - 0.06, `quick ${q.train} vs real ${r.train}`);
  assert(q.test > r.test - 0.06, `quick test ${q.test} vs real ${r.test}`);
  // Its first suggestions already cover the classes.
  const none = new Float32Array(n).fill(NaN);
  const first = quick.suggest(none, quick.propagate(none).probs, 10);
  assertEquals(first.phase, "coverage");
  const classes = new Set([...first.order].map((i) => train.labels[i]));
  assert(classes.size >= 7, `first 10 cover ${classes.size} digits`);
  // A colour image pools per channel; too few images is refused.
  const colour = new Uint8Array(40 * 30 * 30 * 3).map((_, i) => (i * 7) % 251);
  const c = LabelGraph.buildProvisional(colour, 40, 30 * 30 * 3, {
    shape: { rows: 30, cols: 30, channels: 3 },
  });
  assertEquals(c.n, 40);
  assertThrows(
    () => LabelGraph.buildProvisional(colour, 5, 30 * 30 * 3),
    Error,
    "at least",
  );
});
