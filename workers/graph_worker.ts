/**
 * Graph worker: owns the label graph of the data set (lib/graph/label_graph.ts)
 * so building it (seconds, once per data set) and propagating labels (~0.3 s
 * per change at 60k) never block the HTTP thread or wait behind a training run.
 *
 * Protocol: lib/protocol/graph_worker.ts. `init` once, then `labels` whenever
 * the labels change; each answer is a `propagation`. When no newer labels
 * wait, the labels' self-check follows (lib/graph/self_check.ts: 5 more
 * propagations, given up at a fold's end as soon as new labels arrive) as
 * a `check`; its calibration makes the certainty of later propagations.
 */

/// <reference lib="deno.worker" />

import { initBackend } from "../lib/ssvae/backend.ts";
import { loadTestRawSet, loadTrainRawSet } from "../lib/data/source.ts";
import { readEmbeddings } from "../lib/graph/embeddings_file.ts";
import { encoderEmbeddings } from "../lib/graph/encoder.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import {
  calibratedCertainty,
  type Calibration,
  checkLabels,
  fallbackCalibration,
} from "../lib/graph/self_check.ts";
import { SUGGESTION_LIMIT } from "../lib/protocol/limits.ts";
import {
  type FromGraphWorker,
  type ToGraphWorker,
} from "../lib/protocol/graph_worker.ts";

let graph: LabelGraph | null = null;
/** Columns of the propagated probabilities (the model's class count). */
let classes = 10;
/** The latest self-check's calibration (null: none yet, the fallback's). */
let calibration: Calibration | null = null;
/** Messages received and not yet handled: a self-check yields to them. */
let pending = 0;

function post(msg: FromGraphWorker, transfer: Transferable[] = []) {
  self.postMessage(msg, transfer);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function handle(msg: ToGraphWorker): Promise<void> {
  if (msg.type === "init") {
    const t0 = performance.now();
    classes = msg.classes ?? 10;
    // Bytes only: the graph scales pixels its own way (/ 255), so the
    // model's per-pixel floats (188 MB for 60k images) are not built here.
    const [train] = await Promise.all([
      loadTrainRawSet(msg.data),
      initBackend(),
    ]);
    // The test set is optional: a data folder without t10k files still labels.
    const test = await loadTestRawSet(msg.data).catch(() => null);
    const say = (message: string) => post({ type: "progress", message });
    const embeddings = msg.embeddings
      ? await readEmbeddings(msg.embeddings, train.count)
      : msg.encoder
      ? await encoderEmbeddings(msg.encoder, train, msg.cacheDir, say)
      : undefined;
    let fromCache = true;
    const built = await LabelGraph.loadOrBuild(
      train.raw,
      train.count,
      train.rows * train.cols * train.channels,
      msg.cacheDir,
      {
        test: test ? { raw: test.raw, count: test.count } : undefined,
        shape: train,
        validation: msg.validation,
        truth: train.labels,
        embeddings,
        progress: (step) => {
          fromCache = false;
          post({ type: "progress", message: step });
        },
      },
    );
    graph = built.graph;
    post({
      type: "ready",
      count: train.count,
      fromCache,
      seconds: (performance.now() - t0) / 1000,
      features: built.features,
    });
    return;
  }
  if (!graph) throw new Error("the label graph is not built yet");
  const t0 = performance.now();
  const p = graph.propagate(msg.labels, classes);
  const cal = calibration ?? fallbackCalibration(msg.labels, classes);
  const certainty = calibratedCertainty(p.probs, msg.labels, classes, cal);
  const { order, phase } = graph.suggest(
    msg.labels,
    p.probs,
    SUGGESTION_LIMIT,
    {
      exclude: msg.exclude ?? undefined,
    },
  );
  const testPred = graph.classifyTest(p.predClass, classes) ??
    new Uint8Array(0);
  let labelled = 0;
  for (const l of msg.labels) if (!Number.isNaN(l)) labelled++;
  // Kept for the self-check: the probabilities' buffer is transferred.
  const probs = p.probs.slice();
  post({
    type: "propagation",
    revision: msg.revision,
    probs: p.probs,
    predClass: p.predClass,
    certainty,
    order,
    phase,
    testPred,
    ms: performance.now() - t0,
    labelled,
  }, [
    p.probs.buffer,
    p.predClass.buffer,
    certainty.buffer,
    order.buffer,
    testPred.buffer,
  ]);
  await selfCheck(graph, msg.labels, probs, msg.revision, cal);
}

/** The labels' self-check, unless newer labels wait (then they go first). */
async function selfCheck(
  g: LabelGraph,
  labels: Float32Array,
  probs: Float32Array,
  revision: number,
  used: Calibration,
): Promise<void> {
  // A macrotask turn lets a message that has already arrived be counted.
  let interrupted = false;
  const idle = () =>
    new Promise<boolean>((r) =>
      setTimeout(() => r(!(interrupted = pending > 0)), 0)
    );
  if (!(await idle())) return;
  const check = await checkLabels(
    (l) => g.propagate(l, classes).probs,
    labels,
    probs,
    classes,
    { between: idle },
  );
  if (!check) {
    // Too few labels to check (an undo can get there): the fallback again.
    if (!interrupted) calibration = null;
    return;
  }
  calibration = check.calibration;
  const changed = used.temperature !== calibration.temperature ||
    used.floor !== calibration.floor;
  const certainty = changed
    ? calibratedCertainty(probs, labels, classes, calibration)
    : null;
  post(
    { type: "check", revision, check: { revision, ...check }, certainty },
    certainty ? [certainty.buffer] : [],
  );
}

// One message at a time: the main thread sends the next labels only after
// the previous propagation's answer.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<ToGraphWorker>) => {
  const msg = ev.data;
  pending++;
  queue = queue.then(() => {
    pending--;
    return handle(msg);
  }).catch((e) => {
    post({ type: "error", message: errorText(e), fatal: msg.type === "init" });
  });
};
