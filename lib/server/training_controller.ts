/**
 * Main-thread side of the training worker: starts it, keeps the latest
 * prediction snapshot, training status and history, turns worker messages
 * into hub events, and replaces the worker (from the last checkpoint) if it dies.
 */

import type { SSVAEConfig } from "../ssvae/config.ts";
import type { DataSpec } from "../data/source.ts";
import type { PropagationMessage } from "../protocol/graph_worker.ts";
import type {
  DataLoadedMessage,
  Fault,
  FromWorker,
  HistoryEntry,
  InitMessage,
  PredictionMessage,
  RunRecord,
  ToWorker,
  TrainMessage,
} from "../protocol/training_worker.ts";

import type { TrainingInfo } from "../protocol/api.ts";

export interface ControllerOptions {
  weightsPath: string;
  testHooks: boolean;
  /** Events for the WebSocket hub (type + payload). */
  notify: (type: string, payload: Record<string, unknown>) => void;
  log?: (line: string) => void;
  workerUrl?: URL;
  /**
   * The real label graph's test predictions for `labels` (null: none yet):
   * a run that ended before that graph existed is scored again with them.
   */
  classifyTest?: (labels: Float32Array) => Promise<Uint8Array | null>;
}

const MAX_DEATHS_PER_MINUTE = 3;

export class ConflictError extends Error {
  override name = "ConflictError";
}
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

/** The latest prediction over the data set, as the worker posted it. */
export type Snapshot = Omit<PredictionMessage, "type" | "seconds">;

/** The data the worker trains on: given to `start`, kept for restarts. */
export interface TrainingData {
  spec: DataSpec;
  /** Classes of the data set: predictions keep these. */
  classCount: number;
}

/** The first worker's milestones, as `start` promises them. */
interface FirstStart {
  onData: (m: DataLoadedMessage) => void;
  /** The model is loaded (`config` is known); its first prediction follows. */
  onModel: () => void;
  onReady: () => void;
  onFatal: (e: Error) => void;
}

export class TrainingController {
  readonly #opts: ControllerOptions;
  #data: TrainingData | null = null;
  #worker: Worker | null = null;
  /** A worker spawned by `warm()` that has had no `init` yet. */
  #warm: Worker | null = null;
  #workerReady = false;
  #generation = 0;
  #runId = 0;
  #activeRun: number | null = null;
  /** The last run that ended: a stopped run's evaluation follows its end. */
  #endedRun: number | null = null;
  #restarts = 0;
  #deaths: number[] = [];
  /** Labels of the runs started before the real graph, by run id (until scored). */
  readonly #unscored = new Map<number, Float32Array>();
  /** Recorded runs to score again once the real graph serves. */
  #toRescore: { run: number; labels: Float32Array }[] = [];

  info: TrainingInfo = { status: "idle", epoch: 0, targetEpochs: 0 };
  config: SSVAEConfig | null = null;
  history: HistoryEntry[] = [];
  step = 0;
  fromCheckpoint = false;
  /** Bumped on every new prediction snapshot (the latent's version). */
  version = 0;
  snapshot: Snapshot | null = null;
  data:
    | {
      count: number;
      rows: number;
      cols: number;
      channels: number;
      raw: Uint8Array;
    }
    | null = null;
  /** Test-set evaluations of the runs (runs.json), oldest first. */
  evaluations: RunRecord[] = [];
  /** Why runs.json could not be read (then it is not written either). */
  evaluationsError: string | null = null;

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
  }

  get workerReady(): boolean {
    return this.#workerReady;
  }

  get restarts(): number {
    return this.#restarts;
  }

  #log(line: string) {
    (this.#opts.log ?? console.log)(line);
  }

  /**
   * Spawns the worker before the data is known, so that it loads tfjs (its
   * module graph and wasm backend, ~0.6–0.9 s) while the main thread reads an
   * image folder; `start` then hands it the data.
   */
  warm(): void {
    if (this.#worker || this.#warm) return;
    const worker = this.#createWorker();
    // An error before `start` (say, tfjs failed to load) must not kill the
    // server: `start` then replaces this worker with a fresh one, whose error
    // goes through the usual handlers and is reported.
    worker.onerror = (ev) => {
      ev.preventDefault();
      if (this.#warm === worker) this.#warm = null;
      worker.terminate();
    };
    this.#warm = worker;
  }

  /**
   * Starts the first worker (the warm one, if any) on `data`. Resolves with
   * the data shape as soon as the images are loaded (so the label file can be
   * opened in parallel), `model` once the model is loaded (its config is
   * known: the label graph can start), and `ready` once the first
   * prediction is in.
   */
  start(
    data: TrainingData,
  ): {
    data: Promise<DataLoadedMessage>;
    model: Promise<void>;
    ready: Promise<void>;
  } {
    this.#data = data;
    if (data.spec.kind === "arrays" && this.data === null) {
      // Folder images are read on this thread (on shared memory): the worker
      // need not send them back.
      const { count, rows, cols, channels, raw } = data.spec.train;
      this.data = { count, rows, cols, channels, raw };
    }
    let resolveData!: (m: DataLoadedMessage) => void;
    let rejectData!: (e: Error) => void;
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    let resolveModel!: () => void;
    let rejectModel!: (e: Error) => void;
    const model = new Promise<void>((res, rej) => {
      resolveModel = res;
      rejectModel = rej;
    });
    model.catch(() => {});
    const loaded = new Promise<DataLoadedMessage>((res, rej) => {
      resolveData = res;
      rejectData = rej;
    });
    const ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    // Avoid unhandled-rejection crashes when a caller awaits only one of them.
    loaded.catch(() => {});
    ready.catch(() => {});
    this.#spawn({
      onData: resolveData,
      onModel: resolveModel,
      onReady: resolveReady,
      onFatal: (e) => {
        rejectData(e);
        rejectModel(e);
        rejectReady(e);
      },
    });
    return { data: loaded, model, ready };
  }

  #createWorker(): Worker {
    const url = this.#opts.workerUrl ??
      new URL("../../workers/training_worker.ts", import.meta.url);
    return new Worker(url, { type: "module", name: "training" });
  }

  #spawn(first?: FirstStart) {
    const generation = ++this.#generation;
    this.#workerReady = false;
    const worker = this.#warm ?? this.#createWorker();
    this.#warm = null;
    this.#worker = worker;
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (generation !== this.#generation) return; // a replaced worker
      try {
        this.#onMessage(ev.data, first);
      } catch (e) {
        this.#log(`error handling worker message: ${(e as Error).stack ?? e}`);
      }
    };
    worker.onerror = (ev: ErrorEvent) => {
      // Without preventDefault an uncaught worker error would also kill the server.
      ev.preventDefault();
      if (generation !== this.#generation) return;
      const message = `training worker died: ${ev.message}`;
      if (first && !this.#workerReady && this.snapshot === null) {
        first.onFatal(new Error(message));
        return;
      }
      this.#onWorkerDeath(message);
    };
    worker.onmessageerror = () => {
      this.#log("training worker: a message could not be deserialised");
    };
    const data = this.#data!;
    const init: InitMessage = {
      type: "init",
      data: data.spec,
      classCount: data.classCount,
      weightsPath: this.#opts.weightsPath,
      sendRaw: this.data === null,
      testHooks: this.#opts.testHooks,
    };
    this.#post(init);
  }

  #post(msg: ToWorker, transfer: Transferable[] = []) {
    this.#worker?.postMessage(msg, transfer);
  }

  /** The worker is gone: report it, and bring up a new one from the last checkpoint. */
  #onWorkerDeath(message: string) {
    const wasRunning = this.#activeRun !== null;
    this.#activeRun = null;
    this.#workerReady = false;
    this.#worker?.terminate();
    this.#worker = null;
    // A worker that dies again and again (say, a corrupt checkpoint that
    // crashes the loader) must not spin: give up after 3 deaths in a minute.
    const now = Date.now();
    this.#deaths = this.#deaths.filter((t) => now - t < 60_000);
    this.#deaths.push(now);
    const giveUp = this.#deaths.length > MAX_DEATHS_PER_MINUTE;
    this.info = {
      status: "error",
      epoch: this.info.epoch,
      targetEpochs: this.info.targetEpochs,
      message: giveUp
        ? `${message}; it died ${this.#deaths.length} times in a minute, ` +
          "so training is disabled until the server restarts"
        : `${message}; restarting it from the last checkpoint`,
    };
    this.#log(this.info.message!);
    this.#opts.notify("training_error", {
      message: this.info.message,
      ...(wasRunning ? {} : { duringRun: false }),
    });
    if (giveUp) return;
    this.#restarts++;
    this.#spawn();
  }

  #onMessage(
    msg: FromWorker,
    first?: FirstStart,
  ) {
    switch (msg.type) {
      case "progress":
        this.#log(`worker: ${msg.message}`);
        break;
      case "data": {
        if (msg.raw) {
          this.data = {
            count: msg.count,
            rows: msg.rows,
            cols: msg.cols,
            channels: msg.channels,
            raw: msg.raw,
          };
        } else if (this.data && this.data.count !== msg.count) {
          this.#log(
            `worker loaded ${msg.count} images, expected ${this.data.count}`,
          );
        }
        first?.onData(msg);
        break;
      }
      case "model":
        this.config = msg.config;
        this.history = msg.history;
        this.step = msg.step;
        this.fromCheckpoint = msg.fromCheckpoint;
        first?.onModel();
        break;
      case "prediction":
        this.#setSnapshot(msg);
        break;
      case "runs":
        this.evaluations = msg.records;
        this.evaluationsError = msg.error ?? null;
        if (msg.error) this.#log(`runs.json: ${msg.error}`);
        break;
      case "evaluation": {
        if (msg.runId !== this.#activeRun && msg.runId !== this.#endedRun) {
          break;
        }
        const unscored = this.#unscored.get(msg.runId);
        this.#unscored.delete(msg.runId);
        if (msg.record && unscored && msg.record.predictor !== "graph") {
          this.#toRescore.push({ run: msg.record.run, labels: unscored });
          if (this.graph && !this.graph.provisional) void this.#rescore();
        }
        if (msg.record) {
          this.evaluations = [...this.evaluations, msg.record];
          this.#log(
            `run ${msg.record.run}: test accuracy ${
              (100 * msg.record.accuracy.overall).toFixed(2)
            }% with ${msg.record.labels} labels`,
          );
        }
        if (msg.message) this.#log(msg.message);
        this.#opts.notify("evaluation", {
          ...(msg.record ? { record: msg.record } : {}),
          saved: msg.saved,
          ...(msg.message ? { message: msg.message } : {}),
        });
        break;
      }
      case "rescored": {
        const r = msg.record;
        if (r) {
          this.evaluations = this.evaluations.map((e) =>
            e.run === r.run ? r : e
          );
          this.#log(
            `run ${r.run} scored again on the label graph: ${
              (100 * r.accuracy.overall).toFixed(2)
            }% (was ${
              (100 * (r.firstScore?.overall ?? 0)).toFixed(2)
            }% on the ${r.firstScore?.predictor ?? "classifier"})`,
          );
        }
        if (msg.message) this.#log(msg.message);
        this.#opts.notify("evaluation", {
          ...(r ? { record: r } : {}),
          saved: msg.saved,
          rescored: true,
          ...(msg.message ? { message: msg.message } : {}),
        });
        break;
      }
      case "ready": {
        const restarted = this.#workerReady === false && this.#restarts > 0 &&
          !first;
        this.#workerReady = true;
        first?.onReady();
        if (restarted) {
          this.#log("training worker restarted");
          this.info = {
            ...this.info,
            status: "error",
            message: `${this.info.message ?? "worker died"}; restarted`,
          };
          this.#opts.notify("worker_restarted", { training: this.info });
        }
        break;
      }
      case "train_started":
        if (msg.runId !== this.#activeRun) break;
        this.config = msg.config;
        if (this.info.status !== "stopping") {
          this.info = {
            status: "training",
            epoch: 0,
            targetEpochs: msg.targetEpochs,
          };
        }
        break;
      case "batch": {
        if (msg.runId !== this.#activeRun) break;
        const { type: _t, runId: _r, ...progress } = msg;
        this.#opts.notify("batch", { ...progress });
        break;
      }
      case "epoch": {
        if (msg.runId !== this.#activeRun) break;
        this.history.push(msg.entry);
        this.step = msg.entry.step;
        this.info = { ...this.info, epoch: msg.epoch };
        this.#opts.notify("epoch", {
          epoch: msg.epoch,
          targetEpochs: msg.targetEpochs,
          metrics: msg.metrics,
          entry: msg.entry,
        });
        break;
      }
      case "train_done": {
        if (msg.runId !== this.#activeRun) break;
        this.#activeRun = null;
        this.#endedRun = msg.runId;
        const base = {
          epoch: this.info.epoch,
          targetEpochs: this.info.targetEpochs,
        };
        const summary = {
          epochsRun: msg.epochsRun,
          stoppedEarly: msg.stoppedEarly,
          checkpointSaved: msg.checkpointSaved,
          step: this.step,
        };
        if (msg.outcome === "error") {
          const message = msg.message ?? "training failed";
          this.info = { status: "error", ...base, message };
          this.#log(`training error: ${message}`);
          this.#opts.notify("training_error", { message, ...summary });
        } else if (msg.outcome === "stopped") {
          this.info = { status: "idle", ...base };
          this.#log(`training stopped after ${msg.epochsRun} epochs`);
          this.#opts.notify("training_stopped", summary);
        } else {
          this.info = { status: "idle", ...base };
          this.#log(
            `training complete: ${msg.epochsRun} epochs${
              msg.stoppedEarly ? " (early stop)" : ""
            }, step ${this.step}`,
          );
          this.#opts.notify("training_complete", summary);
        }
        break;
      }
      case "error":
        if (msg.fatal && first && this.snapshot === null) {
          // Start-up failure: the caller reports it (once) and exits.
          first.onFatal(new Error(msg.message));
          break;
        }
        this.#log(`training worker error: ${msg.message}`);
        if (msg.fatal) {
          // A restarted worker failed to initialise: no point in looping. Let
          // it go (it holds the images), so a start reports this reason
          // instead of "restarting".
          this.#generation++;
          this.#worker?.terminate();
          this.#worker = null;
          this.#workerReady = false;
          this.info = {
            status: "error",
            epoch: 0,
            targetEpochs: 0,
            message: `training worker failed to start: ${msg.message}`,
          };
          this.#opts.notify("training_error", { message: this.info.message });
        } else {
          this.#opts.notify("training_error", { message: msg.message });
        }
        break;
    }
  }

  /**
   * The label graph's predictions for the current labels: they replace the
   * classifier's in the snapshot (class, certainty, probabilities; the map's
   * positions and the reconstructions stay the model's) and bump its
   * version, so every page recolours and re-ranks within a second of a label.
   */
  graph: PropagationMessage | null = null;
  /** The model's own last predictions (shown while no label exists). */
  #modelPredictions: PredictionMessage | null = null;

  applyGraphPredictions(p: PropagationMessage) {
    if (this.data && p.predClass.length !== this.data.count) return;
    this.graph = p;
    if (!p.provisional) void this.#rescore();
    if (!this.snapshot || !this.#modelPredictions) return;
    this.snapshot = {
      ...this.snapshot,
      ...this.#shownPredictions(this.#modelPredictions),
    };
    this.version++;
    this.#opts.notify("latent_updated", {
      version: this.version,
      source: "labels",
      labelsRevision: p.revision,
    });
  }

  /**
   * The predictions the page shows: the graph's once it has propagated a
   * label; with none it knows nothing (uniform), so the model's stay and
   * the graph gives only the queue.
   */
  /** Scores the runs that ended before the real graph again, with it. */
  async #rescore(): Promise<void> {
    const classify = this.#opts.classifyTest;
    const todo = this.#toRescore;
    this.#toRescore = [];
    if (!classify) return;
    for (const { run, labels } of todo) {
      const testPred = await classify(labels);
      if (!testPred || testPred.length === 0) continue;
      this.#post({ type: "rescore", run, graphTestPred: testPred }, [
        testPred.buffer,
      ]);
    }
  }

  #shownPredictions(
    model: PredictionMessage,
  ): Pick<Snapshot, "predClass" | "certainty" | "probs"> {
    const g = this.graph && this.graph.labelled > 0 ? this.graph : model;
    return { predClass: g.predClass, certainty: g.certainty, probs: g.probs };
  }

  #setSnapshot(msg: PredictionMessage) {
    if (this.data && msg.predClass.length !== this.data.count) {
      this.#log(
        `prediction for ${msg.predClass.length} images ignored: expected ${this.data.count}`,
      );
      return;
    }
    this.#modelPredictions = msg;
    this.snapshot = {
      latent: msg.latent,
      latentDim: msg.latentDim,
      recon: msg.recon,
      ...this.#shownPredictions(msg),
    };
    this.version++;
    this.#log(
      `predictions v${this.version} ready (${msg.seconds.toFixed(1)} s)`,
    );
    this.#opts.notify("latent_updated", { version: this.version });
  }

  get isBusy(): boolean {
    return this.#activeRun !== null;
  }

  /**
   * Starts a run in the worker. `labels` is copied (the live view keeps
   * changing while the run goes on) and transferred.
   */
  startTraining(
    epochs: number,
    overrides: TrainMessage["overrides"],
    labels: Float32Array,
  ): TrainingInfo {
    if (this.#activeRun !== null) {
      throw new ConflictError(
        `training already ${this.info.status} (epoch ${this.info.epoch}/${this.info.targetEpochs})`,
      );
    }
    if (!this.#workerReady) {
      throw new UnavailableError(
        this.#worker === null
          ? (this.info.message ?? "the training worker is not running")
          : "the training worker is (re)starting; try again in a few seconds",
      );
    }
    const runId = ++this.#runId;
    this.#activeRun = runId;
    const copy = labels.slice();
    // The graph's soft labels train the unlabelled images (pseudo_label_weight),
    // and its test predictions are what the run's accuracy reports.
    const targets = this.graph?.probs.slice();
    const graphTestPred = this.graph?.testPred.length
      ? this.graph.testPred.slice()
      : undefined;
    // Started before the real graph: scored again on it once it serves.
    if (!this.graph || this.graph.provisional) {
      this.#unscored.set(runId, labels.slice());
    }
    this.info = { status: "training", epoch: 0, targetEpochs: epochs };
    const config = { ...(this.config ?? {}), ...overrides };
    this.#opts.notify("training_started", { targetEpochs: epochs, config });
    this.#post(
      {
        type: "train",
        runId,
        epochs,
        overrides,
        labels: copy,
        targets,
        graphTestPred,
        graphPredictor: this.graph?.provisional ? "quick graph" : "graph",
      },
      [copy.buffer, ...(targets ? [targets.buffer] : [])],
    );
    return this.info;
  }

  /**
   * Asks the running training to stop at the next batch; no-op when idle.
   * Every stop while a run is active goes to the worker (not only the first):
   * it is idempotent there, and a repeated stop must never be swallowed here
   * on the word of an earlier one.
   */
  stopTraining(): TrainingInfo {
    if (this.#activeRun === null) return this.info;
    this.#post({ type: "stop", runId: this.#activeRun });
    if (this.info.status === "training") {
      this.info = { ...this.info, status: "stopping" };
      this.#opts.notify("training_stopping", { training: this.info });
    }
    return this.info;
  }

  /** Test hook passthrough (only honoured by a worker started with testHooks). */
  injectFault(fault: Fault) {
    this.#post({ type: "fault", fault });
  }

  shutdown() {
    this.#generation++;
    this.#warm?.terminate();
    this.#warm = null;
    this.#worker?.terminate();
    this.#worker = null;
  }
}
