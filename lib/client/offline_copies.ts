/**
 * The page's offline copies of the latent snapshot and the state, in Cache
 * Storage under the keys the service worker falls back to as well
 * (`ssvae-latent`, `ssvae-state`): written by lib/client/persist_copies.ts,
 * read by lib/client/offline_api.ts when the server cannot be reached.
 */
import {
  decodeLatent,
  encodeLatent,
  type LatentSnapshot,
} from "../protocol/latent_format.ts";
import type { ApiState } from "../protocol/api.ts";
import { CACHES, LATENT_URL, STATE_URL } from "./pwa_shared.ts";

export class OfflineCopies {
  /** The last snapshot kept, or null when there is none. */
  async latent(): Promise<LatentSnapshot | null> {
    const hit = await (await caches.open(CACHES.latent)).match(LATENT_URL);
    return hit ? decodeLatent(await hit.arrayBuffer()) : null;
  }

  /** The last state kept, or null when there is none. */
  async state(): Promise<ApiState | null> {
    const hit = await (await caches.open(CACHES.state)).match(STATE_URL);
    return hit ? await hit.json() as ApiState : null;
  }

  /** Keeps `snap` as the snapshot to show offline. */
  async putLatent(snap: LatentSnapshot): Promise<void> {
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
  }

  /** Keeps `state` as the state to show offline. */
  async putState(state: ApiState): Promise<void> {
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
  }
}
