/**
 * The app-level state of the PWA layer (the modules lib/client/pwa.ts starts
 * fill it in): online or not, operations waiting to sync, the last sync's
 * outcome, a new version waiting, offline readiness. Module-level signals: on the server
 * they keep their defaults, so the server render and hydration agree.
 */
import { computed, signal } from "@preact/signals";

export interface SyncMessage {
  id: number;
  text: string;
  kind: "success" | "info" | "error";
}

export const pwa = {
  /** navigator.onLine, as last seen. */
  online: signal(true),
  /** Label operations queued in IndexedDB, not yet on the server. */
  pending: signal(0),
  syncing: signal(false),
  /** "5 changes synced; …" after a replay. */
  message: signal<SyncMessage | null>(null),
  /** A new version: "waiting" (installed) or "active" (another tab switched). */
  update: signal<"waiting" | "active" | null>(null),
  /** The service worker is active with its precache in place. */
  swReady: signal(false),
  /** The page's latent snapshot and state are in the runtime caches. */
  dataCached: signal(false),
  images: signal({ done: 0, total: 0 }),
  /** Filled in by lib/client/sw_registration.ts: activate the waiting version and reload. */
  applyUpdate: () => {},
};

/** Everything needed to reload and work offline is cached. */
export const offlineReady = computed(() =>
  pwa.swReady.value && pwa.dataCached.value && pwa.images.value.total > 0 &&
  pwa.images.value.done === pwa.images.value.total
);

/**
 * The page works offline now: the browser is offline, or the live socket is
 * retrying. The sync badge then says "Offline — N changes pending", and the
 * connection badge steps aside (two badges said the same thing).
 */
export function serverUnreachable(connection: string): boolean {
  return !pwa.online.value || connection === "reconnecting";
}
