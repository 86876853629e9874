/**
 * Training worker: owns the images, the SSVAE and its InteractiveTrainer, so
 * training (seconds to minutes of CPU) never blocks the HTTP thread.
 *
 * Protocol: lib/server/worker_protocol.ts. The main thread sends `init` once,
 * then `train` / `stop` / `predict`; this worker answers with `data` (raw bytes
 * transferred once), `model`, `prediction` (transferred buffers), `batch`
 * (throttled progress within an epoch), `epoch`, `train_done`, `progress` and
 * `error`.
 */

/// <reference lib="deno.worker" />

import { initBackend } from "../lib/ssvae/backend.ts";
import {
  defaultConfig,
  modelClassCount,
  resolveConfig,
} from "../lib/ssvae/config.ts";
import { SSVAE } from "../lib/ssvae/model.ts";
import type { ImageSet } from "../lib/data/mnist.ts";
import { loadTestImages, loadTrainSet } from "../lib/data/source.ts";
import { restrictClasses } from "../lib/training/restrict_classes.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";
import {
  checkpointExists,
  loadCheckpoint,
  saveCheckpoint,
} from "../lib/training/checkpoint.ts";
import { TrainingError } from "../lib/training/types.ts";
import { RunProgress } from "../lib/server/batch_progress.ts";
import { accuracyOf } from "../lib/training/accuracy.ts";
import {
  appendRun,
  readRunsFor,
  type RunRecord,
  runsPathFor,
} from "../lib/training/runs.ts";
import type {
  FromWorker,
  InitMessage,
  PredictionMessage,
  ToWorker,
  TrainMessage,
} from "../lib/server/worker_protocol.ts";

/** Images per predict call: bounds the float32 reconstruction buffer (~25 MB). */
const PREDICT_CHUNK = 8192;

interface WorkerState {
  init: InitMessage;
  count: number;
  images: Float32Array;
  pixelMax: Float32Array;
  trainer: InteractiveTrainer;
  fromCheckpoint: boolean;
  /** The test set, loaded at the first evaluation. */
  test: ImageSet | null;
  /** runs.json as read at init plus this worker's appends. */
  runs: RunRecord[];
  /** Why runs.json must not be written (it could not be read), if so. */
  runsError: string | null;
}

let state: WorkerState | null = null;
/** The run being handled (from its `train` message until its `train_done`). */
let currentRun: number | null = null;
/** The last run that posted its `train_done`. */
let lastFinishedRun = 0;
/**
 * Runs asked to stop. A stop can arrive before its run's `train` message is
 * handled (the worker is still busy with the previous message) or before the
 * trainer runs (checkpoint checks): it is kept here until the run looks, so
 * no stop is lost however early it comes.
 */
const stopRequests = new Set<number>();
let injectedFault: "nan" | "epoch_error" | null = null;
let testHooks = false;

function post(msg: FromWorker, transfer: Transferable[] = []) {
  self.postMessage(msg, transfer);
}

function progress(message: string) {
  post({ type: "progress", message });
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
  }
  return String(e);
}

/**
 * Which version of the checkpoint file this worker last loaded or saved
 * (mtime, size, inode), so a checkpoint written meanwhile by `deno task train`
 * is noticed instead of silently overwritten. null: no file.
 */
let diskStamp: string | null = null;

async function stampOf(path: string): Promise<string | null> {
  try {
    const st = await Deno.stat(path);
    return `${st.mtime?.getTime()}:${st.size}:${st.ino}`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The checkpoint if there is one, else a fresh model seeded by the default config. */
async function loadTrainer(
  weightsPath: string,
  inputDim: number,
  classCount: number,
): Promise<{ trainer: InteractiveTrainer; fromCheckpoint: boolean }> {
  const numClasses = modelClassCount(classCount);
  // A directory at the path is an error here, not "no checkpoint".
  if (await checkpointExists(weightsPath)) {
    progress(`loading checkpoint ${weightsPath}`);
    const stamp = await stampOf(weightsPath);
    const trainer = await loadCheckpoint(weightsPath);
    if (trainer.model.config.input_dim !== inputDim) {
      throw new Error(
        `CheckpointError: ${weightsPath} is a model of ${trainer.model.config.input_dim}-pixel images, ` +
          `but these images have ${inputDim} (another data set or --image-size/--color); pass another --weights`,
      );
    }
    if (trainer.model.config.num_classes !== numClasses) {
      // Its classifier has another width: loading it would misname every class.
      throw new Error(
        `CheckpointError: ${weightsPath} is a model of ${trainer.model.config.num_classes} classes, ` +
          `but this data set has ${classCount}${
            numClasses !== classCount ? ` (a model of ${numClasses})` : ""
          }; pass another --weights`,
      );
    }
    diskStamp = stamp;
    return { trainer, fromCheckpoint: true };
  }
  progress(`no checkpoint at ${weightsPath}: building a fresh seeded model`);
  const model = new SSVAE(
    resolveConfig(
      { input_dim: inputDim, num_classes: numClasses },
      defaultConfig(),
    ),
  );
  return { trainer: new InteractiveTrainer(model), fromCheckpoint: false };
}

function postModel() {
  if (!state) return;
  const t = state.trainer;
  post({
    type: "model",
    config: structuredClone(t.model.config),
    history: structuredClone(t.history),
    step: t.step,
    fromCheckpoint: state.fromCheckpoint,
  });
}

/**
 * Predicts every image, chunk by chunk, and posts the result with its buffers
 * transferred (no copy). Reconstructions are converted here to display bytes
 * in the original intensity scale: the model works on x / pixelMax, so the
 * decoder output is multiplied back by pixelMax, clipped to 0..1, times 255.
 */
async function predictAll() {
  if (!state) throw new Error("worker not initialised");
  const started = performance.now();
  const { count, images, pixelMax, trainer } = state;
  const pixels = pixelMax.length;
  const L = trainer.model.config.latent_dim;
  const latent = new Float32Array(count * L);
  const recon = new Uint8Array(count * pixels);
  const predClass = new Uint8Array(count);
  const certainty = new Float32Array(count);
  const C = trainer.model.config.num_classes;
  const probs = new Float32Array(count * C);
  for (let start = 0; start < count; start += PREDICT_CHUNK) {
    const n = Math.min(PREDICT_CHUNK, count - start);
    // Both threads: the trainer splits each chunk with its helper thread.
    const p = await trainer.predict(
      images.subarray(start * pixels, (start + n) * pixels),
      n,
    );
    latent.set(p.latent, start * L);
    predClass.set(p.predClass, start);
    certainty.set(p.certainty, start);
    probs.set(p.probs, start * C);
    const base = start * pixels;
    for (let i = 0; i < n * pixels; i++) {
      const v = p.recon[i] * pixelMax[i % pixels];
      recon[base + i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
  }
  restrictClasses(probs, predClass, certainty, state.init.classCount, C);
  const msg: PredictionMessage = {
    type: "prediction",
    latent,
    latentDim: L,
    recon,
    predClass,
    certainty,
    probs,
    seconds: (performance.now() - started) / 1000,
  };
  post(msg, [
    latent.buffer,
    recon.buffer,
    predClass.buffer,
    certainty.buffer,
    probs.buffer,
  ]);
}

async function handleInit(msg: InitMessage) {
  testHooks = msg.testHooks;
  progress("loading images and initialising tfjs");
  const [data] = await Promise.all([
    loadTrainSet(msg.data),
    initBackend(),
  ]);
  const pixels = data.rows * data.cols * data.channels;
  let raw: Uint8Array | undefined;
  const transfer: Transferable[] = [];
  if (msg.sendRaw) {
    // Transfer a buffer holding exactly the images (the loader may hand out a
    // view into a larger file buffer, which must not be moved wholesale).
    raw = data.raw.byteOffset === 0 &&
        data.raw.byteLength === data.raw.buffer.byteLength
      ? data.raw
      : data.raw.slice();
    transfer.push(raw.buffer);
  }
  post({
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
  const { trainer, fromCheckpoint } = await loadTrainer(
    msg.weightsPath,
    pixels,
    msg.classCount,
  );
  let runs: RunRecord[] = [];
  let runsError: string | null = null;
  try {
    const read = await readRunsFor(
      msg.weightsPath,
      fromCheckpoint ? trainer.step : null,
    );
    runs = read.records;
    if (read.from && read.from !== runsPathFor(msg.weightsPath)) {
      progress(
        `${runs.length} run records taken from the shared ${read.from} ` +
          `(older versions); new ones go to ${runsPathFor(msg.weightsPath)}`,
      );
    }
  } catch (e) {
    runsError = errorText(e);
  }
  state = {
    init: msg,
    count: data.count,
    images: data.images,
    pixelMax: data.pixelMax,
    trainer,
    fromCheckpoint,
    test: null,
    runs,
    runsError,
  };
  post({
    type: "runs",
    records: structuredClone(runs),
    ...(runsError ? { error: runsError } : {}),
  });
  postModel();
  progress(`predicting ${data.count} images`);
  await predictAll();
  post({ type: "ready" });
}

/** Images per test-set predict call (no decoder: small buffers). */
const EVAL_CHUNK = 4096;

/**
 * Accuracy of the current model on the test set (the --data-dir's t10k files,
 * scaled with the training pixelMax), appended to runs.json and posted as an
 * `evaluation` message. Never throws: a failure is reported in the message.
 */
async function evaluateRun(
  s: WorkerState,
  msg: TrainMessage,
  run: {
    outcome: RunRecord["outcome"];
    epochsRun: number;
    durationSeconds: number;
  },
) {
  const t0 = performance.now();
  let record: RunRecord;
  try {
    if (!s.test) {
      progress("loading the test set for evaluation");
      s.test = await loadTestImages(s.init.data, s.pixelMax);
    }
    const test = s.test;
    const pixels = s.pixelMax.length;
    const predClass = new Uint8Array(test.count);
    for (let start = 0; start < test.count; start += EVAL_CHUNK) {
      const n = Math.min(EVAL_CHUNK, test.count - start);
      const p = await s.trainer.predict(
        test.images.subarray(start * pixels, (start + n) * pixels),
        n,
        { decode: false },
      );
      predClass.set(p.predClass, start);
    }
    const C = s.trainer.model.config.num_classes;
    const classifier = accuracyOf(predClass, test.labels, C);
    const graphPred = msg.graphTestPred?.length === test.count
      ? msg.graphTestPred
      : null;
    const acc = graphPred ? accuracyOf(graphPred, test.labels, C) : classifier;
    const perClass = new Array<number>(C).fill(0);
    let labelled = 0;
    for (const l of msg.labels) {
      if (!Number.isNaN(l)) {
        labelled++;
        perClass[l]++;
      }
    }
    const t = s.trainer;
    record = {
      run: s.runs.length + 1,
      timestamp: new Date().toISOString(),
      labels: labelled,
      labelsPerClass: perClass,
      config: structuredClone(t.model.config),
      epochs: run.epochsRun,
      targetEpochs: msg.epochs,
      totalEpochs: t.epoch,
      step: t.step,
      outcome: run.outcome,
      durationSeconds: run.durationSeconds,
      evalSeconds: (performance.now() - t0) / 1000,
      testCount: test.count,
      accuracy: { overall: acc.overall, perClass: acc.perClass },
      confusion: acc.confusion,
      predictor: graphPred ? "graph" : "classifier",
      classifierAccuracy: classifier.overall,
    };
  } catch (e) {
    post({
      type: "evaluation",
      runId: msg.runId,
      saved: false,
      message: `evaluation failed: ${errorText(e)}`,
    });
    return;
  }
  let saved = false;
  let message: string | undefined;
  if (s.runsError) {
    message = `not appended to runs.json: ${s.runsError}`;
    s.runs = [...s.runs, record];
  } else {
    try {
      s.runs = await appendRun(
        runsPathFor(s.init.weightsPath),
        s.runs,
        record,
      );
      saved = true;
    } catch (e) {
      s.runs = [...s.runs, record];
      message = `not appended to runs.json: ${errorText(e)}`;
    }
  }
  post({ type: "evaluation", runId: msg.runId, record, saved, message });
}

/**
 * After a failed run the in-memory model may hold NaN weights: go back to the
 * last saved checkpoint (or a fresh model if none was ever saved).
 */
async function recoverTrainer() {
  if (!state) return;
  const old = state.trainer;
  const { trainer, fromCheckpoint } = await loadTrainer(
    state.init.weightsPath,
    state.pixelMax.length,
    state.init.classCount,
  );
  state.trainer = trainer;
  state.fromCheckpoint = fromCheckpoint;
  old.dispose(); // its helper thread and tensors
  postModel();
}

async function handleTrain(msg: TrainMessage) {
  // Whatever happens, the run must end with train_done: the main thread keeps
  // refusing new runs (409) until it hears that this one is over.
  if (!state || msg.labels.length !== state.count) {
    post({
      type: "train_done",
      runId: msg.runId,
      outcome: "error",
      epochsRun: 0,
      stoppedEarly: false,
      checkpointSaved: false,
      message: !state
        ? "the training worker is not initialised"
        : `labels has ${msg.labels.length} entries, expected ${state.count}`,
    });
    return;
  }
  const s = state;
  currentRun = msg.runId;
  let outcome: "complete" | "stopped" | "error" = "complete";
  let message: string | undefined;
  let epochsRun = 0;
  let stoppedEarly = false;
  let checkpointSaved = false;
  let trained = false;
  /** Stopped before training began: no save, no prediction. */
  let skipped = false;
  const started = performance.now();
  let durationSeconds = 0;
  try {
    const onDisk = await stampOf(s.init.weightsPath);
    if (onDisk !== null && onDisk !== diskStamp) {
      // Another process (the CLI) trained and saved meanwhile: go on from its
      // checkpoint rather than from the older model held here.
      progress(
        "the checkpoint changed on disk (trained elsewhere): continuing from it",
      );
      await recoverTrainer();
    }
    s.trainer.updateConfig(msg.overrides);
    post({
      type: "train_started",
      runId: msg.runId,
      targetEpochs: msg.epochs,
      config: structuredClone(s.trainer.model.config),
    });
    let runEpoch = 0;
    const runProgress = new RunProgress(msg.epochs);
    if (stopRequests.has(msg.runId)) {
      // Stopped before the trainer ran: nothing trained, nothing to save.
      throw new StoppedBeforeStart();
    }
    // trainEpochs marks the trainer running synchronously, so from here on a
    // stop message reaches it through requestStop (see onmessage).
    const result = await s.trainer.trainEpochs(
      msg.epochs,
      s.images,
      msg.labels,
      {
        targets: msg.targets?.length ===
            s.count * s.trainer.model.config.num_classes
          ? msg.targets
          : undefined,
        callbacks: [{
          onBatchEnd(info) {
            const p = runProgress.batch(info);
            if (p) post({ type: "batch", runId: msg.runId, ...p });
          },
          onEpochEnd(_epoch, metrics, history) {
            runEpoch++;
            if (injectedFault === "nan") {
              injectedFault = null;
              // What the trainer throws on a non-finite loss.
              throw new TrainingError(
                "injected fault (test hook): loss is NaN",
              );
            }
            if (injectedFault === "epoch_error") {
              injectedFault = null;
              throw new Error("injected fault (test hook): callback failed");
            }
            post({
              type: "epoch",
              runId: msg.runId,
              epoch: runEpoch,
              targetEpochs: msg.epochs,
              metrics: structuredClone(metrics),
              entry: structuredClone(history[history.length - 1]),
            });
            runProgress.epochEnd();
          },
        }],
      },
    );
    trained = true;
    epochsRun = result.epochsRun;
    stoppedEarly = result.stoppedEarly;
    if (result.stopRequested) outcome = "stopped";
  } catch (e) {
    if (e instanceof StoppedBeforeStart) {
      outcome = "stopped";
      skipped = true;
    } else {
      outcome = "error";
      message = errorText(e);
      console.error(`training run ${msg.runId} failed: ${message}`);
    }
    // A TrainingError (non-finite loss) leaves the trainer restored to its last
    // good epoch: keep the epochs finished before it. Anything else may have
    // left the model half-updated: fall back to the last checkpoint.
    if (!skipped) trained = e instanceof Error && e.name === "TrainingError";
  }
  durationSeconds = (performance.now() - started) / 1000;
  // A stopped run reports idle as soon as its checkpoint is saved: the
  // prediction (so the map shows the stopped model) and the test-set
  // evaluation follow its `train_done` instead of preceding it, so Stop
  // reaches idle within a batch plus the save, not ~3 s of prediction later.
  // A run that starts meanwhile waits for them in this worker's queue.
  const stopped = outcome === "stopped";
  try {
    if (trained) {
      // Save even a stopped run: its finished epochs are real progress.
      progress("saving checkpoint");
      const onDisk = await stampOf(s.init.weightsPath);
      if (onDisk !== null && onDisk !== diskStamp) {
        // Written by another process during this run: keep both.
        const aside = s.init.weightsPath.replace(
          /(\.ckpt)?$/,
          `.dashboard-${Date.now()}.ckpt`,
        );
        await saveCheckpoint(aside, s.trainer);
        throw new Error(
          `the checkpoint was rewritten by another process during this run; ` +
            `it was kept, and this run was saved to ${aside}`,
        );
      }
      await saveCheckpoint(s.init.weightsPath, s.trainer);
      diskStamp = await stampOf(s.init.weightsPath);
      checkpointSaved = true;
      s.fromCheckpoint = true;
      postModel();
      if (!stopped) {
        await predictAndEvaluate(s, msg, outcome, epochsRun, durationSeconds);
      }
    } else if (!skipped) {
      await recoverTrainer();
    }
  } catch (e) {
    outcome = "error";
    const text = errorText(e);
    message = message ? `${message}; then ${text}` : text;
    console.error(`after training run ${msg.runId}: ${text}`);
  }
  currentRun = null;
  lastFinishedRun = msg.runId;
  stopRequests.delete(msg.runId);
  post({
    type: "train_done",
    runId: msg.runId,
    outcome,
    epochsRun,
    stoppedEarly,
    message,
    checkpointSaved,
  });
  if (outcome === "stopped" && checkpointSaved) {
    try {
      await predictAndEvaluate(s, msg, outcome, epochsRun, durationSeconds);
    } catch (e) {
      const text = errorText(e);
      console.error(`after stopped run ${msg.runId}: ${text}`);
      post({ type: "error", message: text, fatal: false });
    }
  }
}

/** The whole data set predicted (the map) and the run scored on the test set. */
async function predictAndEvaluate(
  s: WorkerState,
  msg: TrainMessage,
  outcome: RunRecord["outcome"],
  epochsRun: number,
  durationSeconds: number,
) {
  progress(`predicting ${s.count} images`);
  await predictAll();
  progress("evaluating on the test set");
  await evaluateRun(s, msg, { outcome, epochsRun, durationSeconds });
}

/** Thrown inside handleTrain when the run was stopped before its trainer ran. */
class StoppedBeforeStart extends Error {}

// Messages are handled one at a time, except `stop` and `fault`, which must
// reach a running trainEpochs (it yields between batches) to have any effect.
let queue: Promise<void> = Promise.resolve();

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === "stop") {
    // Remember it for a run not yet handled or not yet training; stop the
    // trainer at its next batch if this run is training now. A stop for a
    // run already done (it crossed its train_done) is dropped.
    if (msg.runId > lastFinishedRun) stopRequests.add(msg.runId);
    if (msg.runId === currentRun && state) state.trainer.requestStop();
    return;
  }
  if (msg.type === "fault") {
    if (!testHooks) {
      post({
        type: "error",
        message: "fault injection is disabled",
        fatal: false,
      });
    } else if (msg.fault === "nan" || msg.fault === "epoch_error") {
      injectedFault = msg.fault;
    } else {
      // An uncaught error outside any handler: the worker dies, as on a real bug.
      setTimeout(() => {
        throw new Error("injected crash (test hook)");
      }, 0);
    }
    return;
  }
  queue = queue.then(async () => {
    try {
      if (msg.type === "init") await handleInit(msg);
      else if (msg.type === "train") await handleTrain(msg);
      else if (msg.type === "predict") await predictAll();
    } catch (e) {
      // Reported to (and logged by) the main thread.
      post({
        type: "error",
        message: errorText(e),
        fatal: msg.type === "init",
      });
    }
  });
};
