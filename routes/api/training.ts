/**
 * POST /api/training/start {epochs, recon_weight?, kl_weight?, learning_rate?}
 * and POST /api/training/stop. Training runs in the worker; these only queue.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { readJsonBody } from "../../lib/server/http.ts";
import { HTTPException } from "hono/http-exception";
import {
  ConflictError,
  UnavailableError,
} from "../../lib/server/training_controller.ts";
import {
  parseTrainingBody,
  rejectUnknown,
} from "../../lib/server/validation.ts";

export function trainingRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.post("/start", async (c) => {
    const req = parseTrainingBody((await readJsonBody(c))!);
    try {
      const info = ctx.training.startTraining(
        req.epochs,
        req.overrides,
        ctx.labels.labels,
      );
      ctx.log(
        `training started: ${req.epochs} epochs ${
          JSON.stringify(req.overrides)
        }, ${ctx.labels.labelledCount()} labels`,
      );
      return c.json({ status: info.status, training: info }, 202);
    } catch (e) {
      if (e instanceof ConflictError) {
        throw new HTTPException(409, { message: e.message });
      }
      if (e instanceof UnavailableError) {
        throw new HTTPException(503, { message: e.message });
      }
      throw e;
    }
  });

  app.post("/stop", async (c) => {
    // A body is optional; anything sent must still be valid, small and
    // empty of fields: stop takes none, and a typo must not pass silently.
    const body = await readJsonBody(c, { optional: true });
    if (body !== undefined) rejectUnknown(body, []);
    const info = ctx.training.stopTraining();
    return c.json({ status: info.status, training: info }, 202);
  });

  return app;
}
