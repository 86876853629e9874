/**
 * The service worker (bundled by lib/build/client_bundle.ts into
 * static/build/sw.js, served as /sw.js for the root scope):
 * - precaches this build's shell (/app-shell), bundle, stylesheet, Plotly,
 *   manifest and icons — under their content-versioned URLs, so one version's
 *   worker only ever serves that version's files;
 * - `/` goes to the network first and falls back to the precached shell;
 * - GET /api/latent, /api/state, /api/probs, /api/samples/:i: network first, the last
 *   answer cached for offline use (the page also writes its own, fresher copy
 *   of the snapshot and state);
 * - Background Sync replays the offline label queue (lib/client/outbox.ts);
 * - a new version waits until a page asks it to take over ("Reload to update").
 */
import { clientsClaim } from "workbox-core";
import { ExpirationPlugin } from "workbox-expiration";
import {
  cleanupOutdatedCaches,
  matchPrecache,
  precacheAndRoute,
} from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { NetworkFirst } from "workbox-strategies";
import { Outbox } from "./outbox.ts";
import {
  CACHES,
  LATENT_URL,
  SHELL_URL,
  STATE_URL,
  SYNC_TAG,
} from "./pwa_shared.ts";

/** Injected at build time: [{url, revision}] and a digest of the build. */
declare const __PRECACHE_JSON__: string;
declare const __BUILD_ID__: string;

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SyncEvent extends ExtendableEvent {
  tag: string;
}
interface SwGlobal {
  skipWaiting(): Promise<void>;
  addEventListener(type: string, fn: (ev: Event) => void): void;
}
const sw = globalThis as unknown as SwGlobal;

const BUILD_ID = __BUILD_ID__;

precacheAndRoute(JSON.parse(__PRECACHE_JSON__));
cleanupOutdatedCaches();
clientsClaim();

/** Navigations wait this long for the server before the shell is shown. */
const NAVIGATION_TIMEOUT_MS = 6000;

registerRoute(
  new NavigationRoute(async ({ request }) => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), NAVIGATION_TIMEOUT_MS);
    try {
      return await fetch(request, { signal: ctl.signal });
    } catch (e) {
      const shell = await matchPrecache(SHELL_URL);
      if (shell) return shell;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }, { allowlist: [/^\/(?:\?.*)?$/] }),
);

const isGet = (request: Request) => request.method === "GET";

registerRoute(
  ({ url, request }) => isGet(request) && url.pathname === LATENT_URL,
  new NetworkFirst({ cacheName: CACHES.latent }),
);
registerRoute(
  ({ url, request }) => isGet(request) && url.pathname === STATE_URL,
  new NetworkFirst({ cacheName: CACHES.state }),
);
registerRoute(
  // Class probabilities: the suggestion queue works offline too.
  ({ url, request }) => isGet(request) && url.pathname === "/api/probs",
  new NetworkFirst({ cacheName: CACHES.probs }),
);
registerRoute(
  ({ url, request }) =>
    isGet(request) && /^\/api\/samples\/\d+$/.test(url.pathname),
  new NetworkFirst({
    cacheName: CACHES.samples,
    plugins: [new ExpirationPlugin({ maxEntries: 2000 })],
  }),
);

sw.addEventListener("message", (ev) => {
  const data = (ev as MessageEvent).data;
  if (data?.type === "SKIP_WAITING") void sw.skipWaiting();
  if (data?.type === "VERSION") {
    (ev as MessageEvent).ports[0]?.postMessage({ build: BUILD_ID });
  }
});

/** Replays the label queue with no page open (or before one asks). */
async function backgroundSync(): Promise<void> {
  const outbox = await Outbox.open();
  try {
    // Still unreachable: the rejection (SyncUnavailable) fails the event,
    // and the browser retries later.
    const report = await outbox.flush();
    if (report) await outbox.saveReport({ ...report, background: true });
  } finally {
    outbox.close();
  }
}

sw.addEventListener("sync", (ev) => {
  const e = ev as SyncEvent;
  if (e.tag === SYNC_TAG) e.waitUntil(backgroundSync());
});
