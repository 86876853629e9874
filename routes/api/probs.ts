/**
 * GET /api/probs: uint8-quantised class probabilities of every image
 * (lib/server/probs_cache.ts), ETag = the prediction version. The page
 * ranks its suggestion queue from them; the label graph's default queue
 * (coverage suggestions) rides along after them.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { ProbsCache } from "../../lib/server/probs_cache.ts";
import { HTTPException } from "hono/http-exception";
// hono/etag answers 304 when If-None-Match names the ETag set below.
import { etag as revalidate } from "hono/etag";

export function probsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const cache = new ProbsCache();
  app.get("/", revalidate(), (c) => {
    const snap = ctx.training.snapshot;
    if (snap === null) {
      throw new HTTPException(503, {
        message: "predictions are not ready yet",
      });
    }
    const version = ctx.training.version;
    const g = ctx.training.graph;
    const { bytes, etag } = cache.get(
      snap.probs,
      ctx.count,
      version,
      g ? { phase: g.phase, order: g.order } : undefined,
    );
    const headers: Record<string, string> = {
      ETag: etag,
      "Cache-Control": "no-cache",
      "X-Latent-Version": String(version),
    };
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      "Content-Type": "application/octet-stream",
    });
  });
  return app;
}
