/**
 * Messages between the server's main thread (lib/server/training_controller.ts)
 * and workers/training_worker.ts.
 * Types only, shared by both sides so a renamed field fails `deno check`.
 */

import type { SSVAEConfig } from "../ssvae/config.ts";
import type { EpochMetrics, HistoryEntry } from "../training/types.ts";
import type { RunRecord } from "../training/runs.ts";
import type { BatchProgress } from "./api.ts";
import type { DataSpec } from "../data/source.ts";

export type { EpochMetrics, HistoryEntry, RunRecord };

export interface InitMessage {
  type: "init";
  data: DataSpec;
  /**
   * Number of classes of the data set: the model has `modelClassCount` of
   * them, and predictions keep the first `classCount`.
   */
  classCount: number;
  weightsPath: string;
  /** Transfer the raw image bytes back (only the first worker: a restarted one has them already). */
  sendRaw: boolean;
  /** Accept fault-injection messages (tests only). */
  testHooks: boolean;
}

export interface TrainMessage {
  type: "train";
  runId: number;
  epochs: number;
  overrides: Partial<
    Pick<SSVAEConfig, "recon_weight" | "kl_weight" | "learning_rate">
  >;
  /** A copy of the label view at train start (NaN = unlabelled); transferred. */
  labels: Float32Array;
  /** The label graph's probabilities (N × num_classes) at train start: soft labels; transferred. */
  targets?: Float32Array;
  /**
   * The label graph's predicted class of every test image at train start:
   * the run's reported test accuracy is the dashboard's predictions'.
   */
  graphTestPred?: Uint8Array;
  /** Which graph made `graphTestPred` (absent: the real one). */
  graphPredictor?: "graph" | "quick graph";
}

/**
 * Score run `run` (its record in runs.json) again with the real label
 * graph's test predictions for the labels it trained with: it ended before
 * that graph existed. Answered by `rescored`.
 */
export interface RescoreMessage {
  type: "rescore";
  run: number;
  graphTestPred: Uint8Array;
}

/**
 * Stop the run `runId` at its next batch boundary. The controller sends one
 * for every stop request while the run is active, and the worker remembers it
 * even when it arrives before the run has begun to train.
 */
export interface StopMessage {
  type: "stop";
  runId: number;
}

export interface PredictMessage {
  type: "predict";
}

/**
 * Test hooks: make the next epoch end fail with a TrainingError ("nan", as a
 * non-finite loss does) or a plain error ("epoch_error"), or kill the worker.
 */
export type Fault = "nan" | "epoch_error" | "crash";
export interface FaultMessage {
  type: "fault";
  fault: Fault;
}

export type ToWorker =
  | InitMessage
  | TrainMessage
  | StopMessage
  | PredictMessage
  | RescoreMessage
  | FaultMessage;

/** The data set is in memory. `raw` is transferred when requested in init. */
export interface DataLoadedMessage {
  type: "data";
  count: number;
  rows: number;
  cols: number;
  channels: number;
  raw?: Uint8Array;
  pixelMax: Float32Array;
}

/** Model state after init, after a run, or after recovering from an error. */
export interface ModelMessage {
  type: "model";
  config: SSVAEConfig;
  history: HistoryEntry[];
  step: number;
  fromCheckpoint: boolean;
}

/** A full prediction over the data set; every buffer is transferred. */
export interface PredictionMessage {
  type: "prediction";
  latent: Float32Array;
  latentDim: number;
  /** clip(recon * pixelMax, 0, 1) * 255: display-ready reconstruction bytes. */
  recon: Uint8Array;
  predClass: Uint8Array;
  certainty: Float32Array;
  probs: Float32Array;
  seconds: number;
}

export interface ProgressMessage {
  type: "progress";
  message: string;
}

export interface ReadyMessage {
  type: "ready";
}

export interface TrainStartedMessage {
  type: "train_started";
  runId: number;
  targetEpochs: number;
  config: SSVAEConfig;
}

/**
 * Progress within an epoch (throttled: see lib/training/run_progress.ts);
 * broadcast to the pages as the `batch` event without `runId`.
 */
export interface BatchMessage extends BatchProgress {
  type: "batch";
  runId: number;
}

export interface EpochMessage {
  type: "epoch";
  runId: number;
  /** 1-based epoch within this run. */
  epoch: number;
  targetEpochs: number;
  metrics: EpochMetrics;
  entry: HistoryEntry;
}

/**
 * End of a run: checkpoint saved. A completed run (or one ended by an error
 * after good epochs) has already posted its prediction and evaluation; a
 * stopped run posts them right after this message, so Stop reaches idle fast.
 */
export interface TrainDoneMessage {
  type: "train_done";
  runId: number;
  outcome: "complete" | "stopped" | "error";
  epochsRun: number;
  stoppedEarly: boolean;
  message?: string;
  checkpointSaved: boolean;
}

/** The run records read from runs.json at init (`error`: the file is unreadable). */
export interface RunsMessage {
  type: "runs";
  records: RunRecord[];
  error?: string;
}

/**
 * Test-set evaluation of a finished run, posted before its `train_done` (a
 * stopped run's: right after it).
 * `record` is absent when the evaluation failed (`message` says why);
 * `saved` = appended to runs.json.
 */
export interface EvaluationMessage {
  type: "evaluation";
  runId: number;
  record?: RunRecord;
  saved: boolean;
  message?: string;
}

/** A run's record scored again (`rescore`); `saved` = written to runs.json. */
export interface RescoredMessage {
  type: "rescored";
  record?: RunRecord;
  saved: boolean;
  message?: string;
}

/** A failure outside a run (init, predict); `fatal` = the worker cannot continue. */
export interface ErrorMessage {
  type: "error";
  message: string;
  fatal: boolean;
}

export type FromWorker =
  | DataLoadedMessage
  | ModelMessage
  | PredictionMessage
  | ProgressMessage
  | ReadyMessage
  | TrainStartedMessage
  | BatchMessage
  | EpochMessage
  | TrainDoneMessage
  | RunsMessage
  | RescoredMessage
  | EvaluationMessage
  | ErrorMessage;
