/**
 * The page's side of the offline label queue (lib/client/outbox.ts): what is
 * waiting (counted in the badge, laid over every snapshot so the map and the
 * counts show it), queuing a write, and the sync loop — when the server is
 * back, replay the queue, reconcile the page with the server's answer and
 * report it. Replays on the `online` event, when the socket is open, at
 * start, every 10 s while something is still pending, and when another tab
 * or the service worker's Background Sync announces a replay.
 */
import { effect } from "@preact/signals";
import { isOffline } from "./connectivity.ts";
import { withLabels } from "./latent.ts";
import type { LabelQueue } from "./offline_api.ts";
import { Outbox, SignedOut, SyncUnavailable } from "./outbox.ts";
import {
  CHANNEL,
  type LabelOp,
  reportText,
  SYNC_TAG,
  type SyncReport,
} from "./pwa_shared.ts";
import { pwa } from "./pwa_state.ts";
import {
  applyLabelChanges,
  pushLog,
  recountFromLatent,
  type Store,
} from "./store.ts";
import type { LabelChange } from "../protocol/api.ts";

const RETRY_MS = 10_000;
let messageId = 1;

/** The queue and its sync loop; OfflineApi queues through it. */
export class OutboxSync implements LabelQueue {
  readonly #store: Store;
  #outbox: Outbox | null = null;
  readonly #opened: Promise<boolean>;
  /** The queue as last read (oldest first). */
  #ops: LabelOp[] = [];
  #refreshLatent: () => Promise<void> = () => Promise.resolve();
  #flushing: Promise<void> | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #disposers: Array<() => void> = [];

  /** Opens the queue (IndexedDB) at once: writes wait for it. */
  constructor(store: Store) {
    this.#store = store;
    this.#opened = Outbox.open().then((o) => {
      this.#outbox = o;
      return true;
    }, (e) => {
      pushLog(store, `Offline labelling unavailable: ${e.message}`, "error");
      return false;
    });
  }

  ready(): Promise<boolean> {
    return this.#opened;
  }

  get pending(): number {
    return this.#ops.length;
  }

  /** Queues changes made at `clientTime`; replays at once when online. */
  async add(changes: LabelChange[], clientTime: number): Promise<void> {
    await this.#opened;
    if (!this.#outbox) throw new Error("offline storage is unavailable");
    // On a team server the change carries its author: it is sent only
    // under their session (lib/client/outbox.ts).
    const me = this.#store.me.peek();
    await this.#outbox.add(changes, clientTime, me?.team ? me.name : undefined);
    await this.#refreshPending();
    void this.registerBackgroundSync();
    if (!isOffline(this.#store)) void this.flush();
  }

  /**
   * Starts the loop: shows the queue, takes the reports of replays made in
   * the page's absence, replays, and listens for the moments to replay again.
   * `refreshLatent` revalidates the page's snapshot after a replay.
   */
  start(refreshLatent: () => Promise<void>): void {
    const store = this.#store;
    this.#refreshLatent = refreshLatent;
    this.#disposers.push(
      effect(() => {
        if (!store.latent.value) return;
        // After the effect (it may write store.latent).
        queueMicrotask(() => {
          this.#overlay();
          // Offline the snapshot is the only source of the counts.
          if (isOffline(store)) recountFromLatent(store);
        });
      }),
      effect(() => {
        // Offline the snapshot (with the queue laid over it) is the only
        // source of the counts: a cached /api/state that lands after it, or
        // the socket that only now gives up, must not leave the stats at the
        // server's old figure.
        void store.labelled.value;
        void store.connection.value;
        if (isOffline(store) && store.latent.peek()) {
          queueMicrotask(() => recountFromLatent(store));
        }
      }),
      effect(() => {
        if (store.connection.value === "open") void this.flush();
      }),
    );
    const onOnline = () => void this.flush();
    addEventListener("online", onOnline);
    this.#disposers.push(() => removeEventListener("online", onOnline));
    try {
      const channel = new BroadcastChannel(CHANNEL);
      channel.onmessage = (ev) => {
        if (ev.data?.type === "outbox") void this.#refreshPending();
        if (ev.data?.type === "synced") void this.#takeReports();
      };
      this.#disposers.push(() => channel.close());
    } catch { /* no BroadcastChannel */ }
    // After hydration: the server rendered the defaults.
    queueMicrotask(() => {
      void this.#opened.then(async () => {
        await this.#refreshPending();
        await this.#takeReports();
        void this.flush();
      });
    });
  }

  /** Replays the queue now, until it is empty or the server cannot be reached. */
  flush(): Promise<void> {
    this.#flushing ??= this.#replay().finally(() => this.#flushing = null);
    return this.#flushing;
  }

  async #replay(): Promise<void> {
    await this.#opened;
    const outbox = this.#outbox;
    if (!outbox || !navigator.onLine) return;
    clearTimeout(this.#retry);
    pwa.syncing.value = true;
    try {
      while (true) {
        const report = await outbox.flush();
        this.#store.signedOut.value = false;
        if (!report) break;
        await this.#refreshPending();
        this.#reconcile(report);
        if (this.#ops.length === 0) break;
      }
    } catch (e) {
      if (e instanceof SignedOut) this.#store.signedOut.value = true;
      if (!(e instanceof SyncUnavailable)) {
        this.#say(`Sync failed: ${(e as Error).message}`, "error");
      }
    } finally {
      pwa.syncing.value = false;
      await this.#refreshPending();
      if (this.#ops.length > 0) {
        this.#retry = setTimeout(() => void this.flush(), RETRY_MS);
      }
    }
  }

  /** Asks the service worker to replay even if every page is closed. */
  async registerBackgroundSync(): Promise<void> {
    try {
      const reg = await navigator.serviceWorker?.getRegistration();
      // deno-lint-ignore no-explicit-any
      await (reg as any)?.sync?.register(SYNC_TAG);
    } catch {
      // No Background Sync: the page replays on its own triggers.
    }
  }

  stop(): void {
    for (const d of this.#disposers) d();
    this.#disposers = [];
    clearTimeout(this.#retry);
    this.#outbox?.close();
  }

  /** Shows queued operations on top of whatever snapshot the page has. */
  #overlay() {
    const store = this.#store;
    const snap = store.latent.value;
    if (!snap || this.#ops.length === 0) return;
    const next = withLabels(snap, this.#ops);
    if (next !== snap) {
      store.latent.value = next;
      recountFromLatent(store);
    }
  }

  async #refreshPending() {
    if (!this.#outbox) return;
    this.#ops = await this.#outbox.all();
    pwa.pending.value = this.#ops.length;
    this.#overlay();
  }

  async #takeReports() {
    await this.#opened;
    const report = await this.#outbox?.takeReports();
    if (report) this.#reconcile(report);
  }

  #reconcile(report: SyncReport) {
    const store = this.#store;
    // The server's values for every touched index (a report stored by the
    // worker may be old: only the server's current snapshot is trusted then),
    // then what is still queued on top.
    if (!report.background) {
      applyLabelChanges(store, report.labels);
      recountFromLatent(store);
    }
    // A snapshot fetched before the replay lacks it: revalidate (a 304 when
    // nothing changed).
    void this.#refreshLatent();
    this.#overlay();
    this.#say(
      reportText(report),
      report.rejected.length > 0
        ? "error"
        : report.conflicts.length > 0
        ? "info"
        : "success",
    );
  }

  #say(text: string, kind: "success" | "info" | "error") {
    pwa.message.value = { id: messageId++, text, kind };
    pushLog(this.#store, text, kind === "info" ? "info" : kind);
  }
}
