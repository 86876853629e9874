/**
 * Graph worker: owns the label graph of the data set (lib/graph/label_graph.ts)
 * so building it (seconds, once per data set) and propagating labels (~0.3 s
 * per change at 60k) never block the HTTP thread or wait behind a training run.
 *
 * Protocol: lib/protocol/graph_worker.ts. `init` once, then `labels` whenever
 * the labels change; each answer is a `propagation`.
 */

/// <reference lib="deno.worker" />

import { initBackend } from "../lib/ssvae/backend.ts";
import { loadTestRawSet, loadTrainRawSet } from "../lib/data/source.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { SUGGESTION_LIMIT } from "../lib/protocol/limits.ts";
import {
  type FromGraphWorker,
  type ToGraphWorker,
} from "../lib/protocol/graph_worker.ts";

let graph: LabelGraph | null = null;
/** Columns of the propagated probabilities (the model's class count). */
let classes = 10;

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
  post({
    type: "propagation",
    revision: msg.revision,
    probs: p.probs,
    predClass: p.predClass,
    certainty: p.certainty,
    order,
    phase,
    testPred,
    ms: performance.now() - t0,
    labelled,
  }, [
    p.probs.buffer,
    p.predClass.buffer,
    p.certainty.buffer,
    order.buffer,
    testPred.buffer,
  ]);
}

// One message at a time: the main thread sends the next labels only after
// the previous propagation's answer.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<ToGraphWorker>) => {
  const msg = ev.data;
  queue = queue.then(() => handle(msg)).catch((e) => {
    post({ type: "error", message: errorText(e), fatal: msg.type === "init" });
  });
};
