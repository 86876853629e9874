/** The label sources in the page's words (lib/protocol/label_events.ts). */
import type { LabelSource } from "../protocol/label_events.ts";

/** How a label source reads in the page (the history list, the grid's "Made by"). */
export const SOURCE_TEXT: Record<LabelSource, string> = {
  key: "key",
  "class-picker": "button",
  batch: "batch",
  import: "import",
  undo: "undo",
  redo: "redo",
  "offline-sync": "offline, synced",
  review: "review",
  api: "API",
  revert: "batch reverted",
  recovered: "found in labels.csv",
  seed: "labels.csv at the log's start",
  consensus: "annotators agreed",
};
