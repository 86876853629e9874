/**
 * Undoing a past batch from the label history (after a restart, when the
 * page's undo is gone): each image the batch changed goes back to its label
 * before the batch, unless it has changed again since (then it is left as
 * it is and named: a later decision is not overwritten silently).
 */

import type { LabelChange } from "../protocol/api.ts";
import type { LabelEvent } from "../protocol/label_events.ts";

/** What reverting a batch would do. */
export interface RevertPlan {
  batch: number;
  /** The writes that undo it (label before the batch; null = none). */
  changes: LabelChange[];
  /** Images changed again since: left alone. */
  conflicts: Array<
    {
      index: number;
      serial: number;
      batchSet: number | null;
      now: number | null;
    }
  >;
  /** Events of images the data set no longer has. */
  missing: number;
}

/**
 * The plan that reverts the batch of `events` (one batch's, in order) given
 * each image's current label. Throws when there are no events (no batch).
 */
export function planRevert(
  events: LabelEvent[],
  current: (index: number) => number | null,
): RevertPlan {
  if (events.length === 0) throw new RangeError("no such batch");
  const plan: RevertPlan = {
    batch: events[0].batch,
    changes: [],
    conflicts: [],
    missing: 0,
  };
  // A batch changes each image once; if not (an old log), the first event's
  // `from` is the state before the batch and the last's `to` after it.
  const first = new Map<number, LabelEvent>();
  const last = new Map<number, LabelEvent>();
  for (const e of events) {
    if (e.index < 0) {
      plan.missing++;
      continue;
    }
    if (!first.has(e.index)) first.set(e.index, e);
    last.set(e.index, e);
  }
  for (const [index, e] of first) {
    const after = last.get(index)!.to;
    const now = current(index);
    if (now !== after) {
      plan.conflicts.push({ index, serial: e.serial, batchSet: after, now });
    } else if (e.from !== now) {
      plan.changes.push({ index, label: e.from });
    }
  }
  return plan;
}
