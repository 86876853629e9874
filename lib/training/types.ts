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

/** Hooks called by `trainEpochs`; any may be async. */
export interface TrainCallbacks {
  onTrainStart?(trainer: Trainer): void | Promise<void>;
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
