/**
 * A finished run scored on the test set: the run record that goes to the
 * checkpoint's runs.json (lib/training/runs.ts) and to the page.
 */

import type { ImageSet } from "../data/mnist.ts";
import { accuracyOf } from "./accuracy.ts";
import type { InteractiveTrainer } from "./interactive_trainer.ts";
import type { RunRecord } from "./runs.ts";

/** Images per test-set predict call (no decoder: small buffers). */
const EVAL_CHUNK = 4096;

/** What the run was asked to do and what it did. */
export interface RunSummary {
  /** Its 1-based number within the checkpoint's records. */
  run: number;
  /** The labels it trained with (NaN = unlabelled). */
  labels: Float32Array;
  /** The label graph's class of every test image, if sent with the run. */
  graphTestPred?: Uint8Array;
  /** Which graph made `graphTestPred` (absent: the real one). */
  graphPredictor?: "graph" | "quick graph";
  targetEpochs: number;
  outcome: RunRecord["outcome"];
  epochsRun: number;
  durationSeconds: number;
  /** `performance.now()` when the evaluation began (the test set's load included). */
  evalStarted: number;
}

/**
 * Scores the trainer's model on `test` (scaled with the training pixelMax).
 * The reported accuracy is the label graph's predictions' when they cover the
 * test set (what the dashboard shows), else the classifier's; the
 * classifier's own is kept beside it.
 */
export async function scoreRun(
  trainer: InteractiveTrainer,
  test: ImageSet,
  run: RunSummary,
): Promise<RunRecord> {
  const pixels = test.rows * test.cols * test.channels;
  const predClass = new Uint8Array(test.count);
  for (let start = 0; start < test.count; start += EVAL_CHUNK) {
    const n = Math.min(EVAL_CHUNK, test.count - start);
    const p = await trainer.predict(
      test.images.subarray(start * pixels, (start + n) * pixels),
      n,
      { decode: false },
    );
    predClass.set(p.predClass, start);
  }
  // The model's class count: 10 up to ten classes, else one per class.
  const C = trainer.model.config.num_classes;
  const classifier = accuracyOf(predClass, test.labels, C);
  const graphPred = run.graphTestPred?.length === test.count
    ? run.graphTestPred
    : null;
  const acc = graphPred ? accuracyOf(graphPred, test.labels, C) : classifier;
  const perClass = new Array<number>(C).fill(0);
  let labelled = 0;
  for (const l of run.labels) {
    if (!Number.isNaN(l)) {
      labelled++;
      perClass[l]++;
    }
  }
  return {
    run: run.run,
    timestamp: new Date().toISOString(),
    labels: labelled,
    labelsPerClass: perClass,
    config: structuredClone(trainer.model.config),
    epochs: run.epochsRun,
    targetEpochs: run.targetEpochs,
    totalEpochs: trainer.epoch,
    step: trainer.step,
    outcome: run.outcome,
    durationSeconds: run.durationSeconds,
    evalSeconds: (performance.now() - run.evalStarted) / 1000,
    testCount: test.count,
    accuracy: { overall: acc.overall, perClass: acc.perClass },
    confusion: acc.confusion,
    predictor: graphPred ? (run.graphPredictor ?? "graph") : "classifier",
    classifierAccuracy: classifier.overall,
  };
}

/**
 * `record` scored with the real label graph's test predictions `graphPred`
 * (for the labels it trained with): the run ended before that graph
 * existed. Its first score is kept in `firstScore`.
 */
export function rescoreRun(
  record: RunRecord,
  test: ImageSet,
  graphPred: Uint8Array,
): RunRecord {
  const C = record.labelsPerClass.length;
  const acc = accuracyOf(graphPred, test.labels, C);
  const before = record.predictor === "quick graph"
    ? "quick graph"
    : "classifier";
  return {
    ...record,
    accuracy: { overall: acc.overall, perClass: acc.perClass },
    confusion: acc.confusion,
    predictor: "graph",
    firstScore: record.firstScore ??
      { overall: record.accuracy.overall, predictor: before },
  };
}
