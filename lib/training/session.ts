/**
 * The training worker's work, without the Worker: one data set, one model and
 * its checkpoint file (watched for other writers), its run records; init,
 * train, stop and predict. Every result is a message of
 * lib/protocol/training_worker.ts handed to the `emit` sink with the buffers
 * that may be transferred, so workers/training_worker.ts only passes messages
 * both ways, and tests drive a session in-process.
 *
 * Messages are handled one at a time in arrival order (a `train` waits for the
 * previous run's prediction and evaluation), except `stop` and `fault`, which
 * act at once: they must reach a running trainEpochs, which yields between
 * batches.
 */

import { initBackend } from "../ssvae/backend.ts";
import {
  defaultConfig,
  modelClassCount,
  resolveConfig,
} from "../ssvae/config.ts";
import { SSVAE } from "../ssvae/model.ts";
import type { ImageSet } from "../data/mnist.ts";
import { loadTestImages, loadTrainRawSet } from "../data/source.ts";
import { TrainImages } from "../data/train_images.ts";
import type {
  Fault,
  FromWorker,
  InitMessage,
  RescoreMessage,
  ToWorker,
  TrainDoneMessage,
  TrainMessage,
} from "../protocol/training_worker.ts";
import { errorText } from "./error_text.ts";
import { InteractiveTrainer } from "./interactive_trainer.ts";
import { predictDataset, predictionTransfer } from "./predict_dataset.ts";
import { RunLog } from "./run_log.ts";
import { RunProgress } from "./run_progress.ts";
import { rescoreRun, type RunSummary, scoreRun } from "./run_record.ts";
import type { TrainerOptions } from "./trainer.ts";
import type { TrainCallbacks } from "./types.ts";
import { TrainingError } from "./types.ts";
import { WatchedCheckpoint } from "./watched_checkpoint.ts";

/** Where a session reports: one message and the buffers it may transfer. */
export type Emit = (msg: FromWorker, transfer: Transferable[]) => void;

/** How a session reports and trains. */
export interface SessionOptions {
  /** Receives every message, in order. */
  emit: Emit;
  /** How its trainers run (threads); default: the trainer's own default. */
  trainer?: TrainerOptions;
  /**
   * TEST-ONLY: how the host dies on a "crash" fault (a Worker throws outside
   * any handler, as on a real bug). Without it a crash fault is refused.
   */
  crash?: () => void;
}

/** Everything `init` loads. */
interface Loaded {
  init: InitMessage;
  count: number;
  /** Scaled lazily: the first prediction needs only a chunk at a time. */
  images: TrainImages;
  pixelMax: Float32Array;
  checkpoint: WatchedCheckpoint;
  trainer: InteractiveTrainer;
  fromCheckpoint: boolean;
  runs: RunLog;
  /** The test set, loaded at the first evaluation. */
  test: ImageSet | null;
}

/** Thrown inside a run stopped before its trainer ran. */
class StoppedBeforeStart extends Error {}

/** One data set and model, driven by the messages of lib/protocol/training_worker.ts. */
export class TrainingSession {
  readonly #emit: Emit;
  readonly #trainerOptions: TrainerOptions;
  readonly #crash: (() => void) | undefined;
  #state: Loaded | null = null;
  /** The chain of queued messages: each starts when the previous one is done. */
  #queue: Promise<void> = Promise.resolve();
  /** The run being handled (from its `train` until its `train_done`). */
  #currentRun: number | null = null;
  /** The last run that posted its `train_done`. */
  #lastFinishedRun = 0;
  /**
   * Runs asked to stop. A stop can arrive before its run's `train` is handled
   * (the session is still busy with the previous message) or before the
   * trainer runs (checkpoint checks): it is kept here until the run looks, so
   * no stop is lost however early it comes.
   */
  readonly #stopRequests = new Set<number>();
  /** TEST-ONLY: accept faults (set by `init`). */
  #testHooks = false;
  /** TEST-ONLY: the fault armed for the next epoch end. */
  #injectedFault: "nan" | "epoch_error" | null = null;

  /** A session with nothing loaded: send `init` first. */
  constructor(options: SessionOptions) {
    this.#emit = options.emit;
    this.#trainerOptions = options.trainer ?? {};
    this.#crash = options.crash;
  }

  /**
   * Handles one message as the worker receives it: `stop` and `fault` at
   * once, the others queued. A failure is emitted as an `error` message
   * (fatal when `init` failed), never thrown.
   */
  receive(msg: ToWorker): void {
    if (msg.type === "stop") {
      this.stop(msg.runId);
      return;
    }
    if (msg.type === "fault") {
      this.injectFault(msg.fault);
      return;
    }
    void this.#enqueue(async () => {
      try {
        if (msg.type === "init") await this.#init(msg);
        else if (msg.type === "train") await this.#train(msg);
        else if (msg.type === "predict") await this.#predict();
        else if (msg.type === "rescore") await this.#rescore(msg);
      } catch (e) {
        this.#emit({
          type: "error",
          message: errorText(e),
          fatal: msg.type === "init",
        }, []);
      }
    });
  }

  /**
   * Loads the images (posting `data`), the checkpoint or a fresh seeded
   * model, the run records, then predicts every image; ends with `ready`.
   * Queued; rejects when loading fails.
   */
  init(msg: InitMessage): Promise<void> {
    return this.#enqueue(() => this.#init(msg));
  }

  /**
   * Runs `msg.epochs` more epochs and saves the checkpoint. Queued; never
   * rejects: every run ends with a `train_done` (see `TrainDoneMessage` for
   * where the prediction and evaluation fall).
   */
  train(msg: TrainMessage): Promise<void> {
    return this.#enqueue(() => this.#train(msg));
  }

  /**
   * Scores a recorded run again on the real label graph (a `rescored`
   * message). Queued; rejects before `init`.
   */
  rescore(msg: RescoreMessage): Promise<void> {
    return this.#enqueue(() => this.#rescore(msg));
  }

  /** Predicts every image (a `prediction` message). Queued; rejects before `init`. */
  predict(): Promise<void> {
    return this.#enqueue(() => this.#predict());
  }

  /**
   * Stops the run `runId` at its next batch, or before it trains when it has
   * not begun. A stop for a run already done (it crossed its `train_done`)
   * is dropped.
   */
  stop(runId: number): void {
    if (runId > this.#lastFinishedRun) this.#stopRequests.add(runId);
    if (runId === this.#currentRun) this.#state?.trainer.requestStop();
  }

  /**
   * TEST-ONLY: makes the next epoch end fail ("nan" as a non-finite loss
   * does, "epoch_error" as a plain error), or kills the host ("crash", through
   * the `crash` option). Refused with an `error` message unless `init` asked
   * for test hooks.
   */
  injectFault(fault: Fault): void {
    if (!this.#testHooks) {
      this.#error("fault injection is disabled");
    } else if (fault === "nan" || fault === "epoch_error") {
      this.#injectedFault = fault;
    } else if (this.#crash) {
      this.#crash();
    } else {
      this.#error("this session cannot crash its host");
    }
  }

  /** Resolves once every message queued so far has been handled. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** Waits for queued work, then frees the model (and stops its helper thread). */
  async close(): Promise<void> {
    await this.settled();
    await this.#state?.trainer.close();
    this.#state = null;
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(job);
    this.#queue = result.then(() => {}, () => {});
    return result;
  }

  #progress(message: string) {
    this.#emit({ type: "progress", message }, []);
  }

  #error(message: string) {
    this.#emit({ type: "error", message, fatal: false }, []);
  }

  async #init(msg: InitMessage): Promise<void> {
    this.#testHooks = msg.testHooks;
    this.#progress("loading images and initialising tfjs");
    const [data] = await Promise.all([
      loadTrainRawSet(msg.data),
      initBackend(),
    ]);
    const pixels = data.rows * data.cols * data.channels;
    let raw: Uint8Array | undefined;
    const transfer: Transferable[] = [];
    if (msg.sendRaw) {
      // Shared memory is posted as is (no copy). Otherwise a copy goes: the
      // bytes stay here too, to be scaled for the model.
      if (data.raw.buffer instanceof SharedArrayBuffer) raw = data.raw;
      else {
        raw = data.raw.slice();
        transfer.push(raw.buffer);
      }
    }
    this.#emit({
      type: "data",
      count: data.count,
      rows: data.rows,
      cols: data.cols,
      channels: data.channels,
      raw,
      pixelMax: data.pixelMax.slice(),
    }, transfer);
    if (data.pixelMax.length !== pixels) {
      throw new Error(
        `pixelMax has ${data.pixelMax.length} entries, expected ${pixels}`,
      );
    }
    const checkpoint = new WatchedCheckpoint(msg.weightsPath);
    const { trainer, fromCheckpoint } = await this.#loadTrainer(
      checkpoint,
      pixels,
      msg.classCount,
    );
    const runs = await RunLog.open(
      msg.weightsPath,
      fromCheckpoint ? trainer.step : null,
    );
    if (runs.from && runs.from !== runs.path) {
      this.#progress(
        `${runs.records.length} run records taken from the shared ${runs.from} ` +
          `(older versions); new ones go to ${runs.path}`,
      );
    }
    this.#state = {
      init: msg,
      count: data.count,
      images: new TrainImages(data.count, data.raw, data.pixelMax),
      pixelMax: data.pixelMax,
      checkpoint,
      trainer,
      fromCheckpoint,
      runs,
      test: null,
    };
    this.#emit({
      type: "runs",
      records: structuredClone([...runs.records]),
      ...(runs.error ? { error: runs.error } : {}),
    }, []);
    this.#emitModel();
    this.#progress(`predicting ${data.count} images`);
    await this.#predict();
    this.#emit({ type: "ready" }, []);
    // The helper thread of two-thread training loads while the page opens.
    trainer.warmUp();
    // The floats every run trains on (188 MB for 60k images, ~0.9 s of fresh
    // memory on these machines), built now, while the page loads, instead of
    // at the first Train; after `ready`, so the start does not wait for them.
    this.#state.images.all();
  }

  /** The checkpoint if there is one, else a fresh model seeded by the default config. */
  async #loadTrainer(
    checkpoint: WatchedCheckpoint,
    inputDim: number,
    classCount: number,
  ): Promise<{ trainer: InteractiveTrainer; fromCheckpoint: boolean }> {
    if (await checkpoint.exists()) {
      this.#progress(`loading checkpoint ${checkpoint.path}`);
      const trainer = await checkpoint.load(
        inputDim,
        this.#trainerOptions,
        classCount,
      );
      return { trainer, fromCheckpoint: true };
    }
    this.#progress(
      `no checkpoint at ${checkpoint.path}: building a fresh seeded model`,
    );
    const model = new SSVAE(
      resolveConfig(
        { input_dim: inputDim, num_classes: modelClassCount(classCount) },
        defaultConfig(),
      ),
    );
    return {
      trainer: new InteractiveTrainer(model, this.#trainerOptions),
      fromCheckpoint: false,
    };
  }

  /**
   * Back to the checkpoint on disk (or a fresh model if none was ever saved):
   * after a failed run the model in memory may hold NaN weights, and after
   * another process saved, its checkpoint is the newer one.
   */
  async #reloadTrainer(s: Loaded): Promise<void> {
    const old = s.trainer;
    const { trainer, fromCheckpoint } = await this.#loadTrainer(
      s.checkpoint,
      s.pixelMax.length,
      s.init.classCount,
    );
    s.trainer = trainer;
    s.fromCheckpoint = fromCheckpoint;
    old.dispose(); // its helper thread and tensors
    this.#emitModel();
  }

  #emitModel() {
    const s = this.#state;
    if (!s) return;
    const t = s.trainer;
    this.#emit({
      type: "model",
      config: structuredClone(t.model.config),
      history: structuredClone(t.history),
      step: t.step,
      fromCheckpoint: s.fromCheckpoint,
    }, []);
  }

  /** Every image predicted; the buffers are transferred (no copy). */
  async #predict(): Promise<void> {
    const s = this.#state;
    if (!s) throw new Error("worker not initialised");
    const msg = await predictDataset(s.trainer, s.images, s.init.classCount);
    this.#emit(msg, predictionTransfer(msg));
  }

  async #train(msg: TrainMessage): Promise<void> {
    // Whatever happens, the run must end with train_done: the main thread
    // keeps refusing new runs (409) until it hears that this one is over.
    const s = this.#state;
    if (!s || msg.labels.length !== s.count) {
      this.#emit({
        type: "train_done",
        runId: msg.runId,
        outcome: "error",
        epochsRun: 0,
        stoppedEarly: false,
        checkpointSaved: false,
        message: !s
          ? "the training worker is not initialised"
          : `labels has ${msg.labels.length} entries, expected ${s.count}`,
      }, []);
      return;
    }
    this.#currentRun = msg.runId;
    const done: TrainDoneMessage = {
      type: "train_done",
      runId: msg.runId,
      outcome: "complete",
      epochsRun: 0,
      stoppedEarly: false,
      message: undefined,
      checkpointSaved: false,
    };
    let trained = false;
    /** Stopped before training began: no save, no prediction. */
    let skipped = false;
    const started = performance.now();
    try {
      if (await s.checkpoint.changedOnDisk()) {
        // Another process (the CLI) trained and saved meanwhile: go on from
        // its checkpoint rather than from the older model held here.
        this.#progress(
          "the checkpoint changed on disk (trained elsewhere): continuing from it",
        );
        await this.#reloadTrainer(s);
      }
      s.trainer.updateConfig(msg.overrides);
      this.#emit({
        type: "train_started",
        runId: msg.runId,
        targetEpochs: msg.epochs,
        config: structuredClone(s.trainer.model.config),
      }, []);
      if (this.#stopRequests.has(msg.runId)) {
        // Stopped before the trainer ran: nothing trained, nothing to save.
        throw new StoppedBeforeStart();
      }
      // trainEpochs marks the trainer running synchronously, so from here on
      // a stop reaches it through requestStop (see `stop`).
      const result = await s.trainer.trainEpochs(
        msg.epochs,
        s.images.all(),
        msg.labels,
        {
          targets: msg.targets?.length ===
              s.count * s.trainer.model.config.num_classes
            ? msg.targets
            : undefined,
          callbacks: [this.#runCallbacks(msg)],
        },
      );
      trained = true;
      done.epochsRun = result.epochsRun;
      done.stoppedEarly = result.stoppedEarly;
      if (result.stopRequested) done.outcome = "stopped";
    } catch (e) {
      if (e instanceof StoppedBeforeStart) {
        done.outcome = "stopped";
        skipped = true;
      } else {
        done.outcome = "error";
        done.message = errorText(e);
        console.error(`training run ${msg.runId} failed: ${done.message}`);
      }
      // A TrainingError (non-finite loss) leaves the trainer restored to its
      // last good epoch: keep the epochs finished before it. Anything else may
      // have left the model half-updated: fall back to the last checkpoint.
      if (!skipped) trained = e instanceof Error && e.name === "TrainingError";
    }
    const durationSeconds = (performance.now() - started) / 1000;
    const summary = (): Omit<RunSummary, "run" | "evalStarted"> => ({
      labels: msg.labels,
      graphTestPred: msg.graphTestPred,
      graphPredictor: msg.graphPredictor,
      targetEpochs: msg.epochs,
      outcome: done.outcome,
      epochsRun: done.epochsRun,
      durationSeconds,
    });
    // A stopped run reports idle as soon as its checkpoint is saved: the
    // prediction (so the map shows the stopped model) and the test-set
    // evaluation follow its `train_done` instead of preceding it, so Stop
    // reaches idle within a batch plus the save, not ~3 s of prediction
    // later. A run that starts meanwhile waits for them in the queue.
    const stopped = done.outcome === "stopped";
    try {
      if (trained) {
        // Save even a stopped run: its finished epochs are real progress.
        this.#progress("saving checkpoint");
        await s.checkpoint.save(s.trainer);
        done.checkpointSaved = true;
        s.fromCheckpoint = true;
        this.#emitModel();
        if (!stopped) await this.#predictAndEvaluate(s, msg.runId, summary());
      } else if (!skipped) {
        await this.#reloadTrainer(s);
      }
    } catch (e) {
      done.outcome = "error";
      const text = errorText(e);
      done.message = done.message ? `${done.message}; then ${text}` : text;
      console.error(`after training run ${msg.runId}: ${text}`);
    }
    this.#currentRun = null;
    this.#lastFinishedRun = msg.runId;
    this.#stopRequests.delete(msg.runId);
    this.#emit(done, []);
    if (done.outcome === "stopped" && done.checkpointSaved) {
      try {
        await this.#predictAndEvaluate(s, msg.runId, summary());
      } catch (e) {
        const text = errorText(e);
        console.error(`after stopped run ${msg.runId}: ${text}`);
        this.#error(text);
      }
    }
  }

  /** The trainer's hooks for one run: `batch` and `epoch` messages (and test faults). */
  #runCallbacks(msg: TrainMessage): TrainCallbacks {
    const runProgress = new RunProgress(msg.epochs);
    let runEpoch = 0;
    return {
      onBatchEnd: (info) => {
        const p = runProgress.batch(info);
        if (p) this.#emit({ type: "batch", runId: msg.runId, ...p }, []);
      },
      onEpochEnd: (_epoch, metrics, history) => {
        runEpoch++;
        this.#throwInjectedFault();
        this.#emit({
          type: "epoch",
          runId: msg.runId,
          epoch: runEpoch,
          targetEpochs: msg.epochs,
          metrics: structuredClone(metrics),
          entry: structuredClone(history[history.length - 1]),
        }, []);
        runProgress.epochEnd();
      },
    };
  }

  /** TEST-ONLY: fails this epoch end if a fault is armed (once). */
  #throwInjectedFault() {
    const fault = this.#injectedFault;
    this.#injectedFault = null;
    if (fault === "nan") {
      // What the trainer throws on a non-finite loss.
      throw new TrainingError("injected fault (test hook): loss is NaN");
    }
    if (fault === "epoch_error") {
      throw new Error("injected fault (test hook): callback failed");
    }
  }

  /**
   * Scores a recorded run again with the real graph's test predictions
   * (it ended on the quick graph or before any graph) and rewrites its
   * record. Emits `rescored`; a record that is gone or a test set of
   * another size is reported, never thrown.
   */
  async #rescore(msg: RescoreMessage): Promise<void> {
    const s = this.#state;
    if (!s) throw new Error("worker not initialised");
    const record = s.runs.records.find((r) => r.run === msg.run);
    try {
      if (!record) throw new Error(`run ${msg.run} has no record`);
      if (!s.test) s.test = await loadTestImages(s.init.data, s.pixelMax);
      if (msg.graphTestPred.length !== s.test.count) {
        throw new Error(
          `${msg.graphTestPred.length} graph predictions for ${s.test.count} test images`,
        );
      }
      const next = rescoreRun(record, s.test, msg.graphTestPred);
      const { saved, message } = await s.runs.replace(next);
      this.#emit({ type: "rescored", record: next, saved, message }, []);
    } catch (e) {
      this.#emit({
        type: "rescored",
        saved: false,
        message: `run ${msg.run} not scored again: ${errorText(e)}`,
      }, []);
    }
  }

  /** The whole data set predicted (the map) and the run scored on the test set. */
  async #predictAndEvaluate(
    s: Loaded,
    runId: number,
    summary: Omit<RunSummary, "run" | "evalStarted">,
  ): Promise<void> {
    this.#progress(`predicting ${s.count} images`);
    await this.#predict();
    this.#progress("evaluating on the test set");
    await this.#evaluate(s, runId, summary);
  }

  /**
   * Scores the current model on the test set (the data set's test split,
   * scaled with the training pixelMax), appends the record to the run log
   * and emits it as an `evaluation` message. Never throws: a failure is
   * reported in the message.
   */
  async #evaluate(
    s: Loaded,
    runId: number,
    summary: Omit<RunSummary, "run" | "evalStarted">,
  ): Promise<void> {
    const evalStarted = performance.now();
    // No test set (a folder started without --holdout) is no failure: there
    // is nothing to score, and the page says so where scores would be.
    if (s.init.data.kind === "arrays" && s.init.data.test === null) {
      this.#emit({ type: "evaluation", runId, saved: false }, []);
      return;
    }
    let record;
    try {
      if (!s.test) {
        this.#progress("loading the test set for evaluation");
        s.test = await loadTestImages(s.init.data, s.pixelMax);
      }
      record = await scoreRun(s.trainer, s.test, {
        ...summary,
        run: s.runs.nextRun,
        evalStarted,
      });
    } catch (e) {
      this.#emit({
        type: "evaluation",
        runId,
        saved: false,
        message: `evaluation failed: ${errorText(e)}`,
      }, []);
      return;
    }
    const { saved, message } = await s.runs.append(record);
    this.#emit({ type: "evaluation", runId, record, saved, message }, []);
  }
}
