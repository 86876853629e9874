/** Shapes shared by the trainers, their callbacks and the checkpoint. */
import type { MetricName } from "../ssvae/config.ts";
import type { Trainer } from "./trainer.ts";

/** One split's epoch metrics; `classification_loss` is unweighted. */
export type SplitMetrics = Record<MetricName, number>;

/** Metrics of one epoch, from the evaluation pass. */
export interface EpochMetrics {
  train: SplitMetrics;
  val: SplitMetrics;
}

/** One row of the training history. */
export interface HistoryEntry extends EpochMetrics {
  /** 1-based epoch number over the model's whole life. */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** Wall-clock seconds the epoch took (train + evaluation pass). */
  seconds: number;
}

/** One finished training batch, as `onBatchEnd` sees it. */
export interface BatchInfo {
  /** 1-based epoch over the model's whole life (the epoch being trained). */
  epoch: number;
  /** Batches done in this epoch, 1-based. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Rows in this batch (the last one may be short). */
  size: number;
  /** The batch's total training loss (mean over its rows). */
  loss: number;
}

/** Hooks called by `trainEpochs`; any may be async except `onBatchEnd`. */
export interface TrainCallbacks {
  onTrainStart?(trainer: Trainer): void | Promise<void>;
  /**
   * After every optimizer step. Synchronous and not awaited, so it must be
   * cheap: it runs in the inner loop (progress reporting, not work).
   */
  onBatchEnd?(info: BatchInfo, trainer: Trainer): void;
  onEpochEnd?(
    epoch: number,
    metrics: EpochMetrics,
    history: HistoryEntry[],
    trainer: Trainer,
  ): void | Promise<void>;
  onTrainEnd?(history: HistoryEntry[], trainer: Trainer): void | Promise<void>;
}

/** How a `trainEpochs` call ended. */
export interface TrainResult {
  epochsRun: number;
  stoppedEarly: boolean;
  stopRequested: boolean;
  history: HistoryEntry[];
}

/** Training failed (for example a non-finite loss); parameters were restored. */
export class TrainingError extends Error {
  override name = "TrainingError";
}
