/**
 * The page's side of the installable, offline-capable app, put together from
 * one module a job:
 * - lib/client/offline_api.ts: the API handed to the controller — the
 *   server's, with label writes queued and reads answered from this device
 *   when the server cannot be reached;
 * - lib/client/outbox_sync.ts: the queue as the page shows it, and its replay
 *   when the server is back (reconcile, report);
 * - lib/client/persist_copies.ts: the offline copies of the snapshot and
 *   state (lib/client/offline_copies.ts) kept in step with the page;
 * - after the first draw (nothing here may slow the first load):
 *   lib/client/sw_registration.ts (the service worker and its updates) and
 *   lib/client/image_warmup.ts (every original image, in the background).
 *
 * Two steps, because the controller needs the API and the sync loop needs the
 * controller: `createOfflineLayer` before the controller, `start` after it.
 */
import { isOffline } from "./connectivity.ts";
import type { DashboardApi } from "./api.ts";
import { startImageWarmup } from "./image_warmup.ts";
import { OfflineApi } from "./offline_api.ts";
import { OfflineCopies } from "./offline_copies.ts";
import { OfflineImages } from "./offline_images.ts";
import { OutboxSync } from "./outbox_sync.ts";
import { persistCopies } from "./persist_copies.ts";
import { pwa } from "./pwa_state.ts";
import type { Store } from "./store.ts";
import { registerServiceWorker } from "./sw_registration.ts";

/** The performance mark of the map's first paint (islands/LatentPlot.tsx). */
const FIRST_PAINT = "latent-painted";
/** Not forever: a page whose plot cannot draw still gets its worker. */
const FIRST_PAINT_WAIT_MS = 15_000;

/** The running offline layer. */
export interface PwaHandle {
  /** Replays the queue now (tests, the online event). */
  flush(): Promise<void>;
  stop(): void;
}

/** The offline layer, built but not started. */
export interface OfflineLayer {
  /** The API to hand to the controller. */
  readonly api: DashboardApi;
  /** Starts everything else; `refreshLatent` revalidates the page's snapshot. */
  start(controller: { refreshLatent(): Promise<void> }): PwaHandle;
}

/**
 * The offline layer over `server`, or null where the browser cannot keep an
 * offline queue and copies (no IndexedDB or Cache Storage): the page then
 * talks to the server alone.
 */
export function createOfflineLayer(
  store: Store,
  server: DashboardApi,
): OfflineLayer | null {
  if (typeof indexedDB === "undefined" || typeof caches === "undefined") {
    return null;
  }
  const queue = new OutboxSync(store);
  const copies = new OfflineCopies();
  const images = new OfflineImages();
  const api = new OfflineApi({
    server,
    queue,
    copies,
    images,
    isOffline: () => isOffline(store),
    snapshot: () => store.latent.peek(),
    onSignedOut: () => store.signedOut.value = true,
  });

  function start(controller: { refreshLatent(): Promise<void> }): PwaHandle {
    const disposers: Array<() => void> = [];
    const onOnline = () => pwa.online.value = true;
    const onOffline = () => pwa.online.value = false;
    addEventListener("online", onOnline);
    addEventListener("offline", onOffline);
    disposers.push(() => {
      removeEventListener("online", onOnline);
      removeEventListener("offline", onOffline);
    });
    // After hydration: the server rendered the defaults.
    queueMicrotask(() => pwa.online.value = navigator.onLine);

    queue.start(() => controller.refreshLatent());
    disposers.push(persistCopies(store, copies));

    let stopped = false;
    disposers.push(() => stopped = true);
    afterFirstPaint(() => {
      if (stopped) return;
      if ("serviceWorker" in navigator) {
        disposers.push(registerServiceWorker(store, () => {
          // Writes queued before the worker was there: it replays them too.
          if (queue.pending > 0) void queue.registerBackgroundSync();
        }));
      }
      disposers.push(startImageWarmup(store, images));
    });

    return {
      flush: () => queue.flush(),
      stop() {
        for (const d of disposers) d();
        queue.stop();
      },
    };
  }

  return { api, start };
}

/** Runs `fn` when the page is idle after the map's first paint. */
function afterFirstPaint(fn: () => void): void {
  const whenIdle = () =>
    "requestIdleCallback" in globalThis
      ? requestIdleCallback(fn, { timeout: 2000 })
      : setTimeout(fn, 200);
  if (performance.getEntriesByName(FIRST_PAINT).length > 0) {
    whenIdle();
    return;
  }
  let done = false;
  const observer = typeof PerformanceObserver === "undefined"
    ? null
    : new PerformanceObserver((list) => {
      if (list.getEntriesByName(FIRST_PAINT).length > 0) go();
    });
  const timer = setTimeout(go, FIRST_PAINT_WAIT_MS);
  function go() {
    if (done) return;
    done = true;
    observer?.disconnect();
    clearTimeout(timer);
    whenIdle();
  }
  observer?.observe({ type: "mark" });
}
