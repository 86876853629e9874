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
  /**
   * The labels the batch replaces (every label in labels.csv is one the
   * user made: a key, a batch, an import), as [old class, count], most
   * first.
   */
  replaced: Array<[number, number]>;
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
  const replaced = new Map<number, number>();
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
    else {
      changed++;
      replaced.set(now, (replaced.get(now) ?? 0) + 1);
    }
    changes.push({ index: i, label });
  }
  return {
    changes,
    added,
    changed,
    unchanged,
    replaced: byCount(replaced),
    confirm: changed > 0 || changes.length > CONFIRM_OVER,
  };
}

/** [key, count] pairs, most first (then by key). */
function byCount(m: Map<number, number>): Array<[number, number]> {
  return [...m].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

/**
 * How many of the selection's included images each class is predicted to
 * be, most first: what a box caught, which its red points do not show.
 */
export function predictedBreakdown(
  predClass: Uint8Array,
  selection: ArrayLike<number>,
  excluded: ReadonlySet<number>,
): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (let k = 0; k < selection.length; k++) {
    const i = selection[k];
    if (excluded.has(i)) continue;
    counts.set(predClass[i], (counts.get(predClass[i]) ?? 0) + 1);
  }
  return byCount(counts);
}

/**
 * "5,120 × 0, 170 × 4, 7 × 9" (at most `most` classes, then "N other");
 * `name` gives a class's name, `sep` stands between count and name.
 */
export function breakdownText(
  parts: Array<[number, number]>,
  name: (c: number) => string = String,
  most = 4,
  sep = " × ",
): string {
  const shown = parts.slice(0, most).map(([c, k]) => `${n(k)}${sep}${name(c)}`);
  const rest = parts.slice(most).reduce((s, [, k]) => s + k, 0);
  if (rest > 0) shown.push(`${n(rest)} other`);
  return shown.join(", ");
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
