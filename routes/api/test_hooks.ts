/**
 * Test-only routes, mounted only with `--test-hooks`:
 * POST /api/_test/fault {fault: "nan"|"epoch_error"|"crash"} makes the
 * training worker fail at its next epoch end (or die), for the worker-death
 * and training-error tests.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { readJsonBody } from "../../lib/server/http.ts";
import { HTTPException } from "hono/http-exception";

export function testHookRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.post("/fault", async (c) => {
    const body = (await readJsonBody(c))!;
    if (
      body.fault !== "crash" && body.fault !== "epoch_error" &&
      body.fault !== "nan"
    ) {
      throw new HTTPException(400, {
        message: 'fault must be "nan", "epoch_error" or "crash"',
      });
    }
    ctx.training.injectFault(body.fault);
    return c.json({ ok: true }, 202);
  });
  return app;
}
