/**
 * How far a team's annotators agree, on a server with `--overlap K`
 * (lib/server/overlap_service.ts), for reviewers and the owner:
 * - GET /api/agreement → `{ overlap, items, alpha, pairs: [{ a, b, shared,
 *   observed, kappa, perClass }], disagreements: [{ index, labels }] }`:
 *   Krippendorff's α over every image with two annotations or more, Cohen's
 *   κ per pair (and per class), and the images whose K annotations differ;
 * - GET /api/agreement/export?format=csv|json: every annotation
 *   (`Serial,annotator,label,time`), or the report as a file.
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ServerContext } from "../../lib/server/context.ts";
import type { OverlapService } from "../../lib/server/overlap_service.ts";
import { quoteInput } from "../../lib/quote_input.ts";

/** NaN (no data, or no variation) as null: JSON has no NaN. */
function finite(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}

export function agreementRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const overlap = (): OverlapService => {
    if (!ctx.overlap) {
      throw new HTTPException(404, {
        message:
          "no overlap on this server: start it with --overlap K (K annotators per image)",
      });
    }
    return ctx.overlap;
  };
  const report = async () =>
    JSON.stringify(await overlap().report(ctx.dataset.classes.length), finite);

  app.get("/", async (c) => {
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "application/json");
    return c.body(await report());
  });

  app.get("/export", async (c) => {
    const format = c.req.query("format") ?? "csv";
    if (format !== "csv" && format !== "json") {
      throw new HTTPException(400, {
        message: `format ${quoteInput(format)}: expected "csv" or "json"`,
      });
    }
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "");
    c.header(
      "Content-Disposition",
      `attachment; filename="agreement-${stamp}.${format}"`,
    );
    c.header("Cache-Control", "no-store");
    if (format === "json") {
      c.header("Content-Type", "application/json");
      return c.body(await report());
    }
    c.header("Content-Type", "text/csv; charset=utf-8");
    return c.body(await overlap().exportCsv());
  });

  return app;
}
