/**
 * The page's operations on a latent snapshot (the LAT1 format and its codec
 * are lib/protocol/latent_format.ts).
 */
import type { LatentSnapshot } from "../protocol/latent_format.ts";

/**
 * Returns a snapshot whose userLabel column is a fresh copy with `changes`
 * applied (other columns shared). A new array reference lets Plotly.react and
 * signals see the change. Out-of-range indices are ignored.
 */
export function withLabels(
  snap: LatentSnapshot,
  changes: ReadonlyArray<{ index: number; label: number | null }>,
): LatentSnapshot {
  let changed = false;
  for (const c of changes) {
    if (c.index >= 0 && c.index < snap.count) {
      const v = c.label === null ? -1 : c.label;
      if (snap.userLabel[c.index] !== v) changed = true;
    }
  }
  if (!changed) return snap;
  const userLabel = new Int8Array(snap.userLabel);
  for (const c of changes) {
    if (c.index >= 0 && c.index < snap.count) {
      userLabel[c.index] = c.label === null ? -1 : c.label;
    }
  }
  return { ...snap, userLabel };
}

/** Index of the least-certain unlabelled point, or -1 (active-learning pick). */
export function leastCertainUnlabelled(
  snap: LatentSnapshot,
  exclude?: number,
): number {
  let best = -1;
  let bestC = 256;
  const { certainty, userLabel, count } = snap;
  for (let i = 0; i < count; i++) {
    if (userLabel[i] < 0 && certainty[i] < bestC && i !== exclude) {
      bestC = certainty[i];
      best = i;
    }
  }
  return best;
}
