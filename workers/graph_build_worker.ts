/**
 * Graph build worker: makes the real label graph (feature choice, exact
 * neighbours, spectral coverage; ~70 s at 60k, cached) while the graph worker
 * serves its quick graph, and hands the graph over as the cache file's bytes.
 * Started by workers/graph_worker.ts with the same init message; one message
 * in, progress and one `built` (or `error`) out.
 */

/// <reference lib="deno.worker" />

import { initBackend } from "../lib/ssvae/backend.ts";
import { lowerThreadPriority } from "../lib/thread_priority.ts";
import {
  cacheProblemPoster,
  graphLoadOptions,
  loadGraphImages,
  userVectors,
} from "../lib/graph/graph_inputs.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import type {
  FromGraphBuildWorker,
  GraphInitMessage,
} from "../lib/protocol/graph_worker.ts";

function post(msg: FromGraphBuildWorker, transfer: Transferable[] = []) {
  self.postMessage(msg, transfer);
}

// Background work: the page's requests go first (lib/thread_priority.ts).
lowerThreadPriority();

self.onmessage = async (ev: MessageEvent<GraphInitMessage>) => {
  const msg = ev.data;
  try {
    const [images] = await Promise.all([
      loadGraphImages(msg.data),
      initBackend(),
    ]);
    const say = (message: string) => post({ type: "progress", message });
    const problem = cacheProblemPoster(post);
    const embeddings = await userVectors(msg, images.train, say, {
      onCacheProblem: problem,
    }) ?? undefined;
    let fromCache = true;
    const built = await LabelGraph.loadOrBuild(
      images.train.raw,
      images.train.count,
      images.train.rows * images.train.cols * images.train.channels,
      msg.cacheDir,
      graphLoadOptions(msg, images, embeddings, (step) => {
        fromCache = false;
        say(step);
      }, problem),
    );
    const bytes = built.graph.serialize();
    post({ type: "built", bytes, features: built.features, fromCache }, [
      bytes.buffer,
    ]);
  } catch (e) {
    post({
      type: "error",
      message: e instanceof Error ? e.message : String(e),
      fatal: true,
    });
  }
};
