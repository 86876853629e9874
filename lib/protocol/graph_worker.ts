/**
 * Messages between the server's main thread and workers/graph_worker.ts (the
 * label graph: predictions that follow every label, and the default
 * suggestion queue). Types only, shared by both sides.
 */

import type { DataSpec } from "../data/source.ts";
import type {
  DataNotice,
  GraphFeatures,
  LabelCheckInfo,
  ReviewInfo,
} from "./api.ts";

export interface GraphInitMessage {
  type: "init";
  data: DataSpec;
  /** Folder of the graph cache file (built once per data set). */
  cacheDir: string;
  /**
   * Probabilities per image: the model's class count (`modelClassCount`),
   * so they train it as soft labels. Absent: 10.
   */
  classes?: number;
  /**
   * The model's validation images (indices): the feature space is chosen
   * on their true classes, where the data set has them.
   */
  validation?: Uint32Array;
  /** `--embeddings`: a .npy of the user's vectors (header checked at start). */
  embeddings?: string;
  /** `--encoder`: an ONNX image encoder, run once (cached in `cacheDir`). */
  encoder?: string;
  /**
   * From this many images on, a graph that is not cached is first made as
   * a quick graph (seconds) that serves while the real one is built in
   * another worker. Absent: QUICK_GRAPH_FROM.
   */
  quickFrom?: number;
}

/**
 * From this many images on, the first build starts with a quick graph: below
 * it the real graph takes a few seconds anyway (10k images: ~3 s).
 */
export const QUICK_GRAPH_FROM = 15000;

/**
 * The test images' predicted classes for `labels` (a run recorded before
 * the real graph existed is scored again with it): answered by `classified`.
 */
export interface GraphClassifyMessage {
  type: "classify";
  id: number;
  labels: Float32Array;
}

/** Propagate these labels (NaN = none); `exclude` marks images never suggested. */
export interface GraphLabelsMessage {
  type: "labels";
  revision: number;
  labels: Float32Array;
  exclude: Uint8Array | null;
  /**
   * The label history's batch of each image's label (−1 none): the
   * self-check holds one write's labels out together. Null: not known.
   */
  groups: Int32Array | null;
}

export type ToGraphWorker =
  | GraphInitMessage
  | GraphLabelsMessage
  | GraphClassifyMessage;

/**
 * A graph serves: the quick graph (`provisional`, while the real one is
 * built), or the real one. Labels propagate on whichever came last.
 */
export interface GraphReadyMessage {
  type: "ready";
  count: number;
  fromCache: boolean;
  provisional: boolean;
  seconds: number;
  features: GraphFeatures;
}

/** `classify`'s answer (empty without a test set). */
export interface GraphClassifiedMessage {
  type: "classified";
  id: number;
  testPred: Uint8Array;
}

export interface GraphProgressMessage {
  type: "progress";
  message: string;
}

/** One propagation's result; every buffer is transferred. */
export interface PropagationMessage {
  type: "propagation";
  revision: number;
  probs: Float32Array;
  predClass: Uint8Array;
  certainty: Float32Array;
  /** The default queue, best first (up to SUGGESTION_LIMIT). */
  order: Uint32Array;
  phase: "coverage" | "uncertainty";
  /** Predicted classes of the test images (their neighbours' vote); empty without a test set. */
  testPred: Uint8Array;
  /** Milliseconds spent propagating and ranking. */
  ms: number;
  /** How many labels were propagated (0: the probabilities are uniform). */
  labelled: number;
  /** Made on the quick graph (the real one was still being built). */
  provisional: boolean;
}

/**
 * The self-check of a propagation's labels (lib/graph/self_check.ts) and the
 * review queue made from it (lib/graph/review.ts), sent when the worker is
 * idle after it. `certainty` is that propagation's,
 * recalibrated, when the fitted calibration changed (null otherwise).
 */
export interface GraphCheckMessage {
  type: "check";
  revision: number;
  check: LabelCheckInfo;
  certainty: Float32Array | null;
  /** The review queue made from the same held-out predictions. */
  review: ReviewInfo;
}

/** A cache file that was there but not used (damaged, another version): it is rebuilt. */
export interface GraphNoticeMessage {
  type: "notice";
  notice: DataNotice;
}

export interface GraphErrorMessage {
  type: "error";
  message: string;
  fatal: boolean;
}

export type FromGraphWorker =
  | GraphReadyMessage
  | GraphClassifiedMessage
  | GraphProgressMessage
  | GraphNoticeMessage
  | PropagationMessage
  | GraphCheckMessage
  | GraphErrorMessage;

/**
 * The real graph, built by workers/graph_build_worker.ts for the graph
 * worker (which serves the quick graph meanwhile): `bytes` is the cache
 * file's content (LabelGraph.serialize), transferred.
 */
export interface GraphBuiltMessage {
  type: "built";
  bytes: Uint8Array;
  features: GraphFeatures;
  fromCache: boolean;
}

/** What the build worker posts: its steps, the graph, or why it failed. */
export type FromGraphBuildWorker =
  | GraphProgressMessage
  | GraphNoticeMessage
  | GraphBuiltMessage
  | GraphErrorMessage;
