/**
 * Registers the service worker (/sw.js, built by lib/build/client_bundle.ts
 * from lib/client/service_worker.ts) and handles its updates: looks for a new
 * version on every reconnect and every 30 minutes, shows "Reload to update"
 * (`pwa.update`) while one waits, and `pwa.applyUpdate` activates it and
 * reloads. A tab left on the old version after another tab switched is told
 * so ("active").
 */
import { onReconnect } from "./connectivity.ts";
import { SW_URL } from "./pwa_shared.ts";
import { pwa } from "./pwa_state.ts";
import { pushLog, type Store } from "./store.ts";

const UPDATE_CHECK_MS = 30 * 60_000;
/** How long "Reload to update" waits for the new worker before reloading anyway. */
const ACTIVATE_TIMEOUT_MS = 3000;

/**
 * Registers the worker; `onReady` once it is active with its precache in
 * place (`pwa.swReady`). Returns the disposer of the update checks.
 */
export function registerServiceWorker(
  store: Store,
  onReady: () => void = () => {},
): () => void {
  const sw = navigator.serviceWorker;
  let registration: ServiceWorkerRegistration | null = null;
  let waiting: ServiceWorker | null = null;
  let reloading = false;

  const checkForUpdate = async () => {
    try {
      await registration?.update();
    } catch { /* offline: next time */ }
  };

  pwa.applyUpdate = () => {
    reloading = true;
    if (waiting && waiting.state === "installed") {
      waiting.postMessage({ type: "SKIP_WAITING" });
      // controllerchange reloads; in case it never comes:
      setTimeout(() => location.reload(), ACTIVATE_TIMEOUT_MS);
    } else {
      location.reload();
    }
  };

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

  const trackUpdates = (reg: ServiceWorkerRegistration) => {
    const show = (w: ServiceWorker) => {
      waiting = w;
      pwa.update.value = "waiting";
    };
    if (reg.waiting && sw.controller) show(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const w = reg.installing;
      w?.addEventListener("statechange", () => {
        if (w.state === "installed" && sw.controller) show(w);
      });
    });
  };

  void (async () => {
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
    onReady();
  })();

  const stopReconnect = onReconnect(store, () => void checkForUpdate());
  const timer = setInterval(() => void checkForUpdate(), UPDATE_CHECK_MS);
  return () => {
    stopReconnect();
    clearInterval(timer);
  };
}
