/**
 * Every original image, cached for offline use: the server's raw uint8 chunks
 * (GET /api/images/:id/:k, 2048 images ≈ 1.6 MB each, ~47 MB for MNIST) kept
 * in Cache Storage. `warm()` fills the cache in the background, one chunk at
 * a time, after the page has drawn; `image(i)` reads one image back.
 */
import { CACHES, chunkOf, IMAGES_URL } from "./pwa_shared.ts";
import type { ImagesMeta } from "../protocol/api.ts";

export class OfflineImages {
  #meta: ImagesMeta | null = null;
  /** The last chunks read (a click often lands near the previous one). */
  #recent = new Map<string, Uint8Array>();

  constructor(readonly base = "") {}

  chunkUrl(m: ImagesMeta, k: number): string {
    return `${this.base}${IMAGES_URL}/${m.id}/${k}`;
  }

  /** The image set's description: from the server, else the cached copy. */
  async meta(online = true): Promise<ImagesMeta | null> {
    const cache = await caches.open(CACHES.images);
    if (online) {
      try {
        const res = await fetch(`${this.base}${IMAGES_URL}`, {
          cache: "no-store",
        });
        if (res.ok) {
          const m = await res.clone().json() as ImagesMeta;
          await cache.put(`${this.base}${IMAGES_URL}`, res);
          this.#meta = m;
          return m;
        }
        await res.body?.cancel();
      } catch {
        // Offline: the cached description below.
      }
    }
    if (this.#meta) return this.#meta;
    const hit = await cache.match(`${this.base}${IMAGES_URL}`);
    this.#meta = hit ? await hit.json() as ImagesMeta : null;
    return this.#meta;
  }

  /**
   * Downloads the chunks not cached yet, one after the other (low priority,
   * yielding between chunks), and drops chunks of other image sets. Resolves
   * with the number of cached chunks; `onProgress(done, total)` after each.
   */
  async warm(
    opts: {
      signal?: AbortSignal;
      onProgress?: (done: number, total: number) => void;
    } = {},
  ): Promise<number> {
    const m = await this.meta(true);
    if (!m) return 0;
    const cache = await caches.open(CACHES.images);
    const wanted = new Set<string>();
    for (let k = 0; k < m.chunks; k++) wanted.add(this.chunkUrl(m, k));
    // Chunks of another data set (server restarted on other data): gone.
    for (const req of await cache.keys()) {
      const path = new URL(req.url).pathname;
      if (path !== IMAGES_URL && !wanted.has(`${this.base}${path}`)) {
        await cache.delete(req);
      }
    }
    let done = 0;
    for (let k = 0; k < m.chunks; k++) {
      if (opts.signal?.aborted) break;
      const url = this.chunkUrl(m, k);
      if (!(await cache.match(url))) {
        const res = await fetch(url, {
          // Not into the HTTP cache as well: Cache Storage holds the copy.
          cache: "no-store",
          signal: opts.signal,
          // deno-lint-ignore no-explicit-any
          ...({ priority: "low" } as any),
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new Error(`GET ${url}: HTTP ${res.status}`);
        }
        await cache.put(url, res);
        // Leave the main thread and network to the user between chunks:
        // the next one starts when the page is idle.
        await new Promise((r) =>
          "requestIdleCallback" in globalThis
            ? requestIdleCallback(r, { timeout: 1000 })
            : setTimeout(r, 50)
        );
      }
      opts.onProgress?.(++done, m.chunks);
    }
    return done;
  }

  /** Image `index` (rows·cols·channels bytes) from the cache, or null when not cached. */
  async image(index: number): Promise<Uint8Array | null> {
    const m = await this.meta(false);
    if (!m || index < 0 || index >= m.count) return null;
    const { chunk, offset } = chunkOf(index, m.chunkSize);
    const url = this.chunkUrl(m, chunk);
    let bytes = this.#recent.get(url);
    if (!bytes) {
      const cache = await caches.open(CACHES.images);
      const hit = await cache.match(url);
      if (!hit) return null;
      bytes = new Uint8Array(await hit.arrayBuffer());
      this.#recent.set(url, bytes);
      if (this.#recent.size > 2) {
        this.#recent.delete(this.#recent.keys().next().value!);
      }
    }
    const px = m.rows * m.cols * (m.channels ?? 1);
    return bytes.slice(offset * px, (offset + 1) * px);
  }
}
