/**
 * Many labels at once (mounted at /api/labels before the per-index routes):
 * - PUT /api/labels {changes: [{index, label|null}], clientTime?}: one atomic
 *   CSV write and one `labels_changed` event (lasso labelling, undo/redo);
 * - GET /api/labels/export?format=csv|json|paths: a download of all labels
 *   (`paths`, image folders only: `path,class` rows);
 * - POST /api/labels/import {csv, mode?: "merge"|"replace", dryRun?, name?,
 *   ifRevision?}: a preview (dryRun) or the whole file applied at once.
 */

import { quoteInput } from "../../lib/quote_input.ts";
import { Hono } from "hono";
import {
  ImportError,
  labelsByPathCsv,
  labelsJson,
  parseBatchBody,
  parseImportBody,
} from "../../lib/server/bulk_labels.ts";
import type { ServerContext } from "../../lib/server/context.ts";
import { BODY_LIMITS } from "../../lib/protocol/limits.ts";
import { readJsonBody } from "../../lib/server/http.ts";
import { writeMeta } from "../../lib/server/validation.ts";
import { assertMayChange } from "../../lib/server/auth.ts";
import { overlapFor } from "../../lib/server/overlap_service.ts";
import { HTTPException } from "hono/http-exception";

function stamp(d = new Date()): string {
  return d.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
}

export function labelsBulkRoutes(ctx: ServerContext): Hono {
  const app = new Hono();

  app.put("/", async (c) => {
    const body = parseBatchBody(
      (await readJsonBody(c, { limit: BODY_LIMITS.batch }))!,
      ctx.count,
      ctx.labels.classCount,
    );
    const meta = writeMeta(c, body.source ?? "batch");
    const me = c.get("me");
    const overlap = overlapFor(ctx.overlap, me);
    if (overlap) {
      // Each change of an unlabelled image is the annotator's annotation;
      // the others follow the annotator's rules as one write.
      const annotated = body.changes.filter((ch) => overlap.applies(ch.index));
      const rest = body.changes.filter((ch) => !overlap.applies(ch.index));
      assertMayChange(
        me,
        rest.map((ch) => ch.index),
        (i) => ctx.labels.get(i),
        (i) => ctx.labels.annotatorOf(i),
      );
      for (const ch of annotated) {
        await overlap.annotate(me.name, ch.index, ch.label, meta);
      }
      const result = rest.length > 0
        ? await ctx.labels.writeMany(rest, body.clientTime, meta)
        : { applied: 0, changed: 0, stale: [] };
      return c.json({
        ...result,
        applied: result.applied + annotated.length,
        changed: result.changed + annotated.length,
        counts: ctx.labels.counts(),
      });
    }
    assertMayChange(
      me,
      body.changes.map((ch) => ch.index),
      (i) => ctx.labels.get(i),
      (i) => ctx.labels.annotatorOf(i),
    );
    const result = await ctx.labels.writeMany(
      body.changes,
      body.clientTime,
      meta,
    );
    return c.json({ ...result, counts: ctx.labels.counts() });
  });

  app.get("/export", (c) => {
    const format = c.req.query("format") ?? "csv";
    const paths = ctx.dataset.paths;
    if (
      format !== "csv" && format !== "json" && !(format === "paths" && paths)
    ) {
      throw new HTTPException(400, {
        message: `format ${quoteInput(format)}: expected "csv", "json"${
          paths ? ' or "paths"' : ""
        }`,
      });
    }
    const labels = ctx.labels.labels;
    const name = `labels-${stamp()}${format === "paths" ? "-paths" : ""}.${
      format === "json" ? "json" : "csv"
    }`;
    c.header("Content-Disposition", `attachment; filename="${name}"`);
    c.header("Cache-Control", "no-store");
    if (format === "json") {
      return c.json(
        labelsJson(
          labels,
          ctx.dataset.kind === "images"
            ? { classes: ctx.dataset.classes, paths }
            : undefined,
        ),
      );
    }
    c.header("Content-Type", "text/csv; charset=utf-8");
    if (format === "paths") {
      return c.body(labelsByPathCsv(labels, paths!, ctx.dataset.classes));
    }
    return c.body(
      ctx.labels.exportCsv({ annotator: c.req.query("annotator") === "1" }),
    );
  });

  app.post("/import", async (c) => {
    const req = parseImportBody(
      (await readJsonBody(c, { limit: BODY_LIMITS.import }))!,
    );
    const { source: _, ...who } = writeMeta(c, "import");
    try {
      return c.json(
        await ctx.labels.import(req, ctx.log, who),
      );
    } catch (e) {
      // A row that does not parse: its line and value, for the page to show.
      if (e instanceof ImportError) {
        return c.json({
          error: e.message,
          ...(e.line !== undefined ? { line: e.line } : {}),
          ...(e.value !== undefined ? { value: e.value } : {}),
        }, 400);
      }
      throw e;
    }
  });

  return app;
}
