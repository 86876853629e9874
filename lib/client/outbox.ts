/**
 * The offline label queue: operations made while the server cannot be
 * reached, kept in IndexedDB (they survive closing the tab) and replayed in
 * order by whoever gets there first — a page coming back online, the next app
 * start, or the service worker's Background Sync. A Web Lock makes sure only
 * one of them replays at a time; an operation leaves the queue only once the
 * server has answered for it, and the server's last-writer-wins by client
 * time makes a repeated replay harmless. Runs in pages and the worker alike.
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import {
  CHANNEL,
  type LabelOp,
  ME_URL,
  mergeReports,
  OUTBOX_DB,
  OUTBOX_LOCK,
  summarize,
  SYNC_BATCH,
  SYNC_URL,
  type SyncReport,
  type SyncResponse,
} from "./pwa_shared.ts";
import type { LabelChange } from "../protocol/api.ts";

interface OutboxSchema extends DBSchema {
  ops: { key: number; value: LabelOp };
  reports: { key: number; value: SyncReport & { id?: number } };
}

/** The server could not be reached (or failed): the operations stay queued. */
export class SyncUnavailable extends Error {
  override name = "SyncUnavailable";
}

/**
 * No session (it expired or was ended) for the queued operations: they stay
 * queued until their annotator signs in again.
 */
export class SignedOut extends SyncUnavailable {
  override name = "SignedOut";
}

/** Who the server's session is (GET /api/auth/me); null = signed out. */
async function sessionName(
  base: string,
  fetchImpl: Fetch,
): Promise<{ name: string; team: boolean } | null> {
  let res: Response;
  try {
    res = await fetchImpl(`${base}${ME_URL}`, { cache: "no-store" });
  } catch (e) {
    throw new SyncUnavailable(`network error: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new SyncUnavailable(`HTTP ${res.status}`);
  }
  const body = await res.json() as { me?: { name: string; team: boolean } };
  return body.me ?? null;
}

type Fetch = typeof fetch;

// deno-lint-ignore no-explicit-any
const locks = (globalThis as any).navigator?.locks as
  | {
    request<T>(name: string, fn: () => Promise<T>): Promise<T>;
  }
  | undefined;

let localChain: Promise<unknown> = Promise.resolve();

/** Runs `fn` holding the queue's lock (across tabs and the worker). */
function withLock<T>(fn: () => Promise<T>): Promise<T> {
  if (locks) return locks.request(OUTBOX_LOCK, fn);
  const run = localChain.then(fn, fn);
  localChain = run.catch(() => {});
  return run;
}

function announce(type: "outbox" | "synced") {
  try {
    const ch = new BroadcastChannel(CHANNEL);
    ch.postMessage({ type });
    ch.close();
  } catch {
    // No BroadcastChannel: other tabs catch up on their next refresh.
  }
}

export class Outbox {
  readonly #db: IDBPDatabase<OutboxSchema>;

  private constructor(db: IDBPDatabase<OutboxSchema>) {
    this.#db = db;
  }

  static async open(): Promise<Outbox> {
    const db = await openDB<OutboxSchema>(OUTBOX_DB, 1, {
      upgrade(db) {
        db.createObjectStore("ops", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("reports", { keyPath: "id", autoIncrement: true });
      },
    });
    return new Outbox(db);
  }

  close() {
    this.#db.close();
  }

  /**
   * Queues changes made at `clientTime` by `annotator` (a team server's
   * account); resolves once they are on disk.
   */
  async add(
    changes: LabelChange[],
    clientTime: number,
    annotator?: string,
  ): Promise<void> {
    const tx = this.#db.transaction("ops", "readwrite", {
      durability: "strict",
    });
    for (const c of changes) {
      tx.store.add({
        index: c.index,
        label: c.label,
        clientTime,
        ...(annotator ? { annotator } : {}),
      });
    }
    await tx.done;
    announce("outbox");
  }

  /** Every queued operation, oldest first. */
  all(): Promise<LabelOp[]> {
    return this.#db.getAll("ops");
  }

  count(): Promise<number> {
    return this.#db.count("ops");
  }

  async #remove(seqs: number[]) {
    const tx = this.#db.transaction("ops", "readwrite", {
      durability: "strict",
    });
    for (const s of seqs) tx.store.delete(s);
    await tx.done;
  }

  /** Keeps a report of a replay nobody was there to see (Background Sync). */
  async saveReport(report: SyncReport): Promise<void> {
    await this.#db.add("reports", report);
    announce("synced");
  }

  /** Reports stored by the worker, merged into one; each is handed out once. */
  async takeReports(): Promise<SyncReport | null> {
    const tx = this.#db.transaction("reports", "readwrite");
    const all = await tx.store.getAll();
    await tx.store.clear();
    await tx.done;
    return mergeReports(all);
  }

  /**
   * Replays the queue in order (batches of SYNC_BATCH) and removes what the
   * server answered for. Resolves with what happened, or null when there was
   * nothing to send. Throws SyncUnavailable when nothing could be sent; after
   * a partial replay it resolves with the part that went through.
   */
  flush(base = "", fetchImpl: Fetch = fetch): Promise<SyncReport | null> {
    return withLock(async () => {
      let ops = await this.all();
      if (ops.length === 0) return null;
      // Changes made under an account go only under that account's session:
      // another person signed in on this browser does not send them, and
      // with no session they wait for the sign-in.
      if (ops.some((o) => o.annotator !== undefined)) {
        const me = await sessionName(base, fetchImpl);
        if (!me) {
          throw new SignedOut(
            "signed out: the queued changes wait for their annotator to sign in",
          );
        }
        if (me.team) {
          ops = ops.filter((o) =>
            o.annotator === undefined || o.annotator === me.name
          );
        }
        if (ops.length === 0) return null;
      }
      const sent: LabelOp[] = [];
      const results: SyncResponse["results"] = [];
      const labels = new Map<number, number | null>();
      let failure: unknown = null;
      for (let i = 0; i < ops.length && failure === null; i += SYNC_BATCH) {
        const batch = ops.slice(i, i + SYNC_BATCH);
        try {
          const res = await postOps(base, batch, fetchImpl);
          if ("refused" in res) {
            // A request the server will never take (a 4xx): one by one, so
            // only the bad operations are dropped.
            for (const op of batch) {
              const one = await postOps(base, [op], fetchImpl);
              sent.push(op);
              if ("refused" in one) {
                results.push({
                  index: op.index,
                  label: null,
                  applied: false,
                  error: one.refused,
                });
              } else {
                results.push(one.results[0]);
                for (const l of one.labels) labels.set(l.index, l.label);
              }
              await this.#remove([op.seq!]);
            }
            continue;
          }
          sent.push(...batch);
          results.push(...res.results);
          for (const l of res.labels) labels.set(l.index, l.label);
          await this.#remove(batch.map((o) => o.seq!));
        } catch (e) {
          failure = e;
        }
      }
      if (sent.length === 0) {
        throw failure instanceof SyncUnavailable
          ? failure
          : new SyncUnavailable(String(failure));
      }
      announce("outbox");
      return summarize(
        sent,
        results,
        [...labels].map(([index, label]) => ({ index, label })),
      );
    });
  }
}

/** One POST; `refused` (the reason) for a 4xx; throws SyncUnavailable for network/5xx. */
async function postOps(
  base: string,
  ops: LabelOp[],
  fetchImpl: Fetch,
): Promise<SyncResponse | { refused: string }> {
  let res: Response;
  try {
    res = await fetchImpl(`${base}${SYNC_URL}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        ops: ops.map(({ index, label, clientTime }) => ({
          index,
          label,
          clientTime,
        })),
      }),
      cache: "no-store",
    });
  } catch (e) {
    throw new SyncUnavailable(`network error: ${(e as Error).message}`);
  }
  // The session ended meanwhile: kept for the next sign-in, never dropped.
  if (res.status === 401) {
    await res.body?.cancel();
    throw new SignedOut("the session has ended: sign in to send the changes");
  }
  if (
    res.status >= 400 && res.status < 500 && res.status !== 408 &&
    res.status !== 429
  ) {
    let refused = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (typeof body?.error === "string") refused = body.error;
    } catch { /* not JSON */ }
    return { refused };
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new SyncUnavailable(`HTTP ${res.status}`);
  }
  return await res.json() as SyncResponse;
}
