/**
 * The shape of the page's one label-write path: implemented by
 * lib/client/controller.ts, called by lib/client/active_controller.ts (batches,
 * undo/redo). Its own module so that neither controller imports the other.
 */
import type { LabelChange } from "../protocol/api.ts";
import type { LabelSource } from "../protocol/label_events.ts";

/** Options of a label write. */
export interface WriteOptions {
  /** Record for undo, described so ("label #12 as 3"). */
  undo?: string;
  /** Toast text on success (default: "Saved: #i labelled coat" / "Saved n labels"). */
  success?: string;
  /** What the label history records it as (default: the server's "api"/"batch"). */
  source?: LabelSource;
}

/**
 * Writes label changes (optimistic, rolled back on failure); resolves true
 * once the server, or the offline queue, holds them.
 */
export type WriteLabels = (
  changes: LabelChange[],
  opts?: WriteOptions,
) => Promise<boolean>;
