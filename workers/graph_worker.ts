/**
 * Graph worker: owns the label graph of the data set (lib/graph/label_graph.ts)
 * so building it (seconds, once per data set) and propagating labels (~0.3 s
 * per change at 60k) never block the HTTP thread or wait behind a training run.
 *
 * Protocol: lib/protocol/graph_worker.ts. `init` once, then `labels` whenever
 * the labels change; each answer is a `propagation`. A data set whose graph
 * is not cached gets a quick graph first (seconds), which answers while
 * workers/graph_build_worker.ts builds the real one; a second `ready` says
 * the real one took over. When no newer labels
 * wait, the labels' self-check follows (lib/graph/self_check.ts: 5 more
 * propagations, given up at a fold's end as soon as new labels arrive) as
 * a `check`; its calibration makes the certainty of later propagations.
 */

/// <reference lib="deno.worker" />

import { initBackend } from "../lib/ssvae/backend.ts";
import {
  cacheProblemPoster,
  graphLoadOptions,
  loadGraphImages,
  userVectors,
} from "../lib/graph/graph_inputs.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { reviewLabels } from "../lib/graph/review.ts";
import {
  calibratedCertainty,
  type Calibration,
  checkLabels,
  fallbackCalibration,
} from "../lib/graph/self_check.ts";
import { SUGGESTION_LIMIT } from "../lib/protocol/limits.ts";
import type { GraphFeatures } from "../lib/protocol/api.ts";
import {
  type FromGraphBuildWorker,
  type FromGraphWorker,
  type GraphInitMessage,
  QUICK_GRAPH_FROM,
  type ToGraphWorker,
} from "../lib/protocol/graph_worker.ts";

let graph: LabelGraph | null = null;
/** Columns of the propagated probabilities (the model's class count). */
let classes = 10;
/** The latest self-check's calibration (null: none yet, the fallback's). */
let calibration: Calibration | null = null;
/** Messages received and not yet handled: a self-check yields to them. */
let pending = 0;
/** `graph` is the quick graph (the real one is being built). */
let provisional = false;

function post(msg: FromGraphWorker, transfer: Transferable[] = []) {
  self.postMessage(msg, transfer);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function handle(msg: ToGraphWorker): Promise<void> {
  if (msg.type === "init") return await init(msg);
  if (!graph) throw new Error("the label graph is not built yet");
  if (msg.type === "classify") {
    const p = graph.propagate(msg.labels, classes);
    const testPred = graph.classifyTest(p.predClass, classes) ??
      new Uint8Array(0);
    post({ type: "classified", id: msg.id, testPred }, [testPred.buffer]);
    return;
  }
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
    provisional,
  }, [
    p.probs.buffer,
    p.predClass.buffer,
    certainty.buffer,
    order.buffer,
    testPred.buffer,
  ]);
  await selfCheck(graph, msg.labels, probs, msg.revision, cal, msg.groups);
}

/** The labels' self-check, unless newer labels wait (then they go first). */
async function selfCheck(
  g: LabelGraph,
  labels: Float32Array,
  probs: Float32Array,
  revision: number,
  used: Calibration,
  groups: Int32Array | null,
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
    { between: idle, groups },
  );
  if (!check) {
    // Too few labels to check (an undo can get there): the fallback again.
    if (!interrupted) calibration = null;
    return;
  }
  const { held, ...info } = check;
  calibration = info.calibration;
  const review = reviewLabels(held, labels, classes, g.coverage.typicality);
  const changed = used.temperature !== calibration.temperature ||
    used.floor !== calibration.floor;
  const certainty = changed
    ? calibratedCertainty(probs, labels, classes, calibration)
    : null;
  post(
    {
      type: "check",
      revision,
      check: { revision, ...info },
      certainty,
      review: { revision, ...review },
    },
    certainty ? [certainty.buffer] : [],
  );
}

/**
 * Loads the cached graph; without one, builds the quick graph (from
 * `quickFrom` images on) and serves it while the build worker makes the
 * real one, or builds the real one here when that is quick anyway.
 */
async function init(msg: GraphInitMessage): Promise<void> {
  const t0 = performance.now();
  classes = msg.classes ?? 10;
  const [images] = await Promise.all([
    loadGraphImages(msg.data),
    initBackend(),
  ]);
  const { train } = images;
  const pixels = train.rows * train.cols * train.channels;
  const say = (message: string) => post({ type: "progress", message });
  const problem = cacheProblemPoster(post);
  const ready = (
    features: GraphFeatures,
    fromCache: boolean,
    isProvisional: boolean,
  ) =>
    post({
      type: "ready",
      count: train.count,
      fromCache,
      provisional: isProvisional,
      seconds: (performance.now() - t0) / 1000,
      features,
    });
  const vectors = await userVectors(msg, train, say, {
    cachedOnly: true,
    onCacheProblem: problem,
  });
  if (vectors !== null) {
    const cached = await LabelGraph.loadCached(
      train.raw,
      train.count,
      pixels,
      msg.cacheDir,
      graphLoadOptions(msg, images, vectors, say, problem),
    );
    if (cached) {
      graph = cached.graph;
      return ready(cached.features, true, false);
    }
  }
  if (train.count < (msg.quickFrom ?? QUICK_GRAPH_FROM)) {
    const embeddings = vectors !== null
      ? vectors
      : (await userVectors(msg, train, say, { onCacheProblem: problem })) ??
        undefined;
    const built = await LabelGraph.loadOrBuild(
      train.raw,
      train.count,
      pixels,
      msg.cacheDir,
      graphLoadOptions(msg, images, embeddings, say, problem),
    );
    graph = built.graph;
    return ready(built.features, false, false);
  }
  graph = LabelGraph.buildProvisional(train.raw, train.count, pixels, {
    test: images.test ?? undefined,
    shape: train,
    progress: say,
  });
  provisional = true;
  ready(QUICK_FEATURES, false, true);
  // The real graph, in a worker of its own: this one keeps answering labels.
  const builder = new Worker(
    new URL("./graph_build_worker.ts", import.meta.url),
    { type: "module" },
  );
  builder.onmessage = (e: MessageEvent<FromGraphBuildWorker>) => {
    const m = e.data;
    if (m.type === "progress" || m.type === "notice") return post(m);
    builder.terminate();
    if (m.type === "error") {
      return post({
        type: "error",
        message: `the label graph could not be built (${m.message}); ` +
          "the quick graph stays",
        fatal: false,
      });
    }
    const real = LabelGraph.deserialize(m.bytes, train.count);
    if (!real) {
      return post({
        type: "error",
        message:
          "the built label graph did not read back; the quick graph stays",
        fatal: false,
      });
    }
    graph = real;
    provisional = false;
    ready(m.features, m.fromCache, false);
  };
  builder.onerror = (e) => {
    e.preventDefault();
    post({
      type: "error",
      message: `the label graph's build worker died (${e.message}); ` +
        "the quick graph stays",
      fatal: false,
    });
  };
  builder.postMessage(msg);
}

/** The quick graph's space, as the page and /api/state name it. */
const QUICK_FEATURES: GraphFeatures = {
  kind: "pixels",
  accuracy: null,
  scoredOn: 0,
  candidates: [],
};

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
