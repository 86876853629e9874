/**
 * The grid view's filter and order (islands/GridView.tsx): which images it
 * shows, in which order, from the page's latent snapshot. Pure, so the page
 * and its tests share it. A 60k filter and sort takes a few milliseconds.
 */
import {
  certaintyPercent,
  type LatentSnapshot,
} from "../protocol/latent_format.ts";
import {
  LABEL_SOURCES,
  type LabelSource,
  labelSourceCode,
} from "../protocol/label_events.ts";

/** Which labels to show: any, none, some, or one class's. */
export type LabelFilter = "any" | "unlabelled" | "labelled" | number;

export type GridSort = "index" | "least-certain" | "most-certain";

export interface GridFilter {
  label: LabelFilter;
  /** A predicted class, or null for any. */
  predicted: number | null;
  /** Certainty of the prediction, in percent as the page shows it, inclusive. */
  certaintyMin: number;
  certaintyMax: number;
  /** Only labels on the review queue (likely mistakes). */
  reviewOnly: boolean;
  /** Only labels whose latest change came from this source; null for any. */
  source: LabelSource | null;
  sort: GridSort;
}

export const DEFAULT_GRID_FILTER: GridFilter = {
  label: "any",
  predicted: null,
  certaintyMin: 0,
  certaintyMax: 100,
  reviewOnly: false,
  source: null,
  sort: "index",
};

/** Whether `v` is a GridFilter (a stored copy). */
export function isGridFilter(v: unknown): v is GridFilter {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Record<string, unknown>;
  const pct = (x: unknown) => typeof x === "number" && x >= 0 && x <= 100;
  return (["any", "unlabelled", "labelled"].includes(f.label as string) ||
    (Number.isInteger(f.label) && (f.label as number) >= 0)) &&
    (f.predicted === null ||
      (Number.isInteger(f.predicted) && (f.predicted as number) >= 0)) &&
    pct(f.certaintyMin) && pct(f.certaintyMax) &&
    typeof f.reviewOnly === "boolean" &&
    (f.source === null ||
      (LABEL_SOURCES as readonly unknown[]).includes(f.source)) &&
    ["index", "least-certain", "most-certain"].includes(f.sort as string);
}

/**
 * The images `filter` lets through, in its order (ties by index). `review`
 * is the review queue's images (for `reviewOnly`), `sources` each image's
 * latest label source (GET /api/labels/sources; for `source`: without it,
 * no image passes a source filter).
 */
export function gridOrder(
  snap: LatentSnapshot,
  filter: GridFilter,
  review: ReadonlySet<number> = new Set(),
  sources: Uint8Array | null = null,
): Uint32Array {
  const sourceCode = labelSourceCode(filter.source);
  // An image passes when the percent the page shows for it is within the
  // bounds (byte 127 shows as 50%; bounds turned into bytes had missed it).
  const passes = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const pct = certaintyPercent(b);
    passes[b] = pct >= filter.certaintyMin && pct <= filter.certaintyMax
      ? 1
      : 0;
  }
  const out: number[] = [];
  for (let i = 0; i < snap.count; i++) {
    const ul = snap.userLabel[i];
    const l = filter.label;
    if (
      l === "unlabelled"
        ? ul >= 0
        : l === "labelled"
        ? ul < 0
        : l === "any"
        ? false
        : ul !== l
    ) continue;
    if (filter.predicted !== null && snap.predClass[i] !== filter.predicted) {
      continue;
    }
    if (!passes[snap.certainty[i]]) continue;
    if (filter.reviewOnly && !review.has(i)) continue;
    if (sourceCode && (ul < 0 || sources?.[i] !== sourceCode)) continue;
    out.push(i);
  }
  const order = Uint32Array.from(out);
  if (filter.sort !== "index") {
    const sign = filter.sort === "least-certain" ? 1 : -1;
    const cert = snap.certainty;
    order.sort((a, b) => sign * (cert[a] - cert[b]) || a - b);
  }
  return order;
}

/**
 * The indices from `a` to `b` in `order` (either way round, both included):
 * a shift-click's range.
 */
export function rangeOf(order: Uint32Array, a: number, b: number): number[] {
  const pa = order.indexOf(a), pb = order.indexOf(b);
  if (pa < 0 || pb < 0) return [b];
  const [from, to] = pa <= pb ? [pa, pb] : [pb, pa];
  return Array.from(order.subarray(from, to + 1));
}
