/**
 * The shapes of the HTTP and WebSocket API (docs/architecture.md, "HTTP
 * API"): the server's routes and hub write them, the page and the offline
 * layer read them. Types only: nothing here runs.
 */
import type { MetricName, SSVAEConfig } from "../ssvae/config.ts";
import type { RunRecord } from "../training/runs.ts";
import type { Me, OverlapPending } from "./team.ts";
import type {
  EpochMetrics,
  HistoryEntry,
  SplitMetrics,
} from "../training/types.ts";

export type {
  EpochMetrics,
  HistoryEntry,
  MetricName,
  RunRecord,
  SplitMetrics,
  SSVAEConfig,
};

export type TrainingStatus = "idle" | "training" | "stopping" | "error";

export interface TrainingInfo {
  status: TrainingStatus;
  epoch: number;
  targetEpochs: number;
  message?: string;
}

/** `GET /api/state`. */
export interface ApiState {
  /** Who asks: the signed-in account, or the local user of a loopback server. */
  me?: Me;
  /** A team server's overlap: each image goes to `overlap` annotators. */
  team?: { overlap: number };
  count: number;
  labelled: number;
  countsPerClass: number[];
  training: TrainingInfo;
  config: Partial<SSVAEConfig>;
  history: HistoryEntry[];
  latentVersion: number;
  /** Class names and image shape (absent from old servers: MNIST). */
  dataset?: DatasetView;
  /** The label graph (predictions that follow every label). */
  graph?: GraphInfo;
  /** Optimizer steps of the model so far. */
  step?: number;
  /** Revision of the labels file (an import's `ifRevision`). */
  labelsRevision?: number;
  /** Why the label history is not kept or started afresh (labels.csv is fine). */
  historyWarning?: string;
  /** Completed labels.csv writes (servers started with test hooks only). */
  labelsWrites?: number;
  /** Problems found in the user's files (start report, caches rebuilt): shown on the page. */
  notices?: DataNotice[];
}

/**
 * A problem found in the user's files, said once in the terminal and kept on
 * the page: what happened, what was kept, and the files or rows concerned.
 */
export interface DataNotice {
  /** What kind of problem (tests and the page's styling go by it). */
  kind: DataNoticeKind;
  /** One sentence: what was found and what was kept or done. */
  title: string;
  /** The files or rows concerned, control characters escaped; at most NOTICE_ITEMS. */
  items: string[];
  /** How many files or rows there are in all (`items` may list fewer). */
  total: number;
}

/** The kinds of DataNotice. */
export type DataNoticeKind =
  | "unreadable-images"
  | "skipped-files"
  | "missing-files"
  | "new-serials"
  | "duplicate-serials"
  | "detached-labels"
  | "cache-rebuilt"
  | "labels-file";

export type GraphStatus = "building" | "ready" | "error" | "off";

/** What `GET /api/state` says about the label graph. */
export interface GraphInfo {
  status: GraphStatus;
  message?: string;
  /** Labels revision of the latest propagation (-1: none yet). */
  revision: number;
  /** Milliseconds the latest propagation took in the worker. */
  ms: number;
  phase: "coverage" | "uncertainty" | null;
  /** The feature space the graph is built in, once known. */
  features?: GraphFeatures;
  /**
   * The quick graph serves (plain pixels, approximate neighbours) while the
   * real one is built; `message` is the build's latest step.
   */
  provisional?: boolean;
  /** What the labels say of themselves, once there are enough of them. */
  check?: LabelCheckInfo;
}

/**
 * A label the rest of the data disagrees with (lib/graph/review.ts): held
 * out, the other labels predict `predicted`; `score` = its calibrated
 * probability minus the label's (`labelProbability`), most suspicious first.
 */
export interface ReviewItem {
  index: number;
  label: number;
  predicted: number;
  score: number;
  labelProbability: number;
}

/** A labelled image that fits no class: `score` = how much sparser its neighbourhood is than the median (0–1). */
export interface ReviewOutlier {
  index: number;
  label: number;
  score: number;
}

/** Body of GET /api/review: the queue, less confirmed and since-changed labels. */
export interface ReviewResponse extends ReviewInfo {
  /** Labelled images now. */
  labelled: number;
  /** Made for the labels as they are now (false: a newer check follows). */
  current: boolean;
  /** Labels confirmed so far. */
  confirmed: number;
}

/** The review queue of the labels revision `revision`. */
export interface ReviewInfo {
  revision: number;
  items: ReviewItem[];
  outliers: ReviewOutlier[];
  /** Labels that had a held-out prediction (a class's only label has none). */
  scored: number;
}

/**
 * The label graph's self-check (lib/graph/self_check.ts): k-fold
 * cross-validation over the user's labels, for the labels revision
 * `revision`. Accuracies are 0–1.
 */
export interface LabelCheckInfo {
  revision: number;
  labelled: number;
  /** Held-out labels scored (a class's only label is not). */
  scored: number;
  folds: number;
  /** Share of the held-out labels predicted right by the rest. */
  heldOut: number;
  /**
   * Estimated accuracy on the unlabelled images: their mean calibrated
   * certainty (the held-out share runs low, as the suggestions pick hard
   * images on purpose); the 95% interval is as wide as the held-out
   * measurement's.
   */
  accuracy: number;
  low: number;
  high: number;
  /**
   * The shown certainty q(c) = (1 − floor)·p(c)^(1/T)/Σ p^(1/T) + floor/C of
   * the propagated p, fitted on the held-out labels.
   */
  calibration: { temperature: number; floor: number };
}

/**
 * The label graph's feature space, chosen on the validation images
 * (lib/graph/features.ts): its name, its validation 10-NN accuracy (0–1,
 * null without ground truth) and every candidate's.
 */
export interface GraphFeatures {
  kind: string;
  accuracy: number | null;
  /** Validation images scored (0: nothing to score on; the default). */
  scoredOn: number;
  candidates: { kind: string; accuracy: number | null }[];
}

/** `GET /api/state`'s `dataset`. */
export interface DatasetView {
  kind: "mnist" | "images";
  name: string;
  classes: string[];
  rows: number;
  cols: number;
  /** 1 grey, 3 RGB (interleaved). */
  channels: number;
  /**
   * Whether runs are scored on a test set (false: an image folder started
   * without --holdout). Absent from older servers: true.
   */
  hasTest?: boolean;
}

/**
 * `GET /api/images`: the image set in chunks for offline use
 * (`GET /api/images/:id/:k` is chunk k, row-major uint8). `id` is a digest of
 * the data set, so a chunk URL names fixed bytes forever.
 */
export interface ImagesMeta {
  id: string;
  count: number;
  rows: number;
  cols: number;
  /** 1 (grey) or 3 (RGB, interleaved). */
  channels: number;
  chunkSize: number;
  chunks: number;
  bytes: number;
}

/** `GET /api/samples/:i`. */
export interface Sample {
  index: number;
  label: number | null;
  predClass: number;
  certainty: number;
  probs: number[];
  /** base64 of rows×cols×channels bytes, row-major (28×28 grey for MNIST). */
  original: string;
  /** "" when not available (offline, not cached). */
  recon: string;
  /** Model version the prediction and reconstruction come from. */
  latentVersion?: number;
  /** The file, relative to the image folder (image folders only). */
  path?: string;
  /** Put together offline (lib/client/offline_api.ts): not to be kept once online. */
  offline?: boolean;
}

/** `PUT|DELETE /api/labels/:i`. */
export interface LabelResult {
  index: number;
  label: number | null;
  applied: boolean;
  /**
   * `--overlap K`: the label is the annotator's annotation, not the image's
   * label yet (lib/server/overlap_service.ts).
   */
  pending?: OverlapPending;
}

export interface LabelChange {
  index: number;
  label: number | null;
}

/** `PUT /api/labels` (batch). */
export interface BatchResult {
  applied: number;
  changed: number;
  /** Not applied (a newer change won): the values the server kept. */
  stale: LabelChange[];
  counts?: Counts;
}

export interface ImportRow {
  index: number;
  before: number | null;
  after: number | null;
}

/** `POST /api/labels/import` (preview with dryRun, or the applied import). */
export interface ImportResult {
  dryRun: boolean;
  mode: "merge" | "replace";
  rows: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  labelledBefore: number;
  labelledAfter: number;
  sample: { added: ImportRow[]; changed: ImportRow[]; removed: ImportRow[] };
  labelsRevision: number;
}

/**
 * Progress inside an epoch (WebSocket `batch`, at most ~5 a second): batches
 * done, the run's elapsed time and an estimate of what is left.
 */
export interface BatchProgress {
  /** 1-based epoch within the run. */
  epoch: number;
  targetEpochs: number;
  /** Batches done in this epoch (1-based). */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /**
   * Estimated milliseconds to the end of the run's last epoch (training and
   * evaluation passes; not the checkpoint save and prediction after it), or
   * null before it can be estimated (the first batch of the run).
   */
  etaMs: number | null;
  /** Mean total training loss over this epoch's batches so far (weighted by rows). */
  loss: number;
}

/** Label counts as the server sends them in `hello` and `labels_changed`. */
export interface Counts {
  labelled?: number;
  countsPerClass?: number[];
  count?: number;
}

interface Base {
  seq?: number;
}

/** Server → client WebSocket messages. */
export type ServerMessage =
  | Base & {
    type: "hello";
    status?: TrainingInfo | TrainingStatus;
    graph?: GraphInfo;
    history?: HistoryEntry[];
    latentVersion?: number;
    config?: Partial<SSVAEConfig>;
    counts?: Counts;
    notices?: DataNotice[];
  }
  | Base & {
    type: "training_started";
    targetEpochs: number;
    config?: Partial<SSVAEConfig>;
  }
  | Base & {
    type: "epoch";
    epoch: number;
    targetEpochs: number;
    metrics: EpochMetrics;
    entry: HistoryEntry;
  }
  | Base & BatchProgress & { type: "batch" }
  | Base & { type: "training_complete"; message?: string }
  | Base & { type: "training_stopped"; message?: string }
  | Base & { type: "training_stopping"; training?: TrainingInfo }
  | Base & { type: "worker_restarted"; training?: TrainingInfo }
  | Base & { type: "training_error"; message: string }
  | Base & { type: "latent_updated"; version: number }
  /** The label graph's status changed, or its first build took a step. */
  | Base & { type: "graph_status"; graph: GraphInfo }
  /** A problem found in the user's files since start (a damaged cache rebuilt): the whole list. */
  | Base & { type: "notices"; notices: DataNotice[] }
  | Base & {
    type: "labels_changed";
    changes: LabelChange[];
    counts?: Counts;
  }
  | Base & {
    type: "evaluation";
    record?: RunRecord;
    /** `record` replaces the run's earlier one (scored again on the real graph). */
    rescored?: boolean;
    saved?: boolean;
    message?: string;
  };

/** What the server passes to `renderPage` (everything optional). */
export interface PageProps {
  /** The `/api/state` snapshot at render time: first paint shows real numbers. */
  state?: ApiState | null;
  /** Document title. */
  title?: string;
}
