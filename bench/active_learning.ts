/**
 * `deno task bench:al`: a simulated annotator, the standard protocol of
 * issue 9. From no labels on the full 60k pool, each strategy's queue is
 * followed (the true MNIST label answers) and the label graph propagates
 * after every label, as the dashboard does; MNIST test accuracy (a test image
 * takes the vote of its 10 nearest training images) is recorded at each
 * budget. Also the no-network baseline of shared/docs/label-efficiency-notes.md
 * (class-balanced random labels, exact neighbours), and the map: after the
 * default strategy's 50 and 100 labels the graph-preset SSVAE trains
 * `--epochs` epochs each on the graph's soft labels, and the bench prints how
 * many images share their class with most of their 10 nearest neighbours in
 * the 2-D latent map.
 *
 * Prints the table (mean ± sd over seeds), writes artifacts/bench/al.csv,
 * al.json and al.svg. `--quick` (one seed, two strategies, 5 epochs a round)
 * takes about 5 minutes on 2 cores; the full run about 40.
 */
import { parseArgs } from "node:util";
import { acquisitionScores, topSuggestions } from "../lib/active/strategies.ts";
import { openDataset } from "../lib/data/dataset.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { loadTestImages, loadTrainSet } from "../lib/data/source.ts";
import { chooseFeatures, type FeatureKind } from "../lib/graph/features.ts";
import { approximateKnn } from "../lib/graph/knn.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { parseImageFlags } from "../lib/images/options.ts";
import { calibrationError } from "../lib/active/calibration.ts";
import {
  calibratedCertainty,
  checkLabels,
  fallbackCalibration,
} from "../lib/graph/self_check.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { presetConfig, resolveConfig } from "../lib/ssvae/config.ts";
import { SSVAE } from "../lib/ssvae/model.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { accuracyOf } from "../lib/training/accuracy.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";
import { makeSplit } from "../lib/training/split.ts";
import {
  type CurveRow,
  formatTable,
  meanSd,
  toCsv,
  toSvg,
} from "./al_report.ts";

const SIM_STRATEGIES = [
  "auto",
  "random",
  "margin",
  "entropy",
  "least_confidence",
] as const;
type SimStrategy = typeof SIM_STRATEGIES[number];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    seeds: { type: "string" },
    budgets: { type: "string", default: "10,20,50,100,200,300" },
    strategies: { type: "string" },
    pool: { type: "string", default: "60000" },
    epochs: { type: "string" },
    out: { type: "string", default: "artifacts/bench" },
    "data-dir": { type: "string" },
    images: { type: "string" },
    holdout: { type: "string" },
    features: { type: "string", default: "auto" },
  },
});
function numbers(flag: string, text: string): number[] {
  const v = text.split(",").map(Number);
  if (v.some((n) => !Number.isInteger(n) || n < 0)) {
    console.error(
      `error: --${flag} takes whole numbers separated by commas, got ${text}`,
    );
    Deno.exit(1);
  }
  return v;
}
const quick = values.quick;
const seeds = numbers("seeds", values.seeds ?? (quick ? "1" : "1,2,3"));
const budgets = numbers("budgets", values.budgets!).sort((a, b) => a - b);
const pool = numbers("pool", values.pool!)[0];
const epochs = numbers("epochs", values.epochs ?? (quick ? "5" : "10"))[0];
const strategies =
  (values.strategies ?? (quick ? "auto,random" : SIM_STRATEGIES.join(",")))
    .split(",").map((s) => {
      if (!(SIM_STRATEGIES as readonly string[]).includes(s)) {
        console.error(
          `error: unknown strategy ${s}; choose from ${
            SIM_STRATEGIES.join(", ")
          }`,
        );
        Deno.exit(1);
      }
      return s as SimStrategy;
    });

const started = performance.now();
const since = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
await initBackend();
const scratchLabels = await Deno.makeTempFile({ suffix: ".csv" });
const dataset = await openDataset({
  dataDir: values["data-dir"],
  limit: pool,
  images: parseImageFlags({
    images: values.images,
    holdout: values.images ? values.holdout ?? "0.1" : values.holdout,
  }),
  labelsPath: scratchLabels,
}, (l) => console.log(l));
const train = await loadTrainSet(dataset.spec);
const test = await loadTestImages(dataset.spec, train.pixelMax);
const n = train.count, pixels = train.rows * train.cols * train.channels;
const dataName = dataset.info.name;
const testSet = { raw: test.raw, count: test.count };
// Labels come from the training split of the default model, as in the page:
// the queue never proposes a validation image.
const cfg = presetConfig("graph");
const exclude = new Uint8Array(n);
for (const i of makeSplit(n, cfg.val_split, cfg.random_seed).val) {
  exclude[i] = 1;
}
// The feature space, chosen on the validation images as the dashboard does.
const choice = values.features === "auto"
  ? chooseFeatures(
    train,
    makeSplit(n, cfg.val_split, cfg.random_seed).val,
    train.labels,
  )
  : {
    kind: values.features as FeatureKind,
    accuracy: null,
    scoredOn: 0,
    candidates: [],
  };
console.log(
  `features: ${choice.kind}; validation 10-NN (${choice.scoredOn} images): ${
    choice.candidates.map((c) =>
      `${c.kind} ${c.accuracy === null ? "–" : (100 * c.accuracy).toFixed(2)}%`
    ).join(", ")
  }`,
);
const shape = { rows: train.rows, cols: train.cols, channels: train.channels };
console.log(
  `${dataName}: pool ${n} images; budgets ${budgets.join(", ")}; seeds ${
    seeds.join(", ")
  }; ` +
    `strategies ${strategies.join(", ")}`,
);

const testAccuracy = (graph: LabelGraph, predClass: Uint8Array) =>
  100 * accuracyOf(graph.classifyTest(predClass)!, test.labels).overall;
addEventListener("unload", () => Deno.removeSync(scratchLabels));

// ---- the baseline: class-balanced random labels, exact neighbours -----------
const baseline: CurveRow = {
  name: "baseline (pixel LS, balanced random)",
  runs: [],
};
{
  const t0 = performance.now();
  const exact = LabelGraph.build(train.raw, n, pixels, {
    exact: true,
    test: testSet,
    shape,
  });
  console.log(
    `exact pixel graph built in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  for (const seed of seeds) {
    baseline.runs.push(budgets.map((b) => {
      const labels = labelsPerClass(
        train.labels,
        Math.max(1, Math.round(b / 10)),
        seed,
      );
      return testAccuracy(exact, exact.propagate(labels).predClass);
    }));
  }
}

// ---- simulated sessions ------------------------------------------------------
/** How many labels before the next propagation: every label early, then a few. */
const stepAt = (labelled: number) =>
  labelled < 50 ? 1 : labelled < 100 ? 5 : 10;

function picks(
  strategy: SimStrategy,
  graph: LabelGraph,
  labels: Float32Array,
  probs: Float32Array,
  k: number,
  rng: Rng,
): number[] {
  if (strategy === "auto") {
    return [...graph.suggest(labels, probs, k, { exclude }).order];
  }
  if (strategy === "random") {
    const out: number[] = [];
    while (out.length < k) {
      const i = Math.floor(rng.uniform() * n);
      if (Number.isNaN(labels[i]) && !exclude[i] && !out.includes(i)) {
        out.push(i);
      }
    }
    return out;
  }
  const scores = acquisitionScores(probs, strategy);
  for (let i = 0; i < n; i++) if (exclude[i]) scores[i] = -Infinity;
  return [...topSuggestions(scores, labels, k)];
}

const rows = new Map<SimStrategy, CurveRow>(
  strategies.map((
    s,
  ) => [s, { name: s === "auto" ? "auto (default: coverage)" : s, runs: [] }]),
);
const propagateMs: number[] = [];
const ceiling: number[] = [];
/** Expected calibration error (points) of Auto's shown certainty on the validation images, per budget. */
const ece = new Map<number, number[]>(budgets.map((b) => [b, []]));
/** The same, of the raw propagated distribution (before calibration). */
const rawEce = new Map<number, number[]>(budgets.map((b) => [b, []]));
/** Auto's labels' own estimate of the accuracy, and the test's, per budget. */
const estimate = new Map<
  number,
  { est: number; held: number; test: number }[]
>(
  budgets.map((b) => [b, []]),
);
const mapAgreement: number[] = [];
const mapClassifier: number[] = [];
const epochSeconds: number[] = [];
for (const seed of seeds) {
  const t0 = performance.now();
  const graph = LabelGraph.build(train.raw, n, pixels, {
    seed,
    test: testSet,
    features: choice.kind,
    shape,
  });
  ceiling.push(testAccuracy(graph, train.labels));
  console.log(
    `seed ${seed}: label graph (${choice.kind}) built in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s; a 10-NN vote with all ${n} labels: ${ceiling.at(-1)!.toFixed(2)}%`,
  );
  for (const strategy of strategies) {
    const rng = new Rng(seed);
    const labels = new Float32Array(n).fill(NaN);
    let p = graph.propagate(labels);
    const accs: number[] = [];
    const snapshots = new Map<number, Float32Array>();
    let labelled = 0;
    for (const b of budgets) {
      while (labelled < b) {
        const k = Math.min(stepAt(labelled), b - labelled);
        for (const i of picks(strategy, graph, labels, p.probs, k, rng)) {
          labels[i] = train.labels[i]; // the oracle answers
          labelled++;
        }
        p = graph.propagate(labels);
        propagateMs.push(p.ms);
      }
      accs.push(testAccuracy(graph, p.predClass));
      if (strategy === "auto") {
        snapshots.set(b, labels.slice());
        // The page's self-check: cross-validation over the labels alone.
        const check = await checkLabels(
          (l) => graph.propagate(l).probs,
          labels,
          p.probs,
          10,
        );
        const shown = calibratedCertainty(
          p.probs,
          labels,
          10,
          check?.calibration ?? fallbackCalibration(labels, 10),
        );
        ece.get(b)!.push(
          100 * calibrationError(shown, p.predClass, train.labels, exclude),
        );
        rawEce.get(b)!.push(
          100 *
            calibrationError(p.certainty, p.predClass, train.labels, exclude),
        );
        if (check) {
          estimate.get(b)!.push({
            est: 100 * check.accuracy,
            held: 100 * check.heldOut,
            test: accs.at(-1)!,
          });
        }
      }
    }
    rows.get(strategy)!.runs.push(accs);
    console.log(
      `seed ${seed} ${strategy.padEnd(17)} ${
        accs.map((a) => a.toFixed(2)).join("  ")
      }  (${since()})`,
    );
    if (strategy === "auto") {
      console.log(
        `seed ${seed} auto self-check (estimate/test %, shown-certainty ECE): ${
          budgets.map((b) => {
            const e = estimate.get(b)!.at(-1);
            return `${b}: ${
              e
                ? `${e.est.toFixed(1)}/${e.test.toFixed(1)} (held out ${
                  e.held.toFixed(1)
                })`
                : "–"
            } ECE ${ece.get(b)!.at(-1)!.toFixed(1)}`;
          }).join(", ")
        }`,
      );
    }
    // The map after the default session's 50 and 100 labels, trained as a
    // user would: a run after each 50.
    if (
      strategy === "auto" && snapshots.has(50) && snapshots.has(100) &&
      epochs > 0
    ) {
      const trainer = new InteractiveTrainer(
        new SSVAE(
          resolveConfig({ random_seed: seed, patience: 1_000_000 }, cfg),
        ),
      );
      const onEpochEnd = (_e: number, _m: unknown, h: { seconds: number }[]) =>
        void epochSeconds.push(h[h.length - 1].seconds);
      for (const b of [50, 100]) {
        const l = snapshots.get(b)!;
        await trainer.trainEpochs(epochs, train.images, l, {
          targets: graph.propagate(l).probs,
          callbacks: [{ onEpochEnd }],
        });
      }
      const pr = await trainer.predict(train.images, n, { decode: false });
      mapAgreement.push(100 * neighbourAgreement(pr.latent, train.labels));
      const pt = await trainer.predict(test.images, test.count, {
        decode: false,
      });
      mapClassifier.push(100 * accuracyOf(pt.predClass, test.labels).overall);
      trainer.dispose();
      console.log(
        `seed ${seed} map after 100 labels: ${
          mapAgreement.at(-1)!.toFixed(2)
        }% agree with ` +
          `their 10 map neighbours; classifier ${
            mapClassifier.at(-1)!.toFixed(2)
          }% (${since()})`,
      );
    }
  }
}

/** Share of images whose true class is the majority of their 10 nearest map neighbours. */
function neighbourAgreement(latent: Float32Array, truth: Uint8Array): number {
  const nb = approximateKnn(
    latent,
    truth.length,
    latent.length / truth.length,
    10,
  );
  let agree = 0;
  const votes = new Int32Array(10);
  for (let i = 0; i < truth.length; i++) {
    votes.fill(0);
    for (let j = 0; j < 10; j++) votes[truth[nb.index[i * 10 + j]]]++;
    if (votes[truth[i]] > 5) agree++;
  }
  return agree / truth.length;
}

// ---- report -------------------------------------------------------------------
const all = [...rows.values(), baseline];
console.log(
  `\n${dataName} test accuracy (%) by number of labels, mean ± sd over seeds ` +
    `(features: ${choice.kind})`,
);
console.log(formatTable(budgets, all));
const auto = rows.get("auto"), random = rows.get("random");
if (auto && random) {
  console.log(
    "auto − random (points):     " + budgets.map((_, j) => {
      const d = meanSd(auto.runs.map((r, s) => r[j] - random.runs[s][j]));
      return `${d.mean >= 0 ? "+" : ""}${d.mean.toFixed(2)} ± ${
        d.sd.toFixed(2)
      }`.padStart(15);
    }).join(""),
  );
}
const pm = meanSd(propagateMs);
for (
  const [what, m] of [["shown (calibrated)", ece], ["raw", rawEce]] as const
) {
  console.log(
    `calibration error of Auto's ${what} certainty on the validation images (points): ` +
      budgets.map((b) => {
        const e = meanSd(m.get(b)!);
        return `${b}: ${e.mean.toFixed(1)} ± ${e.sd.toFixed(1)}`;
      }).join(", "),
  );
}
console.log(
  "stop estimate (5-fold over Auto's labels) − test accuracy (points): " +
    budgets.map((b) => {
      if (estimate.get(b)!.length === 0) return `${b}: – (no check)`;
      const d = meanSd(estimate.get(b)!.map((e) => e.est - e.test));
      return `${b}: ${d.mean >= 0 ? "+" : ""}${d.mean.toFixed(1)} ± ${
        d.sd.toFixed(1)
      }`;
    }).join(", "),
);
const cm = meanSd(ceiling);
console.log(
  `${choice.kind}: a 10-NN vote with all ${n} labels ${cm.mean.toFixed(2)} ± ${
    cm.sd.toFixed(2)
  }% (test)`,
);
console.log(
  `propagation: ${pm.mean.toFixed(0)} ms mean over ${propagateMs.length} (max ${
    Math.max(...propagateMs).toFixed(0)
  })`,
);
if (mapAgreement.length) {
  const a = meanSd(mapAgreement),
    c = meanSd(mapClassifier),
    e = meanSd(epochSeconds);
  console.log(
    `map neighbour agreement after 100 labels (${epochs}+${epochs} epochs): ` +
      `${a.mean.toFixed(2)} ± ${
        a.sd.toFixed(2)
      }% (goal ≥ 90); SSVAE classifier ` +
      `${c.mean.toFixed(2)} ± ${c.sd.toFixed(2)}%; ${
        e.mean.toFixed(2)
      } s per epoch`,
  );
}
await Deno.mkdir(values.out!, { recursive: true });
await Deno.writeTextFile(`${values.out}/al.csv`, toCsv(budgets, all));
await Deno.writeTextFile(
  `${values.out}/al.json`,
  JSON.stringify(
    {
      data: dataName,
      features: choice,
      ceiling,
      calibrationError: Object.fromEntries(ece),
      rawCalibrationError: Object.fromEntries(rawEce),
      stopEstimate: Object.fromEntries(estimate),
      pool: n,
      budgets,
      seeds,
      epochs,
      rows: all,
      propagateMs: pm,
      mapAgreement,
      mapClassifier,
      epochSeconds: meanSd(epochSeconds),
    },
    null,
    1,
  ),
);
await Deno.writeTextFile(
  `${values.out}/al.svg`,
  toSvg(
    budgets,
    all,
    `${dataName} test accuracy vs labels (${n} pool, ${seeds.length} seed(s))`,
  ),
);
console.log(`wrote ${values.out}/al.csv, al.json, al.svg; total ${since()}`);
