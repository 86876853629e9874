/**
 * `deno task bench:review`: does the review queue find wrong labels?
 *
 * On the full training pool (MNIST by default, `--data-dir` for IDX files),
 * 300 labels are made two ways — following the default suggestions, and
 * uniformly at random outside the validation split — then 2% and 5% of them
 * are flipped to another class at random (seeded). The labels' self-check
 * runs as in the graph worker and the review queue is made from it
 * (lib/graph/review.ts). Printed per seed: how many of the flipped labels
 * the top 20 of the queue hold, and how many of those 20 are right labels
 * (goal: ≥ 80% of the flips, ≤ 25% right labels), plus the outliers listed.
 *
 * Then the box case: a box drawn one cluster too wide (31 labels of one
 * write, 15 of them wrong), reviewed with its labels held out one by one and
 * together (the write's history batch).
 *
 * Flags: --data-dir DIR, --labels N (default 300), --seeds 1,2,3,
 * --rates 0.02,0.05, --boxes-only. The graph is cached in artifacts/bench/review-cache.
 */

import { parseArgs } from "node:util";
import { openDataset } from "../lib/data/dataset.ts";
import { loadTestImages, loadTrainSet } from "../lib/data/source.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { reviewLabels } from "../lib/graph/review.ts";
import { checkLabels } from "../lib/graph/self_check.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { presetConfig } from "../lib/ssvae/config.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { makeSplit } from "../lib/training/split.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "data-dir": { type: "string" },
    labels: { type: "string", default: "300" },
    seeds: { type: "string", default: "1,2,3" },
    rates: { type: "string", default: "0.02,0.05" },
    top: { type: "string", default: "20" },
    /** Only the box case (the flips are unchanged by held-out writes). */
    "boxes-only": { type: "boolean", default: false },
  },
});
const BUDGET = Number(values.labels);
const TOP = Number(values.top);
const SEEDS = values.seeds!.split(",").map(Number);
const RATES = values.rates!.split(",").map(Number);

await initBackend();
const scratch = await Deno.makeTempFile({ suffix: ".csv" });
addEventListener("unload", () => Deno.removeSync(scratch));
const dataset = await openDataset(
  { dataDir: values["data-dir"], labelsPath: scratch },
  () => {},
);
const train = await loadTrainSet(dataset.spec);
const test = await loadTestImages(dataset.spec, train.pixelMax);
const n = train.count;
const cfg = presetConfig("graph");
const val = makeSplit(n, cfg.val_split, cfg.random_seed).val;
const exclude = new Uint8Array(n);
for (const i of val) exclude[i] = 1;
const t0 = performance.now();
const { graph, features } = await LabelGraph.loadOrBuild(
  train.raw,
  n,
  train.rows * train.cols * train.channels,
  "artifacts/bench/review-cache",
  {
    test: { raw: test.raw, count: test.count },
    shape: train,
    validation: val,
    truth: train.labels,
  },
);
console.log(
  `${dataset.info.name}: ${n} images; graph (${features.kind}) in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s; ${BUDGET} labels; flips ${
    RATES.map((r) => `${100 * r}%`).join(", ")
  }; top ${TOP}; seeds ${SEEDS.join(", ")}`,
);

/** `BUDGET` true labels, following the default queue or at random. */
function makeLabels(mode: "suggested" | "random", seed: number): Float32Array {
  const labels = new Float32Array(n).fill(NaN);
  const rng = new Rng(seed);
  let count = 0;
  if (mode === "random") {
    while (count < BUDGET) {
      const i = Math.floor(rng.uniform() * n);
      if (exclude[i] || !Number.isNaN(labels[i])) continue;
      labels[i] = train.labels[i];
      count++;
    }
    return labels;
  }
  let probs = graph.propagate(labels).probs;
  while (count < BUDGET) {
    // As bench:al: one label at a time early, then a few per propagation.
    const k = Math.min(count < 50 ? 1 : count < 100 ? 5 : 10, BUDGET - count);
    for (const i of graph.suggest(labels, probs, k, { exclude }).order) {
      labels[i] = train.labels[i];
      count++;
    }
    probs = graph.propagate(labels).probs;
  }
  return labels;
}

const summary = new Map<string, { found: number[]; wrongShare: number[] }>();
for (const seed of values["boxes-only"] ? [] : SEEDS) {
  for (const mode of ["suggested", "random"] as const) {
    const clean = makeLabels(mode, seed);
    const labelled = [...clean.keys()].filter((i) => !Number.isNaN(clean[i]));
    for (const rate of RATES) {
      const rng = new Rng(seed * 1000 + Math.round(rate * 1000));
      const labels = clean.slice();
      const flips = Math.round(rate * labelled.length);
      const flipped = new Set<number>();
      while (flipped.size < flips) {
        const i = labelled[Math.floor(rng.uniform() * labelled.length)];
        if (flipped.has(i)) continue;
        const shift = 1 + Math.floor(rng.uniform() * 9);
        labels[i] = (train.labels[i] + shift) % 10;
        flipped.add(i);
      }
      const probs = graph.propagate(labels).probs;
      const check = await checkLabels(
        (l) => graph.propagate(l).probs,
        labels,
        probs,
        10,
      );
      if (!check) throw new Error("no self-check");
      const review = reviewLabels(
        check.held,
        labels,
        10,
        graph.coverage.typicality,
      );
      const top = review.items.slice(0, TOP);
      const found = top.filter((it) => flipped.has(it.index)).length;
      const right = top.length - found;
      const key = `${mode} ${100 * rate}%`;
      const s = summary.get(key) ?? { found: [], wrongShare: [] };
      s.found.push(100 * found / flips);
      s.wrongShare.push(top.length ? 100 * right / top.length : 0);
      summary.set(key, s);
      const outliersRight = review.outliers.filter((o) =>
        !flipped.has(o.index)
      ).length;
      console.log(
        `seed ${seed} ${key}: ${found}/${flips} flips in the top ${TOP} (${
          (100 * found / flips).toFixed(0)
        }%); ${right} of ${top.length} listed are right labels; queue ${review.items.length}; outliers ${review.outliers.length} (${outliersRight} not flipped)`,
      );
    }
  }
}
/**
 * A box drawn one cluster too wide: around an image of class A, its 15
 * nearest (pixel distance) unlabelled images of class A and the 15 nearest
 * of the closest other class B, all labelled A in one write. Held out one
 * by one, the wrong labels back each other up; held out together (the
 * write's history batch), the rest of the data has to.
 */
function nearest(
  from: number,
  n: number,
  pick: (i: number) => boolean,
  k: number,
) {
  const px = train.rows * train.cols * train.channels;
  const a = train.raw.subarray(from * px, (from + 1) * px);
  const d: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    if (i === from || !pick(i)) continue;
    let s = 0;
    const o = i * px;
    for (let j = 0; j < px; j++) {
      const t = a[j] - train.raw[o + j];
      s += t * t;
    }
    d.push([s, i]);
  }
  return d.sort((x, y) => x[0] - y[0]).slice(0, k).map(([, i]) => i);
}
const boxes = new Map<string, { found: number[]; rightListed: number[] }>();
for (const seed of SEEDS) {
  for (const mode of ["suggested", "random"] as const) {
    const labels = makeLabels(mode, seed);
    const rng = new Rng(seed * 7919);
    const free = (i: number) => Number.isNaN(labels[i]) && !exclude[i];
    let s0 = 0;
    do s0 = Math.floor(rng.uniform() * n); while (!free(s0));
    const A = train.labels[s0];
    const same = nearest(s0, n, (i) => free(i) && train.labels[i] === A, 15);
    const [other] = nearest(s0, n, (i) => free(i) && train.labels[i] !== A, 1);
    const B = train.labels[other];
    const wrongs = [
      other,
      ...nearest(other, n, (i) => free(i) && train.labels[i] === B, 14),
    ];
    const groups = new Int32Array(n).fill(-1);
    for (const i of [s0, ...same, ...wrongs]) {
      labels[i] = A;
      groups[i] = 1;
    }
    const probs = graph.propagate(labels).probs;
    for (const grouped of [false, true]) {
      const check = await checkLabels(
        (l) => graph.propagate(l).probs,
        labels,
        probs,
        10,
        { groups: grouped ? groups : null },
      );
      if (!check) throw new Error("no self-check");
      const review = reviewLabels(
        check.held,
        labels,
        10,
        graph.coverage.typicality,
      );
      const top = review.items.slice(0, TOP).map((it) => it.index);
      const found = wrongs.filter((i) => top.includes(i)).length;
      const rightListed = [s0, ...same].filter((i) =>
        review.items.some((it) => it.index === i)
      ).length;
      const key = `box ${mode}, ${
        grouped ? "held out together" : "one by one"
      }`;
      const b = boxes.get(key) ?? { found: [], rightListed: [] };
      b.found.push(100 * found / wrongs.length);
      b.rightListed.push(rightListed);
      boxes.set(key, b);
      console.log(
        `seed ${seed} ${key}: box of 31 labelled ${A}, ${wrongs.length} of them ${B}: ${found}/${wrongs.length} wrong in the top ${TOP}; ${rightListed} of the box's 16 right labels listed; heldOut ${
          (100 * check.heldOut).toFixed(1)
        }%`,
      );
    }
  }
}

const ms = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  return `${m.toFixed(1)} ± ${sd.toFixed(1)}`;
};
for (const [key, b] of boxes) {
  console.log(
    `${key}: wrong labels of the box found in the top ${TOP} ${
      ms(b.found)
    }%; right box labels listed ${ms(b.rightListed)} of 16`,
  );
}
for (const [key, s] of summary) {
  console.log(
    `${key}: flips found in the top ${TOP} ${
      ms(s.found)
    }%; right labels among those listed ${ms(s.wrongShare)}%`,
  );
}
