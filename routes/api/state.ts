/** GET /api/state: everything the page needs to draw its first frame. */

import { Hono } from "hono";
import { apiState, type ServerContext } from "../../lib/server/context.ts";

export function stateRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ ...apiState(ctx), me: c.get("me") });
  });
  return app;
}
