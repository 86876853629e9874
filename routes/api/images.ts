/**
 * The original images as raw bytes, for the offline cache of the page:
 * - GET /api/images → `{ id, count, rows, cols, chunkSize, chunks, bytes }`;
 * - GET /api/images/:id/:k → chunk k: images k·chunkSize … (k+1)·chunkSize−1,
 *   row-major uint8, `rows·cols·channels` bytes each (the last chunk may be shorter).
 *
 * `id` is a digest of the data set, so a chunk URL names fixed bytes forever:
 * chunks are `immutable`, and a server restarted on other data (--data-dir,
 * --limit) answers 404 to the old URLs instead of serving mismatched images.
 */

import { quoteInput } from "../../lib/quote_input.ts";
import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { HTTPException } from "hono/http-exception";
// hono/etag answers 304 when If-None-Match names the ETag set below.
import { etag as revalidate } from "hono/etag";
import type { ImagesMeta } from "../../lib/protocol/api.ts";

/** Images per chunk: 2048 × 784 B ≈ 1.6 MB, 30 chunks for MNIST's 60k. */
export const IMAGE_CHUNK = 2048;

/**
 * The data set's id: its count and a SHA-256 over the chunks' own digests.
 * Chunk by chunk through one plain buffer, because WebCrypto refuses views
 * on shared memory (folder images are on a SharedArrayBuffer), and a copy
 * of all 47 MB would be ~0.2 s of fresh pages.
 */
async function digest(
  raw: Uint8Array,
  count: number,
  chunkBytes: number,
): Promise<string> {
  const buffer = new Uint8Array(Math.min(chunkBytes, raw.length));
  const digests = new Uint8Array(Math.ceil(raw.length / chunkBytes) * 32);
  for (let at = 0, k = 0; at < raw.length; at += chunkBytes, k++) {
    const part = raw.subarray(at, at + chunkBytes);
    buffer.set(part);
    const d = await crypto.subtle.digest(
      "SHA-256",
      buffer.subarray(0, part.length),
    );
    digests.set(new Uint8Array(d), k * 32);
  }
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", digests));
  const hex = Array.from(d.slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `${count}-${hex}`;
}

export function imagesRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  // Hashing 47 MB takes ~100 ms: once, on first use, not at start-up.
  let meta: Promise<ImagesMeta> | null = null;
  const getMeta = (): Promise<ImagesMeta> => {
    const data = ctx.training.data;
    if (data === null) {
      throw new HTTPException(503, {
        message: "the images are not loaded yet",
      });
    }
    const pixels = data.rows * data.cols * data.channels;
    meta ??= digest(data.raw, data.count, IMAGE_CHUNK * pixels).then((id) => ({
      id,
      count: data.count,
      rows: data.rows,
      cols: data.cols,
      channels: data.channels,
      chunkSize: IMAGE_CHUNK,
      chunks: Math.ceil(data.count / IMAGE_CHUNK),
      bytes: data.raw.byteLength,
    }));
    return meta;
  };

  app.get("/", async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(await getMeta());
  });

  app.get("/:id/:k", revalidate(), async (c) => {
    const m = await getMeta();
    const id = c.req.param("id");
    const text = c.req.param("k");
    if (id !== m.id) {
      throw new HTTPException(404, {
        message: `image set ${quoteInput(id)} is not served here (now ${m.id})`,
      });
    }
    if (!/^\d{1,6}$/.test(text) || Number(text) >= m.chunks) {
      throw new HTTPException(404, {
        message: `chunk ${quoteInput(text)}: expected 0-${m.chunks - 1}`,
      });
    }
    const k = Number(text);
    const etag = `"img-${m.id}-${k}"`;
    const headers: Record<string, string> = {
      "Cache-Control": "public, max-age=31536000, immutable",
      ETag: etag,
    };
    const pixels = m.rows * m.cols * m.channels;
    const start = k * m.chunkSize * pixels;
    const end = Math.min(m.count, (k + 1) * m.chunkSize) * pixels;
    // A copy (~1.6 MB): `Response` refuses a view on shared memory.
    const bytes = ctx.training.data!.raw.slice(start, end);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      "Content-Type": "application/octet-stream",
      "X-Image-Count": String(end / pixels - k * m.chunkSize),
    });
  });

  return app;
}
