/**
 * What labelling a box/lasso selection would do, before it is done: how many
 * images get a first label, how many change label, how many already have it.
 * Pure (unit-tested); the active controller asks for a confirmation from it.
 */
import type { LabelChange } from "../protocol/api.ts";

/** A batch larger than this asks first, even when it changes no label. */
export const CONFIRM_OVER = 200;

export interface BatchPlan {
  /** The writes: every included image whose label differs from `label`. */
  changes: LabelChange[];
  /** Unlabelled → labelled. */
  added: number;
  /** Labelled → another label (or removed, when `label` is null). */
  changed: number;
  /** Already `label`: nothing to write. */
  unchanged: number;
  /** Whether the page must ask first. */
  confirm: boolean;
}

export function planBatch(
  userLabel: Int8Array,
  selection: ArrayLike<number>,
  excluded: ReadonlySet<number>,
  label: number | null,
): BatchPlan {
  const changes: LabelChange[] = [];
  let added = 0, changed = 0, unchanged = 0;
  for (let k = 0; k < selection.length; k++) {
    const i = selection[k];
    if (excluded.has(i)) continue;
    const before = userLabel[i] ?? -1;
    const now = before < 0 ? null : before;
    if (now === label) {
      unchanged++;
      continue;
    }
    if (now === null) added++;
    else changed++;
    changes.push({ index: i, label });
  }
  return {
    changes,
    added,
    changed,
    unchanged,
    confirm: changed > 0 || changes.length > CONFIRM_OVER,
  };
}

const n = (v: number) => v.toLocaleString("en-US");

/** "1,200 new, 34 changed" (what the question and the result both say). */
export function planSummary(
  p: BatchPlan,
  label: number | null,
  name: (c: number) => string = String,
): string {
  if (label === null) return `${n(p.changed)} labels removed`;
  const parts = [`${n(p.added)} new`, `${n(p.changed)} changed`];
  if (p.unchanged > 0) parts.push(`${n(p.unchanged)} already ${name(label)}`);
  return parts.join(", ");
}
