/**
 * The page's side of the installable, offline-capable app:
 * - registers the service worker (/sw.js) once the first plot is drawn and
 *   offers "Reload to update" when a new version is waiting;
 * - label writes that cannot reach the server go to the IndexedDB queue
 *   (lib/client/outbox.ts) instead of failing, are shown at once, and are
 *   replayed in order when the server is back (online event, socket
 *   reconnect, next start, or Background Sync in the worker);
 * - keeps offline copies: the latent snapshot and state as last seen (Cache
 *   Storage, the keys the worker falls back to) and every original image
 *   (lib/client/offline_images.ts, downloaded in the background);
 * - offline, a sample is built from the cached image and the snapshot.
 *
 * It decorates the controller's Api instance (label writes, samples, latent,
 * state) rather than changing the controller: everything else stays as is.
 */
import { dataset } from "./dataset.ts";
import { effect } from "@preact/signals";
import { ApiError } from "./api.ts";
import type { Controller } from "./controller.ts";
import {
  decodeLatent,
  encodeLatent,
  type LatentSnapshot,
} from "../protocol/latent_format.ts";
import { withLabels } from "./latent.ts";
import { bytesToBase64 } from "../protocol/base64.ts";
import { OfflineImages } from "./offline_images.ts";
import { Outbox, SyncUnavailable } from "./outbox.ts";
import {
  CACHES,
  CHANNEL,
  type LabelOp,
  LATENT_URL,
  reportText,
  STATE_URL,
  SW_URL,
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
import type { ApiState, LabelChange, Sample } from "../protocol/api.ts";

/** A fetch that never reached the server (offline, refused, reset). */
export function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError ||
    (e instanceof Error && e.name === "NetworkError");
}

const RETRY_MS = 10_000;
const PERSIST_DELAY_MS = 800;
let messageId = 1;

export interface PwaHandle {
  /** Replays the queue now (tests, the online event). */
  flush(): Promise<void>;
  stop(): void;
}

export function startPwa(store: Store, controller: Controller): PwaHandle {
  const noop: PwaHandle = { flush: () => Promise.resolve(), stop() {} };
  if (typeof indexedDB === "undefined" || typeof caches === "undefined") {
    return noop;
  }
  const api = controller.api;
  const images = new OfflineImages();
  const disposers: Array<() => void> = [];
  let outbox: Outbox | null = null;
  let ops: LabelOp[] = [];
  let lastTime = 0;
  const nextTime = () => (lastTime = Math.max(Date.now(), lastTime + 1));

  const offline = () =>
    !navigator.onLine || store.connection.value === "reconnecting";

  // ---- the queue ------------------------------------------------------------
  const opened = Outbox.open().then((o) => outbox = o).catch((e) => {
    pushLog(store, `Offline labelling unavailable: ${e.message}`, "error");
    return null;
  });

  /** Shows queued operations on top of whatever snapshot the page has. */
  function overlay() {
    const snap = store.latent.value;
    if (!snap || ops.length === 0) return;
    const next = withLabels(snap, ops);
    if (next !== snap) {
      store.latent.value = next;
      recountFromLatent(store);
    }
  }

  async function refreshPending() {
    if (!outbox) return;
    ops = await outbox.all();
    pwa.pending.value = ops.length;
    overlay();
  }

  function say(text: string, kind: "success" | "info" | "error") {
    pwa.message.value = { id: messageId++, text, kind };
    pushLog(store, text, kind === "info" ? "info" : kind);
  }

  function reconcile(report: SyncReport) {
    // The server's values for every touched index (a report stored by the
    // worker may be old: only the server's current snapshot is trusted then),
    // then what is still queued on top.
    if (!report.background) {
      applyLabelChanges(store, report.labels);
      recountFromLatent(store);
    }
    // A snapshot fetched before the replay lacks it: revalidate (a 304 when
    // nothing changed).
    void controller.refreshLatent();
    overlay();
    say(
      reportText(report),
      report.rejected.length > 0
        ? "error"
        : report.conflicts.length > 0
        ? "info"
        : "success",
    );
  }

  async function registerBackgroundSync() {
    try {
      const reg = await navigator.serviceWorker?.getRegistration();
      // deno-lint-ignore no-explicit-any
      await (reg as any)?.sync?.register(SYNC_TAG);
    } catch {
      // No Background Sync: the page replays on its own triggers.
    }
  }

  async function queue(changes: LabelChange[], time: number) {
    await opened;
    if (!outbox) throw new Error("offline storage is unavailable");
    await outbox.add(changes, time);
    await refreshPending();
    void registerBackgroundSync();
    if (!offline()) void flush();
  }

  let flushing: Promise<void> | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;

  function flush(): Promise<void> {
    flushing ??= (async () => {
      await opened;
      if (!outbox || !navigator.onLine) return;
      clearTimeout(retry);
      pwa.syncing.value = true;
      try {
        while (true) {
          const report = await outbox.flush();
          if (!report) break;
          await refreshPending();
          reconcile(report);
          if (ops.length === 0) break;
        }
      } catch (e) {
        if (!(e instanceof SyncUnavailable)) {
          say(`Sync failed: ${(e as Error).message}`, "error");
        }
      } finally {
        pwa.syncing.value = false;
        await refreshPending();
        if (ops.length > 0) retry = setTimeout(() => void flush(), RETRY_MS);
      }
    })().finally(() => flushing = null);
    return flushing;
  }

  async function takeReports() {
    await opened;
    const report = await outbox?.takeReports();
    if (report) reconcile(report);
  }

  // ---- the Api, decorated -----------------------------------------------------
  /** A write goes straight to the server unless offline or others are queued. */
  async function write<T>(
    changes: LabelChange[],
    direct: () => Promise<T>,
    queued: () => T,
  ): Promise<T> {
    const time = nextTime();
    await opened;
    if (outbox && (offline() || ops.length > 0)) {
      await queue(changes, time);
      return queued();
    }
    try {
      return await direct();
    } catch (e) {
      if (!outbox || !isNetworkError(e)) throw e;
      await queue(changes, time);
      return queued();
    }
  }

  const orig = {
    setLabel: api.setLabel.bind(api),
    deleteLabel: api.deleteLabel.bind(api),
    setLabels: api.setLabels.bind(api),
    sample: api.sample.bind(api),
    latent: api.latent.bind(api),
    state: api.state.bind(api),
  };
  api.setLabel = (index: number, label: number) =>
    write(
      [{ index, label }],
      () => orig.setLabel(index, label),
      () => ({ index, label, applied: true, queued: true }),
    );
  api.deleteLabel = (index: number) =>
    write(
      [{ index, label: null }],
      () => orig.deleteLabel(index),
      () => ({ index, label: null, applied: true, queued: true }),
    );
  // The batch write (lasso, undo/redo): one queued entry per change, one time.
  api.setLabels = (changes: LabelChange[]) =>
    write(
      changes,
      () => orig.setLabels(changes),
      () => ({
        applied: changes.length,
        changed: changes.length,
        stale: [],
        queued: true,
      }),
    );

  api.sample = async (index: number, signal?: AbortSignal) => {
    try {
      const s = await orig.sample(index, signal);
      const snap = store.latent.value;
      const v = s.latentVersion;
      if (offline() && snap && v !== undefined && v !== snap.version) {
        // A cached answer from an older model: the snapshot's opinion is newer.
        return {
          ...s,
          predClass: snap.predClass[index],
          certainty: snap.certainty[index] / 255,
          probs: [],
          offline: true,
        };
      }
      return s;
    } catch (e) {
      if (!isNetworkError(e)) throw e;
      const s = await offlineSample(index);
      if (s) return s;
      throw new ApiError(
        0,
        `#${index} is not available offline yet (its image is still downloading)`,
      );
    }
  };

  api.latent = async (force?: boolean) => {
    try {
      return await orig.latent(force);
    } catch (e) {
      if (!isNetworkError(e)) throw e;
      const snap = await cachedLatent();
      if (snap) return snap;
      throw e;
    }
  };

  api.state = async () => {
    try {
      return await orig.state();
    } catch (e) {
      if (!isNetworkError(e)) throw e;
      const hit = await (await caches.open(CACHES.state)).match(STATE_URL);
      if (hit) return await hit.json() as ApiState;
      throw e;
    }
  };

  async function cachedLatent(): Promise<LatentSnapshot | null> {
    const hit = await (await caches.open(CACHES.latent)).match(LATENT_URL);
    return hit ? decodeLatent(await hit.arrayBuffer()) : null;
  }

  async function offlineSample(index: number): Promise<Sample | null> {
    const snap = store.latent.value;
    if (!snap || index >= snap.count) return null;
    const img = await images.image(index);
    if (!img) return null;
    const ul = snap.userLabel[index];
    return {
      index,
      label: ul < 0 ? null : ul,
      predClass: snap.predClass[index],
      certainty: snap.certainty[index] / 255,
      probs: [],
      original: bytesToBase64(img),
      // Not derivable without the model: the panel says it is not cached.
      recon: "",
      offline: true,
    };
  }

  // ---- offline copies of the snapshot and state ----------------------------------
  let latentTimer: ReturnType<typeof setTimeout> | undefined;
  let stateTimer: ReturnType<typeof setTimeout> | undefined;
  let latentSaved = false;
  let stateSaved = false;
  const markCached = () => pwa.dataCached.value = latentSaved && stateSaved;

  async function saveLatent(snap: LatentSnapshot) {
    const cache = await caches.open(CACHES.latent);
    await cache.put(
      LATENT_URL,
      new Response(encodeLatent(snap) as Uint8Array<ArrayBuffer>, {
        headers: {
          "Content-Type": "application/octet-stream",
          "X-Latent-Version": String(snap.version),
          "X-Offline-Copy": "page",
        },
      }),
    );
    latentSaved = true;
    markCached();
  }

  async function saveState() {
    if (store.count.value === 0) return;
    const training = store.training.value;
    const state: ApiState = {
      count: store.count.value,
      labelled: store.labelled.value,
      countsPerClass: store.countsPerClass.value,
      // A run in progress is not "in progress" for a page opened offline.
      training: training.status === "error"
        ? training
        : { status: "idle", epoch: training.epoch, targetEpochs: 0 },
      config: store.config.value,
      history: store.history.value,
      latentVersion: store.latentVersion.value,
      // Class names and image shape: an offline page must name and draw them.
      dataset: dataset.value,
    };
    const cache = await caches.open(CACHES.state);
    await cache.put(
      STATE_URL,
      new Response(JSON.stringify(state), {
        headers: {
          "Content-Type": "application/json",
          "X-Offline-Copy": "page",
        },
      }),
    );
    stateSaved = true;
    markCached();
  }

  disposers.push(effect(() => {
    const snap = store.latent.value;
    if (!snap) return;
    // After the effect (it may write store.latent).
    queueMicrotask(() => {
      overlay();
      // Offline the snapshot is the only source of the counts.
      if (offline()) recountFromLatent(store);
    });
    clearTimeout(latentTimer);
    latentTimer = setTimeout(() => {
      latentTimer = undefined;
      saveLatent(store.latent.value ?? snap).catch(() => {});
    }, PERSIST_DELAY_MS);
  }));
  disposers.push(effect(() => {
    // Offline the snapshot (with the queue laid over it) is the only source of
    // the counts: a cached /api/state that lands after it, or the socket that
    // only now gives up, must not leave the stats at the server's old figure.
    void store.labelled.value;
    void store.connection.value;
    if (offline() && store.latent.peek()) {
      queueMicrotask(() => recountFromLatent(store));
    }
  }));
  disposers.push(effect(() => {
    void store.history.value;
    void store.config.value;
    void store.labelled.value;
    void store.count.value;
    void store.training.value;
    clearTimeout(stateTimer);
    stateTimer = setTimeout(
      () => saveState().catch(() => {}),
      PERSIST_DELAY_MS,
    );
  }));

  // ---- when to replay ---------------------------------------------------------
  let wasDown = false;
  disposers.push(effect(() => {
    const c = store.connection.value;
    if (c === "reconnecting") wasDown = true;
    if (c === "open") {
      void flush();
      if (wasDown) {
        wasDown = false;
        void checkForUpdate();
        void warmImages();
      }
    }
  }));
  const onOnline = () => {
    pwa.online.value = true;
    void flush();
    void warmImages();
  };
  const onOffline = () => pwa.online.value = false;
  // Leaving (reload, close): write a copy still waiting for its timer now.
  const onPageHide = () => {
    const snap = store.latent.value;
    if (latentTimer !== undefined && snap) {
      clearTimeout(latentTimer);
      void saveLatent(snap).catch(() => {});
    }
  };
  addEventListener("pagehide", onPageHide);
  disposers.push(() => removeEventListener("pagehide", onPageHide));
  addEventListener("online", onOnline);
  addEventListener("offline", onOffline);
  disposers.push(() => {
    removeEventListener("online", onOnline);
    removeEventListener("offline", onOffline);
  });

  let channel: BroadcastChannel | null = null;
  try {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (ev) => {
      if (ev.data?.type === "outbox") void refreshPending();
      if (ev.data?.type === "synced") void takeReports();
    };
    disposers.push(() => channel?.close());
  } catch { /* no BroadcastChannel */ }

  // After hydration: the server rendered the defaults.
  queueMicrotask(() => {
    pwa.online.value = navigator.onLine;
    void opened.then(async () => {
      await refreshPending();
      await takeReports();
      void flush();
    });
  });

  // ---- service worker and updates ---------------------------------------------
  let registration: ServiceWorkerRegistration | null = null;
  let waiting: ServiceWorker | null = null;
  let reloading = false;

  async function checkForUpdate() {
    try {
      await registration?.update();
    } catch { /* offline: next time */ }
  }

  function trackUpdates(reg: ServiceWorkerRegistration) {
    const show = (w: ServiceWorker) => {
      waiting = w;
      pwa.update.value = "waiting";
    };
    if (reg.waiting && navigator.serviceWorker.controller) show(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const w = reg.installing;
      w?.addEventListener("statechange", () => {
        if (w.state === "installed" && navigator.serviceWorker.controller) {
          show(w);
        }
      });
    });
  }

  pwa.applyUpdate = () => {
    reloading = true;
    if (waiting && waiting.state === "installed") {
      waiting.postMessage({ type: "SKIP_WAITING" });
      // controllerchange reloads; in case it never comes:
      setTimeout(() => location.reload(), 3000);
    } else {
      location.reload();
    }
  };

  async function registerWorker() {
    const sw = navigator.serviceWorker;
    let hadController = !!sw.controller;
    sw.addEventListener("controllerchange", () => {
      if (reloading) {
        location.reload();
        return;
      }
      // Another tab switched to the new version: this one runs the old one.
      if (hadController) pwa.update.value = "active";
      hadController = true;
    });
    try {
      registration = await sw.register(SW_URL, {
        scope: "/",
        updateViaCache: "none",
      });
    } catch (e) {
      pushLog(
        store,
        `Offline mode unavailable: ${(e as Error).message}`,
        "error",
      );
      return;
    }
    trackUpdates(registration);
    await sw.ready;
    pwa.swReady.value = true;
    if (ops.length > 0) void registerBackgroundSync();
  }

  // ---- background downloads ---------------------------------------------------
  let warming: Promise<void> | null = null;
  function warmImages(): Promise<void> {
    if (!drawn) return Promise.resolve();
    warming ??= images.warm({
      onProgress: (done, total) => pwa.images.value = { done, total },
    }).then(() => {}, () => {
      // Offline or the server gone: resumed on the next reconnect.
    }).finally(() => warming = null);
    return warming;
  }

  /** Waits for the first drawn plot: nothing of this may slow the first load. */
  let drawn = false;
  const whenDrawn = new Promise<void>((resolve) => {
    const started = performance.now();
    const poll = () => {
      // Not forever: a page whose plot cannot draw still gets its worker.
      if (
        performance.getEntriesByName("latent-painted").length > 0 ||
        performance.now() - started > 15_000
      ) {
        resolve();
      } else setTimeout(poll, 100);
    };
    poll();
  });
  void whenDrawn.then(() => {
    const idle = (fn: () => void) =>
      "requestIdleCallback" in globalThis
        ? requestIdleCallback(fn, { timeout: 2000 })
        : setTimeout(fn, 200);
    idle(() => {
      drawn = true;
      if ("serviceWorker" in navigator) void registerWorker();
      void warmImages();
    });
  });
  const updateTimer = setInterval(() => void checkForUpdate(), 30 * 60_000);
  disposers.push(() => clearInterval(updateTimer));

  return {
    flush,
    stop() {
      for (const d of disposers) d();
      clearTimeout(retry);
      outbox?.close();
    },
  };
}
