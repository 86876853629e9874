/**
 * Decode worker: reads and decodes a batch of image files to the model's
 * input shape (lib/images/decode.ts). Protocol: lib/images/decode_pool.ts.
 */

/// <reference lib="deno.worker" />

import { decodeImage } from "../lib/images/decode.ts";
import { lowerThreadPriority } from "../lib/thread_priority.ts";
import type { DecodeReply, DecodeRequest } from "../lib/images/decode_pool.ts";

// Background work: the page's requests go first (lib/thread_priority.ts).
lowerThreadPriority();

self.onmessage = async (ev: MessageEvent<DecodeRequest>) => {
  const { id, paths, shape, maxPixels } = ev.data;
  const pixels = shape.width * shape.height * shape.channels;
  const out = new Uint8Array(paths.length * pixels);
  const errors: Array<string | null> = [];
  for (let i = 0; i < paths.length; i++) {
    try {
      const bytes = await Deno.readFile(paths[i]);
      out.set(await decodeImage(bytes, shape, maxPixels), i * pixels);
      errors.push(null);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const reply: DecodeReply = { id, pixels: out, errors };
  self.postMessage(reply, [out.buffer]);
};
