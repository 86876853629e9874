/**
 * What the page (lib/client/pwa.ts and its modules) and the service worker
 * (lib/client/service_worker.ts) agree on: cache and database names, and the
 * pure logic of an offline sync (unit-tested in Deno: tests/pwa_unit_test.ts).
 */
import { SYNC_MAX_OPS } from "../protocol/limits.ts";
import type { LabelChange } from "../protocol/api.ts";

/** Served from the root so its scope is the whole app. */
export const SW_URL = "/sw.js";
/** The page without data, precached; served for `/` when the server is unreachable. */
export const SHELL_URL = "/app-shell";

/** Runtime caches (Cache Storage). The precache is Workbox's own. */
export const CACHES = {
  latent: "ssvae-latent",
  state: "ssvae-state",
  samples: "ssvae-samples",
  probs: "ssvae-probs",
  images: "ssvae-images",
} as const;

export const LATENT_URL = "/api/latent";
export const STATE_URL = "/api/state";
export const IMAGES_URL = "/api/images";
export const SYNC_URL = "/api/labels/sync";

/** IndexedDB database of the offline label queue. */
export const OUTBOX_DB = "ssvae-offline";
/** Background Sync tag. */
export const SYNC_TAG = "ssvae-labels";
/** Web Lock held while the queue is replayed (page tabs and worker alike). */
export const OUTBOX_LOCK = "ssvae-outbox";
/** BroadcastChannel: "outbox" (the queue changed), "synced" (a report is stored). */
export const CHANNEL = "ssvae-sync";
/** Operations per POST /api/labels/sync: half the server's cap, so a batch is never refused. */
export const SYNC_BATCH = SYNC_MAX_OPS / 2;

/** One label operation made while offline, replayed later. */
/** Who the session is, for a replay (routes/auth.ts). */
export const ME_URL = "/api/auth/me";

export interface LabelOp {
  /** IndexedDB key: the order the operations were made in. */
  seq?: number;
  index: number;
  /** 0-9, or null for "delete the label". */
  label: number | null;
  /** When the user made it (ms since 1970): last writer wins by this. */
  clientTime: number;
  /**
   * The signed-in account that made it (a team server; absent on a
   * single-user one): sent only under that account's session.
   */
  annotator?: string;
}

/** The server's answer to POST /api/labels/sync. */
export interface SyncResponse {
  results: Array<
    { index: number; label: number | null; applied: boolean; error?: string }
  >;
  /** The authoritative value of every index the request touched. */
  labels: LabelChange[];
}

/** A replayed operation that lost to a newer change made elsewhere. */
export interface Conflict {
  index: number;
  mine: number | null;
  kept: number | null;
}

export interface SyncReport {
  /** Operations the server has now seen (applied or not). */
  synced: number;
  /** Indices whose last offline edit lost (last writer wins by time). */
  conflicts: Conflict[];
  /** Operations the server refused for good (e.g. index out of range). */
  rejected: Array<{ index: number; label: number | null; error: string }>;
  /** Authoritative labels of the touched indices, to reconcile the page. */
  labels: LabelChange[];
  /** Replayed by the service worker (Background Sync) rather than a page. */
  background?: boolean;
  at: number;
}

/**
 * Folds replayed operations and the server's per-operation results into a
 * report. Per index only the last operation counts: if it was not applied,
 * a newer change from elsewhere won, and that is a conflict the user lost
 * (earlier operations superseded by the user's own later ones are not).
 */
export function summarize(
  ops: LabelOp[],
  results: SyncResponse["results"],
  labels: LabelChange[],
  now = Date.now(),
): SyncReport {
  const final = new Map(labels.map((l) => [l.index, l.label]));
  const last = new Map<number, number>();
  ops.forEach((op, k) => last.set(op.index, k));
  const conflicts: Conflict[] = [];
  const rejected: SyncReport["rejected"] = [];
  let synced = 0;
  ops.forEach((op, k) => {
    const r = results[k];
    if (r?.error !== undefined) {
      rejected.push({ index: op.index, label: op.label, error: r.error });
      return;
    }
    synced++;
    if (last.get(op.index) === k && r && !r.applied) {
      conflicts.push({
        index: op.index,
        mine: op.label,
        kept: final.has(op.index) ? final.get(op.index)! : r.label,
      });
    }
  });
  return { synced, conflicts, rejected, labels, at: now };
}

/** Merges the reports of successive batches into one. */
export function mergeReports(reports: SyncReport[]): SyncReport | null {
  if (reports.length === 0) return null;
  const labels = new Map<number, number | null>();
  const conflicts = new Map<number, Conflict>();
  const out: SyncReport = {
    synced: 0,
    conflicts: [],
    rejected: [],
    labels: [],
    at: reports.at(-1)!.at,
    background: reports.some((r) => r.background),
  };
  for (const r of reports) {
    out.synced += r.synced;
    out.rejected.push(...r.rejected);
    for (const l of r.labels) {
      labels.set(l.index, l.label);
      // A later batch's value for the index supersedes an earlier conflict.
      if (!r.conflicts.some((c) => c.index === l.index)) {
        conflicts.delete(l.index);
      }
    }
    for (const c of r.conflicts) conflicts.set(c.index, c);
  }
  out.labels = [...labels].map(([index, label]) => ({ index, label }));
  out.conflicts = [...conflicts.values()];
  return out;
}

const labelText = (l: number | null) => (l === null ? "unlabelled" : `${l}`);

/** "5 changes synced; kept a newer edit from elsewhere: #12 is 7 (yours: 3)". */
export function reportText(r: SyncReport): string {
  let text = `${r.synced} change${r.synced === 1 ? "" : "s"} synced`;
  if (r.conflicts.length > 0) {
    const shown = r.conflicts.slice(0, 5).map((c) =>
      `#${c.index} is ${labelText(c.kept)} (yours: ${labelText(c.mine)})`
    );
    if (r.conflicts.length > 5) shown.push(`${r.conflicts.length - 5} more`);
    text += `; ${r.conflicts.length} conflict${
      r.conflicts.length === 1 ? "" : "s"
    } lost to a newer edit from elsewhere: ${shown.join(", ")}`;
  }
  if (r.rejected.length > 0) {
    text += `; ${r.rejected.length} refused by the server (${
      r.rejected[0].error
    })`;
  }
  return text;
}

/** "Offline — 3 changes pending". */
export function pendingText(n: number): string {
  return `Offline — ${n} change${n === 1 ? "" : "s"} pending`;
}

/** Where image `index` lives in the chunked image set. */
export function chunkOf(
  index: number,
  chunkSize: number,
): { chunk: number; offset: number } {
  return { chunk: Math.floor(index / chunkSize), offset: index % chunkSize };
}
