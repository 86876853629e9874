/**
 * PUT /api/labels/:i {label, clientTime?} and DELETE /api/labels/:i.
 * The response is sent only after memory and labels.csv both hold the change;
 * every connected client hears about it through the hub.
 */

import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { readJsonBody } from "../../lib/server/security.ts";
import {
  parseDeleteBody,
  parseIndex,
  parseLabelBody,
} from "../../lib/server/validation.ts";

export function labelsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.get("/:i", (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    return c.json({ index, label: ctx.labels.store.get(index) });
  });

  app.put("/:i", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const body = parseLabelBody((await readJsonBody(c))!);
    const result = await ctx.labels.write(index, body.label, body.clientTime);
    return c.json(result);
  });

  app.delete("/:i", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const { clientTime } = parseDeleteBody(
      await readJsonBody(c, { optional: true }),
      c.req.query("clientTime"),
    );
    const result = await ctx.labels.write(index, null, clientTime);
    return c.json(result);
  });

  return app;
}
