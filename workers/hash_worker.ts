/**
 * Hash worker: the SHA-256 of one shared buffer (lib/cache_file.ts's
 * `openCacheOffThread`), so a cache's checksum runs beside the main thread's
 * work. Protocol: the bytes in, the hex digest out.
 */

/// <reference lib="deno.worker" />

import { sha256 } from "../lib/cache_file.ts";

self.onmessage = (ev: MessageEvent<Uint8Array>) => {
  self.postMessage(sha256(ev.data));
};
