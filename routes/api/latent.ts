/**
 * GET /api/latent: the binary latent snapshot (lib/server/latent_cache.ts, format in lib/protocol/latent_format.ts).
 * Encoded once per prediction version; the ETag lets a reload skip the body.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { etagMatches } from "../../lib/server/static_files.ts";
import { HttpError } from "../../lib/server/security.ts";

export function latentRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const snap = ctx.training.snapshot;
    if (snap === null) {
      throw new HttpError(503, "predictions are not ready yet");
    }
    const { bytes, etag } = ctx.latent.get(
      {
        latent: snap.latent,
        latentDim: snap.latentDim,
        predClass: snap.predClass,
        certainty: snap.certainty,
        labels: ctx.labels.store.labels,
        count: ctx.count,
      },
      ctx.training.version,
      ctx.labels.revision,
    );
    const headers: Record<string, string> = {
      ETag: etag,
      // Always revalidate: the snapshot changes with every run and label.
      "Cache-Control": "no-cache",
      "X-Latent-Version": String(ctx.training.version),
    };
    const inm = c.req.header("if-none-match");
    if (inm !== undefined && etagMatches(inm, etag)) {
      return c.body(null, 304, headers);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      "Content-Type": "application/octet-stream",
    });
  });
  return app;
}
