/**
 * The SSVAE training loop: shuffled minibatches, AdamW, an evaluation pass per
 * epoch, early stopping, a cooperative stop and a NaN guard.
 */
import {
  type MetricName,
  resolveConfig,
  type SSVAEConfig,
  TUNABLE_FIELDS,
} from "../ssvae/config.ts";
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../ssvae/backend.ts";
import {
  CLASSIFIER_HIDDEN,
  emptyPrediction,
  featureDim,
  type Prediction,
  SSVAE,
} from "../ssvae/model.ts";
import { Rng } from "../ssvae/rng.ts";
import { AdamW } from "./adamw.ts";
import { gatherRows } from "./batches.ts";
import { evaluateSplit } from "./evaluate.ts";
import { HelperThread } from "./helper_thread.ts";
import { shardGradients, type ShardInput } from "./shard.ts";
import { SharedBuffers } from "./shared_buffers.ts";
import { makeSplit, type Split } from "./split.ts";
import {
  type EpochMetrics,
  type HistoryEntry,
  type TrainCallbacks,
  TrainingError,
  type TrainResult,
} from "./types.ts";

/** Rows per predict chunk (split across the threads): bounds temporary copies. */
const PREDICT_CHUNK = 8192;

/** How often (ms) the loop yields to the event loop so stop messages get through. */
const YIELD_EVERY_MS = 50;

/** How the trainer runs. */
export interface TrainerOptions {
  /**
   * 1 trains on this thread only; 2 splits every batch with a helper worker.
   * Default: `SSVAE_THREADS` from the environment, else 2 on a machine with two or
   * more cores.
   */
  threads?: 1 | 2;
  /** The tfjs backend the helper thread initialises (same as this thread's). */
  backend?: BackendName;
}

function defaultThreads(): 1 | 2 {
  try {
    const env = Deno.env.get("SSVAE_THREADS");
    if (env === "1" || env === "2") return Number(env) as 1 | 2;
  } catch {
    // No env permission: decide by core count.
  }
  return (navigator.hardwareConcurrency ?? 1) >= 2 ? 2 : 1;
}

/** Options of `Trainer.predict`. */
export interface PredictOptions {
  /** Also decode the reconstructions (default true). */
  decode?: boolean;
  /** Rows per chunk split between the threads (default 8192). */
  chunkRows?: number;
  /** Write into this prediction from row `at` on, instead of a new one. */
  into?: { out: Prediction; at: number };
}

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
  readonly #threads: 1 | 2;
  readonly #backend?: BackendName;
  #helper: HelperThread | null = null;
  /** The helper's start, shared by concurrent callers. */
  #helperStart: Promise<HelperThread> | null = null;
  #disposed = false;
  /** Fraction of each batch this thread computes when a helper takes the rest. */
  #localShare = 0.5;
  /** This thread's batch rows (without a helper) and gradients, reused every step. */
  readonly #buffers = new SharedBuffers();
  readonly #grads: Float32Array[];
  /** The last predict call: calls run one after the other (they share buffers). */
  #predicting: Promise<unknown> = Promise.resolve();
  /**
   * Where the steps' time went, summed since the trainer was made (zero the
   * fields to restart): host work (rows, noise), this thread's shard, the wait
   * for the helper after it, the helper's own compute time, the AdamW update,
   * the evaluation passes; and the last share of rows this thread computed.
   * Read by bench/profile_epoch.ts.
   */
  readonly stepStats = {
    steps: 0,
    hostMs: 0,
    localMs: 0,
    waitMs: 0,
    helperMs: 0,
    applyMs: 0,
    evalMs: 0,
    localShare: 0.5,
  };

  /** Wraps `model`; optimizer moments start at zero, the random stream at the seed. */
  constructor(model: SSVAE, options: TrainerOptions = {}) {
    this.model = model;
    this.#threads = options.threads ?? defaultThreads();
    // The helper thread runs the same backend as this one unless told otherwise.
    this.#backend = options.backend ?? (tf.getBackend() as BackendName);
    const vars = model.variables();
    this.#optimizer = new AdamW(
      vars,
      vars.map((v) => v.name.endsWith("/kernel")),
    );
    this.#grads = vars.map((v) => new Float32Array(v.size));
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

  /** How many threads a step uses. */
  get threads(): 1 | 2 {
    return this.#threads;
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
    targets?: Float32Array,
  ): Promise<TrainResult> {
    return this.run(this.config.max_epochs, images, labels, callbacks, targets);
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
    targets?: Float32Array,
  ): Promise<TrainResult> {
    if (this.#running) throw new TrainingError("training is already running");
    const count = labels.length;
    const D = this.model.config.input_dim;
    if (images.length !== count * D) {
      throw new TrainingError(
        `images hold ${
          images.length / D
        } samples of ${D} pixels but labels ${count}`,
      );
    }
    const C = this.model.config.num_classes;
    if (targets && targets.length !== count * C) {
      throw new TrainingError(
        `targets hold ${
          targets.length / C
        } rows of ${C} classes but labels ${count}`,
      );
    }
    if (!Number.isInteger(numEpochs) || numEpochs < 1) {
      throw new TrainingError(
        `epochs must be a positive integer, got ${numEpochs}`,
      );
    }
    this.#running = true;
    this.#stopRequested = false;
    try {
      await this.#startHelper();
    } catch (err) {
      this.#running = false;
      throw err;
    }
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
          targets,
          callbacks,
        );
        // A stop mid-epoch skips the rest of it, its evaluation pass included:
        // the epoch is not counted and the caller gets control back at once.
        if (!finished) break;
        const metrics = await this.#evaluate(images, labels, split);
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
    targets?: Float32Array,
    callbacks: TrainCallbacks[] = [],
  ): Promise<boolean> {
    const order = this.#rng.shuffle(Uint32Array.from(trainIdx));
    const bs = this.config.batch_size;
    const batches = Math.ceil(order.length / bs);
    let lastYield = performance.now();
    for (let s = 0; s < order.length; s += bs) {
      if (this.#stopRequested) return false;
      const loss = await this.#step(
        images,
        labels,
        order.subarray(s, s + bs),
        targets,
      );
      if (!Number.isFinite(loss)) {
        this.#restore(good);
        throw new TrainingError(
          `epoch ${this.epoch + 1}, step ${
            this.step + 1
          }: the loss is ${loss} (not finite); parameters restored to the last good epoch`,
        );
      }
      for (const cb of callbacks) {
        cb.onBatchEnd?.({
          epoch: this.epoch + 1,
          batch: s / bs + 1,
          batches,
          size: Math.min(bs, order.length - s),
          loss,
        }, this);
      }
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = performance.now();
      }
    }
    return true;
  }

  /**
   * One optimizer step on the rows `indices`; returns the batch loss (the update
   * is skipped when it is not finite). With a helper thread the batch is cut in
   * two shards computed at once; the noise is drawn for the whole batch first, so
   * the result does not depend on the number of threads.
   */
  async #step(
    images: Float32Array,
    labels: Float32Array,
    indices: Uint32Array,
    targets?: Float32Array,
  ): Promise<number> {
    const cfg = this.config;
    const stats = this.stepStats;
    const tHost = performance.now();
    // The whole batch goes into arrays shared with the helper (it reads its
    // rows in place), or into this thread's own when there is none.
    const rows = gatherRows(
      images,
      labels,
      indices,
      targets && cfg.pseudo_label_weight > 0
        ? { targets, weight: cfg.pseudo_label_weight }
        : undefined,
      (this.#helper?.buffers ?? this.#buffers).rows(
        indices.length,
        cfg.input_dim,
        cfg.num_classes,
      ),
      cfg.num_classes,
    );
    const whole: ShardInput = { ...rows, ...this.#drawNoise(rows.count) };
    stats.steps++;
    stats.hostMs += performance.now() - tHost;
    const normalizer = {
      batchSize: rows.count,
      labelledCount: rows.labelledCount,
    };
    const settings = {
      learningRate: cfg.learning_rate,
      weightDecay: cfg.weight_decay,
      gradClipNorm: cfg.grad_clip_norm,
    };
    if (!this.#helper || rows.count < 2) {
      const t0 = performance.now();
      const result = shardGradients(
        this.model,
        cfg,
        whole,
        normalizer,
        this.#grads,
      );
      const t1 = performance.now();
      if (Number.isFinite(result.loss)) {
        this.#optimizer.apply(result.grads, settings);
      }
      stats.localMs += t1 - t0;
      stats.applyMs += performance.now() - t1;
      return result.loss;
    }
    const cut = Math.min(
      rows.count - 1,
      Math.max(1, Math.round(rows.count * this.#localShare)),
    );
    const remote = this.#helper.shard(
      this.#optimizer.version,
      sliceShard(whole, cut, rows.count, cfg.latent_dim, cfg.num_classes, true),
      normalizer,
    );
    const t0 = performance.now();
    const local = shardGradients(
      this.model,
      cfg,
      sliceShard(whole, 0, cut, cfg.latent_dim, cfg.num_classes, false),
      normalizer,
      this.#grads,
    );
    const localMs = performance.now() - t0;
    const other = await remote;
    // If we waited, the helper's finish time is known; if not, its own compute
    // time is the best estimate of how much sooner it was done.
    const elapsed = performance.now() - t0;
    this.#balance(localMs, elapsed - localMs > 0.5 ? elapsed : other.computeMs);
    const loss = local.loss + other.loss;
    const t1 = performance.now();
    if (Number.isFinite(loss)) {
      this.#optimizer.apply(local.grads, settings, other.grads);
    }
    stats.localMs += localMs;
    stats.waitMs += elapsed - localMs;
    stats.helperMs += other.computeMs;
    stats.applyMs += performance.now() - t1;
    stats.localShare = this.#localShare;
    return loss;
  }

  /**
   * Moves rows between the threads so both finish a step together. The helper
   * pays for messages and a parameter upload, so an even split leaves this thread
   * idle; the share settles where the two times meet. Only float rounding depends
   * on the split: the noise is drawn per row of the whole batch.
   */
  #balance(localMs: number, helperMs: number): void {
    const gap = (helperMs - localMs) / (helperMs + localMs);
    this.#localShare = Math.min(
      0.8,
      Math.max(0.3, this.#localShare + 0.2 * gap),
    );
  }

  /** The reparameterisation noise and dropout masks of one step, from the trainer's stream. */
  #drawNoise(n: number): Pick<ShardInput, "eps" | "dropoutMasks"> {
    const eps = this.#rng.fillNormal(
      new Float32Array(n * this.config.latent_dim),
    );
    const rate = this.config.dropout_rate;
    const keepScale = 1 / (1 - rate);
    const dropoutMasks = CLASSIFIER_HIDDEN.map((width) => {
      const m = new Float32Array(n * width);
      for (let i = 0; i < m.length; i++) {
        m[i] = this.#rng.uniform() >= rate ? keepScale : 0;
      }
      return m;
    });
    return { eps, dropoutMasks };
  }

  async #evaluate(
    images: Float32Array,
    labels: Float32Array,
    split: Split,
  ): Promise<EpochMetrics> {
    const helper = this.#helper
      ? { thread: this.#helper, version: this.#optimizer.version }
      : undefined;
    const run = (idx: Uint32Array) =>
      evaluateSplit(this.model, this.config, images, labels, idx, helper);
    const t0 = performance.now();
    const metrics = {
      train: await run(split.train),
      val: await run(split.val),
    };
    this.stepStats.evalMs += performance.now() - t0;
    return metrics;
  }

  /**
   * Starts the helper thread in the background (two threads only), so the
   * next run or prediction finds it ready; a failed start shows at the run.
   */
  warmUp(): void {
    this.#startHelper().catch(() => {});
  }

  /** Starts the helper thread once: callers during the start share it. */
  async #startHelper(): Promise<HelperThread | null> {
    if (this.#threads !== 2 || this.#disposed) return null;
    try {
      this.#helperStart ??= HelperThread.start(
        this.config,
        this.#optimizer.sharedValues,
        this.#optimizer.values.map((v) => v.length),
        this.#backend,
      );
      const helper = await this.#helperStart;
      if (this.#disposed) {
        // Disposed while it loaded: nobody else will stop it.
        helper.terminate();
        return null;
      }
      this.#helper = helper;
      await helper.setConfig(this.config);
      return helper;
    } catch (err) {
      this.#helper?.terminate();
      this.#helper = null;
      this.#helperStart = null;
      throw err;
    }
  }

  /**
   * Evaluation-mode predictions for `count` images, like `model.predict`, but with
   * each chunk of rows split across both threads when there are two. Each
   * thread writes its rows' results without temporary arrays: this one
   * straight into the output, the helper into shared arrays copied from.
   * With `into`, the rows go into that prediction from row `into.at` on (a
   * caller predicting chunk after chunk reuses one output). Calls run one
   * after the other.
   */
  predict(
    images: Float32Array,
    count: number,
    opts: PredictOptions = {},
  ): Promise<Prediction> {
    const call = this.#predicting.then(() =>
      this.#predict(images, count, opts)
    );
    this.#predicting = call.catch(() => {});
    return call;
  }

  async #predict(
    images: Float32Array,
    count: number,
    opts: PredictOptions,
  ): Promise<Prediction> {
    // Only a helper that already runs: the first prediction (the dashboard's
    // start) does not wait ~1.7 s for one to load tfjs (see warmUp).
    const helper = this.#helper;
    const chunk = opts.chunkRows ?? PREDICT_CHUNK;
    const decode = opts.decode ?? true;
    if (!helper || count < 2) {
      return this.model.predict(images, count, { decode, into: opts.into });
    }
    const L = this.config.latent_dim;
    const H = featureDim(this.config);
    const D = this.config.input_dim;
    const C = this.config.num_classes;
    const out = opts.into?.out ?? emptyPrediction(count, L, H, decode, D, C);
    const first = opts.into?.at ?? 0;
    const place = (p: Prediction, at: number) => {
      out.latent.set(p.latent, at * L);
      out.features.set(p.features, at * H);
      if (decode) out.recon.set(p.recon, at * D);
      out.predClass.set(p.predClass, at);
      out.certainty.set(p.certainty, at);
      out.probs.set(p.probs, at * C);
    };
    // Not the buffers a training step uses: a predict between two steps
    // (from a callback) leaves them alone.
    const b = helper.buffers;
    for (let start = 0; start < count; start += chunk) {
      const end = Math.min(count, start + chunk);
      const cut = start + Math.ceil((end - start) / 2);
      const n = end - cut;
      const x = b.floats("predict/x", n * D);
      x.set(images.subarray(cut * D, end * D));
      const remote = helper.predict(this.#optimizer.version, x, n, decode, {
        latent: b.floats("predict/latent", n * L),
        recon: b.floats("predict/recon", decode ? n * D : 0),
        predClass: b.bytes("predict/predClass", n),
        certainty: b.floats("predict/certainty", n),
        probs: b.floats("predict/probs", n * C),
        features: b.floats("predict/features", n * H),
      });
      this.model.predict(
        images.subarray(start * D, cut * D),
        cut - start,
        { decode, into: { out, at: first + start } },
      );
      place(await remote, first + cut);
    }
    return out;
  }

  /** Like dispose, and waits until a helper still loading (warmUp) is stopped too. */
  async close(): Promise<void> {
    this.dispose();
    await this.#helperStart?.catch(() => {});
  }

  /** Stops the helper thread (if any) and frees the model's tensors. */
  dispose(): void {
    this.#disposed = true;
    this.#helper?.terminate();
    this.#helper = null;
    this.model.dispose();
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
    });
    o.pushValuesToVariables();
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

/**
 * Rows [from, to) of a shard. `copy` gives arrays of their own (to transfer to the
 * helper), except for shared arrays (the helper reads those in place);
 * otherwise views.
 */
function sliceShard(
  s: ShardInput,
  from: number,
  to: number,
  latentDim: number,
  classes: number,
  copy: boolean,
): ShardInput {
  const cut = (a: Float32Array, width: number) =>
    copy && !(a.buffer instanceof SharedArrayBuffer)
      ? a.slice(from * width, to * width)
      : a.subarray(from * width, to * width);
  const D = s.x.length / (s.oneHot.length / classes);
  const x = cut(s.x, D);
  const oneHot = cut(s.oneHot, classes);
  let labelledCount = 0;
  for (let i = 0; i < oneHot.length; i++) labelledCount += oneHot[i];
  return {
    x,
    oneHot,
    labelledCount,
    eps: cut(s.eps, latentDim),
    dropoutMasks: s.dropoutMasks.map((m, i) => cut(m, CLASSIFIER_HIDDEN[i])),
  };
}
