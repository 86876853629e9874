/**
 * GET /api/evaluations: the test-set evaluation of every training run
 * (runs.json beside the checkpoint), oldest first.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";

export function evaluationsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({
      runs: ctx.training.evaluations,
      ...(ctx.training.evaluationsError
        ? { error: ctx.training.evaluationsError }
        : {}),
    });
  });
  return app;
}
