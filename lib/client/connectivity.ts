/**
 * How the offline layer tells "the server is reachable" from "it is not":
 * the browser's own flag and the live socket, read the same way everywhere.
 */
import { effect, untracked } from "@preact/signals";
import type { Store } from "./store.ts";

/**
 * Offline: the browser says so, or the socket has lost the server (a server
 * that is down looks online to the browser). Label writes queue then.
 */
export function isOffline(store: Pick<Store, "connection">): boolean {
  return !navigator.onLine || store.connection.value === "reconnecting";
}

/**
 * Calls `fn` each time the socket is open again after it lost the server
 * (not on the first connection). Returns the disposer.
 */
export function onReconnect(
  store: Pick<Store, "connection">,
  fn: () => void,
): () => void {
  let wasDown = false;
  return effect(() => {
    const c = store.connection.value;
    if (c === "reconnecting") wasDown = true;
    if (c === "open" && wasDown) {
      wasDown = false;
      // What `fn` reads is not this effect's business.
      untracked(fn);
    }
  });
}
