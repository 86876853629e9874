/**
 * GET /api/latent: the binary latent snapshot (lib/server/latent_cache.ts, format in lib/protocol/latent_format.ts).
 * Encoded once per prediction version; the ETag lets a reload skip the body.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
// hono/etag answers 304 when If-None-Match names the ETag set below.
import { etag as revalidate } from "hono/etag";
import { HTTPException } from "hono/http-exception";
import { overlapFor } from "../../lib/server/overlap_service.ts";
import { withOwnLabels } from "../../lib/server/latent_cache.ts";

export function latentRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/", revalidate(), async (c) => {
    const snap = ctx.training.snapshot;
    if (snap === null) {
      throw new HTTPException(503, {
        message: "predictions are not ready yet",
      });
    }
    const { bytes, etag } = ctx.latent.get(
      {
        latent: snap.latent,
        latentDim: snap.latentDim,
        predClass: snap.predClass,
        certainty: snap.certainty,
        labels: ctx.labels.labels,
        count: ctx.count,
      },
      ctx.training.version,
      ctx.labels.revision,
    );
    const me = c.get("me");
    const own = await overlapFor(ctx.overlap, me)?.ownView(me.name) ?? null;
    // An annotator of an overlapped set: their own annotations laid over the
    // labels (blind: nobody else's). Made afresh each time, never cached:
    // they may annotate through another process on the same database.
    if (own && own.size > 0) {
      return c.body(withOwnLabels(bytes, own) as Uint8Array<ArrayBuffer>, 200, {
        "Cache-Control": "no-store",
        "X-Latent-Version": String(ctx.training.version),
        "Content-Type": "application/octet-stream",
      });
    }
    const headers: Record<string, string> = {
      ETag: etag,
      // Always revalidate: the snapshot changes with every run and label.
      "Cache-Control": "no-cache",
      "X-Latent-Version": String(ctx.training.version),
    };
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      "Content-Type": "application/octet-stream",
    });
  });
  return app;
}
