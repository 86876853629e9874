/** The trainer the dashboard drives: many short runs that continue one another. */
import type { SSVAEConfig } from "../ssvae/config.ts";
import { Trainer } from "./trainer.ts";
import type { TrainCallbacks, TrainResult } from "./types.ts";

/**
 * A Trainer whose `trainEpochs` can be called again and again: parameters,
 * optimizer moments, step counter, random stream and history carry over, and
 * config changes (learning rate, loss weights) apply to the next call.
 */
export class InteractiveTrainer extends Trainer {
  /** Trains `numEpochs` more epochs, first applying `overrides` to the config. */
  trainEpochs(
    numEpochs: number,
    images: Float32Array,
    labels: Float32Array,
    opts: {
      callbacks?: TrainCallbacks[];
      overrides?: Partial<SSVAEConfig>;
      /**
       * N × 10 soft labels for the unlabelled images (the neighbour graph's),
       * weighted by `pseudo_label_weight`; rows of labelled images are ignored.
       */
      targets?: Float32Array;
    } = {},
  ): Promise<TrainResult> {
    if (opts.overrides) this.updateConfig(opts.overrides);
    return this.run(
      numEpochs,
      images,
      labels,
      opts.callbacks ?? [],
      opts.targets,
    );
  }
}
