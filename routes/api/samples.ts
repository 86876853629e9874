/** GET /api/samples/:i: one image, its reconstruction and the model's opinion. */

import { Hono } from "hono";
import { bytesToBase64 } from "../../lib/protocol/base64.ts";
import type { ServerContext } from "../../lib/server/context.ts";
import { HTTPException } from "hono/http-exception";
import { parseIndex } from "../../lib/server/validation.ts";
import { overlapFor } from "../../lib/server/overlap_service.ts";

export function samplesRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/:i", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const snap = ctx.training.snapshot;
    const data = ctx.training.data;
    if (snap === null || data === null) {
      throw new HTTPException(503, {
        message: "predictions are not ready yet",
      });
    }
    const pixels = data.rows * data.cols * data.channels;
    // One probability per model class (10 up to ten classes).
    const C = snap.probs.length / ctx.count;
    const probs = Array.from(snap.probs.subarray(index * C, (index + 1) * C));
    c.header("Cache-Control", "no-store");
    return c.json({
      index,
      // An annotator of an overlapped set sees their own annotation, not others'.
      label: await overlapFor(ctx.overlap, c.get("me"))?.labelFor(
        c.get("me").name,
        index,
      ) ?? ctx.labels.get(index),
      predClass: snap.predClass[index],
      certainty: snap.certainty[index],
      probs,
      original: bytesToBase64(
        data.raw.subarray(index * pixels, (index + 1) * pixels),
      ),
      recon: bytesToBase64(
        snap.recon.subarray(index * pixels, (index + 1) * pixels),
      ),
      rows: data.rows,
      cols: data.cols,
      channels: data.channels,
      ...(ctx.dataset.paths ? { path: ctx.dataset.paths[index] } : {}),
      latentVersion: ctx.training.version,
    });
  });
  return app;
}
