/**
 * The label history's wire format: where a label change came from and who
 * sent it (lib/labels/label_history.ts keeps them; GET /api/labels/:i/history
 * and `deno task labels --history` show them).
 */

/** Every source a label event can have. */
export const LABEL_SOURCES = [
  /** A digit key on the selected image. */
  "key",
  /** A class button of the sample panel. */
  "class-picker",
  /** A box or lasso selection labelled at once. */
  "batch",
  /** An uploaded labels file. */
  "import",
  /** Ctrl+Z / Ctrl+Shift+Z in the page. */
  "undo",
  "redo",
  /** A change made offline, replayed on reconnect. */
  "offline-sync",
  /** A relabel from the review queue. */
  "review",
  /** A plain API call that named no source. */
  "api",
  /** `deno task labels --revert-batch`. */
  "revert",
  /** labels.csv held what the log did not (a write the log missed, or an edit by hand). */
  "recovered",
  /** The first entry of a new log: labels.csv as it was then. */
  "seed",
  /** K annotators agreed on an overlapped image (`--overlap K`). */
  "consensus",
] as const;

/** Where a label change came from. */
export type LabelSource = typeof LABEL_SOURCES[number];

/**
 * A source as one byte (GET /api/labels/sources): 1 + its place in
 * LABEL_SOURCES, 0 for none.
 */
export function labelSourceCode(
  source: LabelSource | null | undefined,
): number {
  return source ? LABEL_SOURCES.indexOf(source) + 1 : 0;
}

/** The sources a request body may name; the server sets the others itself. */
export const CLIENT_SOURCES: readonly LabelSource[] = [
  "key",
  "class-picker",
  "batch",
  "undo",
  "redo",
  "review",
  "api",
];

/** Header naming the browser (or script) that sent a write. */
export const CLIENT_ID_HEADER = "X-Client-Id";
/** What a client id may be: a browser's random id, a script's name. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** One change of one image's label, as the log keeps it. */
export interface LabelEvent {
  /** Increasing over the log. */
  id: number;
  /** The write it was part of (one key press, one batch, one import). */
  batch: number;
  /** Server time, ms since 1970. */
  time: number;
  /** The image (−1: its serial is not in the data set now). */
  index: number;
  /** labels.csv's Serial of the image. */
  serial: number;
  /** The label before, null = none. */
  from: number | null;
  /** The label after, null = removed. */
  to: number | null;
  source: LabelSource;
  /** The client id of the request, null when none was sent. */
  client: string | null;
  /** The signed-in account that made it; null without accounts. */
  annotator: string | null;
}

/** What a write is, for the log: its source and client. */
export interface WriteMeta {
  source: LabelSource;
  client?: string | null;
  /** The signed-in account (lib/protocol/team.ts); absent without accounts. */
  annotator?: string | null;
  /**
   * Made through another dashboard process on the same PostgreSQL and
   * applied here: not shared again (lib/team/pg_label_feed.ts). Never sent
   * by clients.
   */
  remote?: boolean;
}

/** Body of GET /api/labels/:i/history. */
export interface LabelHistoryResponse {
  index: number;
  /** Newest first. */
  events: LabelEvent[];
  /** Why there is no history (the log could not be opened), if so. */
  warning?: string;
}
