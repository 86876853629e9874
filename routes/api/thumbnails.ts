/**
 * GET /api/thumbnails?indices=3,17,42: the original images of up to 100
 * samples in one response (the selection panel's grid), as raw bytes:
 * k × rows × cols × channels uint8, in the order asked; `X-Image-Rows`,
 * `-Cols` and `-Channels` (1 grey, 3 RGB interleaved) give the shape.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { HTTPException } from "hono/http-exception";
import { parseIndex } from "../../lib/server/validation.ts";
import { MAX_THUMBNAILS } from "../../lib/protocol/limits.ts";

export function thumbnailsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const text = c.req.query("indices");
    if (text === undefined || text === "") {
      throw new HTTPException(400, {
        message: 'missing query "indices" (e.g. ?indices=1,2,3)',
      });
    }
    const parts = text.split(",");
    if (parts.length > MAX_THUMBNAILS) {
      throw new HTTPException(400, {
        message:
          `${parts.length} indices: at most ${MAX_THUMBNAILS} per request`,
      });
    }
    const indices = parts.map((p) => parseIndex(p, ctx.count));
    const data = ctx.training.data;
    if (data === null) {
      throw new HTTPException(503, { message: "images are not loaded yet" });
    }
    const pixels = data.rows * data.cols * data.channels;
    const out = new Uint8Array(indices.length * pixels);
    indices.forEach((i, k) =>
      out.set(data.raw.subarray(i * pixels, (i + 1) * pixels), k * pixels)
    );
    return c.body(out, 200, {
      "Content-Type": "application/octet-stream",
      "Cache-Control": "no-store",
      "X-Image-Rows": String(data.rows),
      "X-Image-Cols": String(data.cols),
      "X-Image-Channels": String(data.channels),
    });
  });
  return app;
}
