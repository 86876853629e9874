/**
 * Main-thread side of the graph worker: sends the labels after every change
 * (at most one propagation in flight; changes that arrive meanwhile are sent
 * together when it answers) and keeps the latest propagation for the
 * snapshot, the suggestion queue and the next training run's soft labels.
 */

import type { DataNotice, GraphInfo, ReviewInfo } from "../protocol/api.ts";
import type {
  FromGraphWorker,
  GraphInitMessage,
  PropagationMessage,
} from "../protocol/graph_worker.ts";

export interface GraphControllerOptions {
  init: Omit<GraphInitMessage, "type">;
  /**
   * The live labels (NaN = none), their revision and each label's history
   * batch (`groups`, for the self-check), read when sending.
   */
  labels: () => {
    labels: Float32Array;
    revision: number;
    groups?: Int32Array | null;
  };
  /** Images never suggested (the model's validation split), read when sending. */
  exclude: () => Uint8Array | null;
  onPropagation: (p: PropagationMessage) => void;
  /**
   * The status changed (building → ready or error), or the first build took
   * a step (`message`: "neighbour graph", …): for the page.
   */
  onInfo?: (info: GraphInfo) => void;
  /** A problem with the user's files the worker met (a damaged cache, rebuilt). */
  onNotice?: (notice: DataNotice) => void;
  log: (line: string) => void;
  workerUrl?: URL;
}

export class GraphController {
  readonly #opts: GraphControllerOptions;
  #worker: Worker | null = null;
  #inFlight = false;
  #dirty = false;
  /** The latest propagation (a self-check can recalibrate its certainty). */
  #last: PropagationMessage | null = null;
  #classifyId = 0;
  /** `classify` calls waiting for their answer, by id. */
  readonly #classifying = new Map<number, (p: Uint8Array | null) => void>();
  info: GraphInfo = { status: "building", revision: -1, ms: 0, phase: null };
  /** The latest review queue (lib/graph/review.ts); null before a self-check. */
  review: ReviewInfo | null = null;

  constructor(opts: GraphControllerOptions) {
    this.#opts = opts;
  }

  /** Starts the worker; the first propagation follows the build by itself. */
  start(): void {
    const url = this.#opts.workerUrl ??
      new URL("../../workers/graph_worker.ts", import.meta.url);
    const w = new Worker(url, { type: "module" });
    this.#worker = w;
    w.onmessage = (e: MessageEvent<FromGraphWorker>) => this.#handle(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      const message = `graph worker died: ${e.message}`;
      this.#opts.log(message);
      this.#worker = null;
      for (const resolve of this.#classifying.values()) resolve(null);
      this.#classifying.clear();
      this.#announce({ status: "error", message });
    };
    w.postMessage({ type: "init", ...this.#opts.init });
  }

  /**
   * The test images' classes the current graph gives `labels` (empty
   * without a test set); null when no graph serves.
   */
  classify(labels: Float32Array): Promise<Uint8Array | null> {
    if (this.info.status !== "ready" || !this.#worker) {
      return Promise.resolve(null);
    }
    const id = ++this.#classifyId;
    const copy = labels.slice();
    return new Promise((resolve) => {
      this.#classifying.set(id, resolve);
      this.#worker!.postMessage({ type: "classify", id, labels: copy }, [
        copy.buffer,
      ]);
    });
  }

  /** The labels changed: propagate them (coalesced with any in flight). */
  labelsChanged(): void {
    if (this.info.status !== "ready" || !this.#worker) return;
    if (this.#inFlight) {
      this.#dirty = true;
      return;
    }
    this.#send();
  }

  #send() {
    const { labels, revision, groups } = this.#opts.labels();
    const copy = labels.slice();
    const groupCopy = groups ? groups.slice() : null;
    const exclude = this.#opts.exclude();
    this.#inFlight = true;
    this.#dirty = false;
    this.#worker!.postMessage({
      type: "labels",
      revision,
      labels: copy,
      exclude: exclude ? exclude.slice() : null,
      groups: groupCopy,
    }, groupCopy ? [copy.buffer, groupCopy.buffer] : [copy.buffer]);
  }

  /** A status change or build step: kept in `info`, and told to the page. */
  #announce(change: Partial<GraphInfo>) {
    this.info = { ...this.info, ...change };
    this.#opts.onInfo?.(this.info);
  }

  #handle(msg: FromGraphWorker) {
    switch (msg.type) {
      case "progress":
        this.#opts.log(`label graph: ${msg.message}`);
        this.#announce({ message: msg.message });
        return;
      case "notice":
        if (this.#opts.onNotice) this.#opts.onNotice(msg.notice);
        else this.#opts.log(`label graph: ${msg.notice.title}`);
        return;
      case "ready":
        this.#opts.log(
          `label graph of ${msg.count} images ${
            msg.provisional
              ? "(quick, while the real one is built)"
              : msg.fromCache
              ? "loaded from cache"
              : "built"
          } in ${msg.seconds.toFixed(1)} s`,
        );
        this.#opts.log(
          `label graph features: ${msg.features.kind}${
            msg.features.accuracy === null
              ? " (default: no ground truth to choose on)"
              : ` (validation 10-NN ${
                (100 * msg.features.accuracy).toFixed(1)
              }% on ${msg.features.scoredOn} images; ${
                msg.features.candidates.map((c) =>
                  `${c.kind} ${
                    c.accuracy === null ? "–" : (100 * c.accuracy).toFixed(1)
                  }%`
                ).join(", ")
              })`
          }`,
        );
        this.#announce({
          status: "ready",
          message: undefined,
          features: msg.features,
          provisional: msg.provisional,
        });
        // The real graph after the quick one: the same labels again, on it.
        if (this.#inFlight) this.#dirty = true;
        else this.#send();
        return;
      case "classified":
        this.#classifying.get(msg.id)?.(msg.testPred);
        this.#classifying.delete(msg.id);
        return;
      case "propagation":
        this.#inFlight = false;
        this.#last = msg;
        this.info = {
          ...this.info,
          revision: msg.revision,
          ms: msg.ms,
          phase: msg.phase,
        };
        this.#opts.onPropagation(msg);
        if (this.#dirty) this.#send();
        return;
      case "check":
        this.review = msg.review;
        this.#announce({ check: msg.check });
        // A new calibration: the same predictions with the certainty it
        // gives, unless newer labels have been propagated meanwhile.
        if (msg.certainty && this.#last?.revision === msg.revision) {
          this.#last = { ...this.#last, certainty: msg.certainty };
          this.#opts.onPropagation(this.#last);
        }
        return;
      case "error":
        this.#inFlight = false;
        this.#opts.log(`label graph: ${msg.message}`);
        if (msg.fatal) {
          this.#announce({ status: "error", message: msg.message });
        } else if (this.info.provisional) {
          // The real graph failed: the quick one serves on, and the page says so.
          this.#announce({ message: msg.message });
        }
        return;
    }
  }

  shutdown(): void {
    for (const resolve of this.#classifying.values()) resolve(null);
    this.#classifying.clear();
    this.#worker?.terminate();
    this.#worker = null;
  }
}
