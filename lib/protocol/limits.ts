/**
 * Every limit and range both sides of the API must agree on, defined once:
 * the server validates against these, the page's controls are built from
 * them, the CLI checks its flags with them. No imports, so the browser
 * bundle takes it as is.
 */

/**
 * The most classes a data set may have. The wire formats would take 127
 * (LAT1 keeps the user label as an int8, −1 = none; the predicted class is a
 * uint8); 100 keeps what grows with the class count within ~10× MNIST's:
 * the probabilities the page downloads (N × classes bytes, 6 MB for 60k
 * images), a label's propagation over the graph (one pass per class column)
 * and the confusion matrix of every run record.
 */
export const MAX_CLASSES = 100;

/**
 * Most changes in one `PUT /api/labels` batch (and one undo entry); a lasso
 * over a 60k map can exceed it, and the page says so.
 */
export const MAX_BATCH = 20_000;

/** The most files or rows one DataNotice lists (the terminal and the page say how many more). */
export const NOTICE_ITEMS = 50;

/**
 * Default cap on an image's pixels (width × height, from its header, before
 * any decoding): a 20000×20000 PNG of 388 KB would otherwise take ~2 GB and
 * 13 s to decode. 50 megapixels passes any camera photo of today;
 * `--max-megapixels` raises it.
 */
export const DEFAULT_MAX_MEGAPIXELS = 50;

/** Request body caps, in bytes. */
export const BODY_LIMITS = {
  /** Any small JSON body (a label, a training start). */
  json: 64 * 1024,
  /** `PUT /api/labels`: 20k changes of `{"index":59999,"label":null},` fit. */
  batch: 1024 * 1024,
  /** `POST /api/labels/import`: a 60k-row CSV is ~0.6 MB; JSON escaping adds little. */
  import: 4 * 1024 * 1024,
  /** `POST /api/labels/sync`: an offline outbox of SYNC_MAX_OPS operations. */
  sync: 128 * 1024,
} as const;

/** Most operations in one `POST /api/labels/sync` (~50 bytes each). */
export const SYNC_MAX_OPS = 1000;

/** An inclusive range of a training parameter; `step` is the slider's. */
export interface ParamRange {
  min: number;
  max: number;
  step?: number;
}

/**
 * The training parameters a person may set (`POST /api/training/start`),
 * by their config names.
 */
export const TRAINING_RANGES = {
  recon_weight: { min: 0, max: 5000, step: 10 },
  kl_weight: { min: 0, max: 1, step: 0.01 },
  // Its slider moves on log10 (lib/client/store.ts).
  learning_rate: { min: 1e-4, max: 1e-2 },
} as const satisfies Record<string, ParamRange>;

/** The training parameters' names, in the order the page shows them. */
export type TrainingParam = keyof typeof TRAINING_RANGES;

/** Epochs of one training run. */
export const EPOCHS_RANGE = { min: 1, max: 200, step: 1 } as const;

/** Most indices in one `GET /api/thumbnails` (the selection panel shows as many). */
export const MAX_THUMBNAILS = 100;

/** Most images of the label graph's default suggestion queue. */
export const SUGGESTION_LIMIT = 500;

/**
 * The review queue (GET /api/review?limit=N): at most `max` items of each
 * list are kept by the graph worker and served; `default` without `limit`.
 */
export const REVIEW_PAGE = { default: 50, max: 500 } as const;
/** Events one history request returns: by default, and at most. */
export const HISTORY_PAGE = { default: 50, max: 1000 } as const;
