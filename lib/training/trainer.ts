/**
 * The SSVAE training loop: shuffled minibatches, AdamW, an evaluation pass per
 * epoch, early stopping, a cooperative stop and a NaN guard.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type MetricName,
  resolveConfig,
  type SSVAEConfig,
  TUNABLE_FIELDS,
} from "../ssvae/config.ts";
import { ssvaeLoss } from "../ssvae/loss.ts";
import { IMAGE_SIZE, SSVAE } from "../ssvae/model.ts";
import { Rng } from "../ssvae/rng.ts";
import { AdamW } from "./adamw.ts";
import { type Batch, disposeBatch, gatherBatch } from "./batches.ts";
import { evaluateSplit } from "./evaluate.ts";
import { makeSplit, type Split } from "./split.ts";
import {
  type EpochMetrics,
  type HistoryEntry,
  type SplitMetrics,
  type TrainCallbacks,
  TrainingError,
  type TrainResult,
} from "./types.ts";

/** How often (ms) the loop yields to the event loop so stop messages get through. */
const YIELD_EVERY_MS = 50;

/** Everything needed to resume training exactly; what a checkpoint stores. */
export interface TrainerState {
  config: SSVAEConfig;
  /** Parameter values, first and second moments, in `model.variables()` order. */
  values: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  step: number;
  epoch: number;
  rngState: Uint32Array;
  history: HistoryEntry[];
}

interface Snapshot {
  values: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  step: number;
  rngState: Uint32Array;
}

/** Owns a model, its optimizer state, random stream and history. */
export class Trainer {
  readonly model: SSVAE;
  readonly history: HistoryEntry[] = [];
  /** Completed epochs over the model's life. */
  epoch = 0;
  readonly #optimizer: AdamW;
  #rng: Rng;
  #split: Split | null = null;
  #stopRequested = false;
  #running = false;

  /** Wraps `model`; optimizer moments start at zero, the random stream at the seed. */
  constructor(model: SSVAE) {
    this.model = model;
    const vars = model.variables();
    this.#optimizer = new AdamW(
      vars,
      vars.map((v) => v.name.endsWith("/kernel")),
    );
    // Distinct from the init stream so that resuming never replays init draws.
    this.#rng = new Rng((model.config.random_seed + 1) >>> 0);
  }

  /** The live config (tunable fields change through `updateConfig`). */
  get config(): SSVAEConfig {
    return this.model.config;
  }

  /** Optimizer steps taken over the model's life. */
  get step(): number {
    return this.#optimizer.step;
  }

  /** Whether a training call is in progress. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Changes tunable fields (learning rate, loss weights, ...). They apply from the
   * next step on; the optimizer moments are kept. Architecture fields are refused.
   */
  updateConfig(overrides: Partial<SSVAEConfig>): void {
    for (const key of Object.keys(overrides)) {
      if (!(TUNABLE_FIELDS as readonly string[]).includes(key)) {
        throw new TrainingError(
          `config.${key} cannot change on a trained model`,
        );
      }
    }
    Object.assign(
      this.model.config,
      resolveConfig(overrides, this.model.config),
    );
  }

  /** Asks the running call to stop at the next batch boundary. */
  requestStop(): void {
    if (this.#running) this.#stopRequested = true;
  }

  /** The fixed split for a dataset of `count` samples. */
  splitFor(count: number): Split {
    if (
      !this.#split ||
      this.#split.train.length + this.#split.val.length !== count
    ) {
      this.#split = makeSplit(
        count,
        this.config.val_split,
        this.config.random_seed,
      );
    }
    return this.#split;
  }

  /** Trains up to `config.max_epochs` with early stopping (the CLI's run). */
  fit(
    images: Float32Array,
    labels: Float32Array,
    callbacks: TrainCallbacks[] = [],
  ): Promise<TrainResult> {
    return this.run(this.config.max_epochs, images, labels, callbacks);
  }

  /**
   * Runs up to `numEpochs` epochs, continuing from the current state. Early
   * stopping watches `val[monitor]` within this call. Throws a TrainingError on a
   * non-finite loss after restoring the state of the last good epoch.
   */
  async run(
    numEpochs: number,
    images: Float32Array,
    labels: Float32Array,
    callbacks: TrainCallbacks[] = [],
  ): Promise<TrainResult> {
    if (this.#running) throw new TrainingError("training is already running");
    const count = labels.length;
    if (images.length !== count * IMAGE_SIZE) {
      throw new TrainingError(
        `images hold ${images.length / IMAGE_SIZE} samples but labels ${count}`,
      );
    }
    if (!Number.isInteger(numEpochs) || numEpochs < 1) {
      throw new TrainingError(
        `epochs must be a positive integer, got ${numEpochs}`,
      );
    }
    this.#running = true;
    this.#stopRequested = false;
    const split = this.splitFor(count);
    const monitor = this.#monitorMetric(labels, split);
    const startHistory = this.history.length;
    let best = Infinity, sinceBest = 0, stoppedEarly = false;
    try {
      for (const cb of callbacks) await cb.onTrainStart?.(this);
      for (let e = 0; e < numEpochs; e++) {
        const t0 = performance.now();
        const good = this.#snapshot();
        const finished = await this.#trainOneEpoch(
          images,
          labels,
          split.train,
          good,
        );
        if (!finished) break;
        const metrics = this.#evaluate(images, labels, split);
        if (!allFinite(metrics)) {
          this.#restore(good);
          throw new TrainingError(
            `epoch ${
              this.epoch + 1
            }: the evaluation loss is not finite; parameters restored to the last good epoch`,
          );
        }
        this.epoch += 1;
        const entry: HistoryEntry = {
          epoch: this.epoch,
          step: this.step,
          seconds: (performance.now() - t0) / 1000,
          ...metrics,
        };
        this.history.push(entry);
        for (const cb of callbacks) {
          await cb.onEpochEnd?.(this.epoch, metrics, this.history, this);
        }
        const watched =
          (split.val.length > 0 ? metrics.val : metrics.train)[monitor];
        if (watched < best) {
          best = watched;
          sinceBest = 0;
        } else if (++sinceBest >= this.config.patience) {
          stoppedEarly = true;
          break;
        }
        if (this.#stopRequested) break;
      }
      for (const cb of callbacks) await cb.onTrainEnd?.(this.history, this);
      return {
        epochsRun: this.history.length - startHistory,
        stoppedEarly,
        stopRequested: this.#stopRequested,
        history: this.history,
      };
    } finally {
      this.#running = false;
    }
  }

  /**
   * "auto" watches the classification loss when the validation split has labels,
   * else the total loss. (The reference watched a constant 0 with no labels and
   * stopped after `patience` epochs having learnt nothing.)
   */
  #monitorMetric(labels: Float32Array, split: Split): MetricName {
    if (this.config.monitor_metric !== "auto") {
      return this.config.monitor_metric;
    }
    const watched = split.val.length > 0 ? split.val : split.train;
    for (const i of watched) {
      if (!Number.isNaN(labels[i])) return "classification_loss";
    }
    return "loss";
  }

  /** One pass over the shuffled train split; false when a stop request cut it short. */
  async #trainOneEpoch(
    images: Float32Array,
    labels: Float32Array,
    trainIdx: Uint32Array,
    good: Snapshot,
  ): Promise<boolean> {
    const order = this.#rng.shuffle(Uint32Array.from(trainIdx));
    const bs = this.config.batch_size;
    let lastYield = performance.now();
    for (let s = 0; s < order.length; s += bs) {
      if (this.#stopRequested) return false;
      const batch = gatherBatch(images, labels, order.subarray(s, s + bs));
      try {
        const loss = this.#step(batch);
        if (!Number.isFinite(loss)) {
          this.#restore(good);
          throw new TrainingError(
            `epoch ${this.epoch + 1}, step ${
              this.step + 1
            }: the loss is ${loss} (not finite); parameters restored to the last good epoch`,
          );
        }
      } finally {
        disposeBatch(batch);
      }
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = performance.now();
      }
    }
    return true;
  }

  /** One optimizer step on a batch; returns the batch loss (the update is skipped if not finite). */
  #step(batch: Batch): number {
    const cfg = this.config;
    const noise = this.#drawNoise(batch.size);
    const vars = this.#optimizer.params;
    const { value, grads } = tf.variableGrads(() => {
      const out = this.model.forward(batch.x, noise);
      return ssvaeLoss(batch.x, out, batch.labels, cfg).total;
    }, vars);
    try {
      const loss = value.dataSync()[0];
      if (Number.isFinite(loss)) {
        this.#optimizer.apply(vars.map((v) => grads[v.name]), {
          learningRate: cfg.learning_rate,
          weightDecay: cfg.weight_decay,
          gradClipNorm: cfg.grad_clip_norm,
        });
      }
      return loss;
    } finally {
      tf.dispose([
        value,
        ...Object.values(grads),
        noise.eps,
        ...noise.dropoutMasks,
      ]);
    }
  }

  /** The reparameterisation noise and dropout masks of one step, from the trainer's stream. */
  #drawNoise(n: number) {
    const L = this.config.latent_dim;
    const eps = tf.tensor2d(this.#rng.fillNormal(new Float32Array(n * L)), [
      n,
      L,
    ]);
    const rate = this.config.dropout_rate;
    const keepScale = 1 / (1 - rate);
    const masks = [0, 1].map(() => {
      const m = new Float32Array(n * 64);
      for (let i = 0; i < m.length; i++) {
        m[i] = this.#rng.uniform() >= rate ? keepScale : 0;
      }
      return tf.tensor2d(m, [n, 64]);
    });
    return { eps, dropoutMasks: masks };
  }

  #evaluate(
    images: Float32Array,
    labels: Float32Array,
    split: Split,
  ): EpochMetrics {
    const strip = (
      { labelled: _, ...m }: SplitMetrics & { labelled: number },
    ) => m;
    return {
      train: strip(
        evaluateSplit(this.model, this.config, images, labels, split.train),
      ),
      val: strip(
        evaluateSplit(this.model, this.config, images, labels, split.val),
      ),
    };
  }

  #snapshot(): Snapshot {
    const o = this.#optimizer;
    return {
      values: o.values.map((a) => a.slice()),
      m: o.m.map((a) => a.slice()),
      v: o.v.map((a) => a.slice()),
      step: o.step,
      rngState: this.#rng.state,
    };
  }

  #restore(s: Snapshot): void {
    this.#load(s.values, s.m, s.v, s.step, s.rngState);
  }

  #load(
    values: Float32Array[],
    m: Float32Array[],
    v: Float32Array[],
    step: number,
    rngState: Uint32Array,
  ) {
    const o = this.#optimizer;
    o.params.forEach((p, i) => {
      if (values[i].length !== p.size) {
        throw new TrainingError(
          `parameter ${p.name} holds ${
            values[i].length
          } values, expected ${p.size}`,
        );
      }
      o.values[i].set(values[i]);
      o.m[i].set(m[i]);
      o.v[i].set(v[i]);
      const t = tf.tensor(values[i], p.shape);
      p.assign(t);
      t.dispose();
    });
    o.step = step;
    this.#rng = new Rng(rngState);
  }

  /** The complete resumable state (copies). */
  exportState(): TrainerState {
    const s = this.#snapshot();
    return {
      config: structuredClone(this.config),
      values: s.values,
      m: s.m,
      v: s.v,
      step: s.step,
      epoch: this.epoch,
      rngState: s.rngState,
      history: structuredClone(this.history),
    };
  }

  /** Restores a state exported from a trainer of the same architecture. */
  importState(state: TrainerState): void {
    this.#load(state.values, state.m, state.v, state.step, state.rngState);
    this.updateConfig(pickTunable(state.config));
    this.epoch = state.epoch;
    this.history.splice(0, this.history.length, ...state.history);
  }
}

function pickTunable(c: SSVAEConfig): Partial<SSVAEConfig> {
  return Object.fromEntries(TUNABLE_FIELDS.map((k) => [k, c[k]]));
}

function allFinite(m: EpochMetrics): boolean {
  return [m.train, m.val].every((s) => Object.values(s).every(Number.isFinite));
}
