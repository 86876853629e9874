/**
 * GET /api/review?limit=N: the review queue — labels the rest of the data
 * disagrees with, most suspicious first, and labelled images that fit no
 * class (lib/graph/review.ts), less the confirmed ones.
 * POST /api/review/:i/confirm {label}: the label of image i is right; it
 * leaves the queue until its label or the evidence against it changes.
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ServerContext } from "../../lib/server/context.ts";
import { readJsonBody } from "../../lib/server/http.ts";
import {
  parseIndex,
  parseLabelBody,
  parseLimit,
} from "../../lib/server/validation.ts";
import { REVIEW_PAGE } from "../../lib/protocol/limits.ts";

export function reviewRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.get("/", (c) => {
    const limit = parseLimit(c.req.query("limit"), REVIEW_PAGE);
    const review = ctx.graph.review;
    const labelled = ctx.labels.counts().labelled;
    if (!review) {
      return c.json({
        revision: -1,
        items: [],
        outliers: [],
        scored: 0,
        labelled,
        current: false,
        confirmed: ctx.review.size,
      });
    }
    return c.json({
      ...ctx.review.filter(review, limit, ctx.labels.labels),
      labelled,
      // Whether the queue is of the labels as they are now (a self-check
      // follows every change within a few propagations).
      current: review.revision === ctx.labels.revision,
      confirmed: ctx.review.size,
    });
  });

  app.post("/:i/confirm", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const { label } = parseLabelBody(
      (await readJsonBody(c))!,
      ctx.labels.classCount,
    );
    const current = ctx.labels.get(index);
    if (current !== label) {
      throw new HTTPException(409, {
        message: current === null
          ? `image ${index} has no label to confirm`
          : `image ${index} is labelled ${current}, not ${label}`,
      });
    }
    const item = ctx.graph.review?.items.find((it) => it.index === index);
    try {
      await ctx.review.confirm(index, {
        label,
        // Confirmed against what the data suggests now; a label not on the
        // list is confirmed against its own class.
        predicted: item?.predicted ?? label,
      });
    } catch (e) {
      throw new HTTPException(503, {
        message: `confirmation not saved: ${(e as Error).message}`,
      });
    }
    return c.json({ index, label, confirmed: true });
  });

  return app;
}
