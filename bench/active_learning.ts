/**
 * `deno task bench:al`: a simulated annotator. Starting from one label per class,
 * each round labels `--per-round` more samples chosen by each strategy (the true
 * MNIST labels are the oracle), trains `--epochs` more epochs, and records MNIST
 * test accuracy. Prints accuracy against the number of labels per strategy.
 *
 * Defaults (a 10k-image pool, 10 rounds of 10, 3 epochs a round) run in about
 * 10 minutes on 2 cores; `--pool 60000` uses the full training set.
 */
import { parseArgs } from "node:util";
import {
  acquisitionScores,
  isStrategy,
  STRATEGIES,
  type Strategy,
  topSuggestions,
} from "../lib/active/strategies.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { loadTestSet, loadTrainImages } from "../lib/data/mnist.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { resolveConfig } from "../lib/ssvae/config.ts";
import { SSVAE } from "../lib/ssvae/model.ts";
import { accuracyOf } from "../lib/training/accuracy.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    pool: { type: "string", default: "10000" },
    rounds: { type: "string", default: "10" },
    "per-round": { type: "string", default: "10" },
    epochs: { type: "string", default: "3" },
    "warmup-epochs": { type: "string", default: "5" },
    strategies: { type: "string", default: STRATEGIES.join(",") },
    seed: { type: "string", default: "42" },
  },
});
/** A whole-number flag, or exit with a clear message. */
function whole(name: keyof typeof values): number {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(
      `error: --${name} must be a whole number, got ${values[name]}`,
    );
    Deno.exit(1);
  }
  return v;
}
const pool = whole("pool"), rounds = whole("rounds");
const perRound = whole("per-round"), epochs = whole("epochs");
const warmup = whole("warmup-epochs"), seed = whole("seed");
const strategies = (values.strategies as string).split(",").map((s) => {
  if (!isStrategy(s)) {
    console.error(
      `error: unknown strategy ${s}; choose from ${STRATEGIES.join(", ")}`,
    );
    Deno.exit(1);
  }
  return s;
});

await initBackend();
const train = await loadTrainImages({ limit: pool });
const test = await loadTestSet({ pixelMax: train.pixelMax });
const config = resolveConfig({ patience: 1_000_000, random_seed: seed });
console.log(
  `pool ${train.count} images; start 10 labels (1 per class); ${rounds} rounds of ${perRound}; ` +
    `${warmup} warm-up epochs, then ${epochs} per round`,
);

const table = new Map<Strategy, number[]>();
const labelCounts: number[] = [];
const started = performance.now();
for (const strategy of strategies) {
  // Every strategy starts from the same model and the same 10 labels.
  const trainer = new InteractiveTrainer(new SSVAE(config));
  // Labels come from the training split only: a label on a validation image
  // never reaches the classifier and would skew the comparison.
  const split = trainer.splitFor(train.count);
  const labels = labelsPerClass(train.labels, 1, seed, split.train);
  const accuracies: number[] = [];
  const testAccuracy = () =>
    accuracyOf(
      trainer.model.predict(test.images, test.count, { decode: false })
        .predClass,
      test.labels,
    ).overall;
  await trainer.trainEpochs(warmup, train.images, labels);
  accuracies.push(testAccuracy());
  if (labelCounts.length === 0) labelCounts.push(10);
  for (let r = 1; r <= rounds; r++) {
    const { probs } = await trainer.predict(train.images, train.count, {
      decode: false,
    });
    const scores = acquisitionScores(probs, strategy, seed + r);
    for (const i of split.val) scores[i] = -Infinity;
    const picks = topSuggestions(
      scores,
      labels,
      perRound,
    );
    for (const i of picks) labels[i] = train.labels[i]; // the oracle answers
    await trainer.trainEpochs(epochs, train.images, labels);
    accuracies.push(testAccuracy());
    if (labelCounts.length <= r) labelCounts.push(10 + r * perRound);
  }
  trainer.dispose();
  table.set(strategy, accuracies);
  console.log(
    `${strategy.padEnd(17)} done in ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s; ` +
      `final ${(100 * accuracies[accuracies.length - 1]).toFixed(2)}%`,
  );
}

console.log("\nMNIST test accuracy (%) by number of labels");
console.log(["labels", ...strategies].map((s) => s.padStart(17)).join(""));
labelCounts.forEach((n, r) => {
  console.log(
    [String(n), ...strategies.map((s) => (100 * table.get(s)![r]).toFixed(2))]
      .map((c) => c.padStart(17)).join(""),
  );
});
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
