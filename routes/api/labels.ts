/**
 * PUT /api/labels/:i {label, clientTime?} and DELETE /api/labels/:i.
 * The response is sent only after memory and labels.csv both hold the change;
 * every connected client hears about it through the hub.
 *
 * POST /api/labels/sync {ops: [{index, label|null, clientTime}]}: an offline
 * client's queued operations, replayed in order, each last-writer-wins by its
 * own clientTime (lib/client/outbox.ts sends them).
 *
 * GET /api/labels/:i/history?limit=N: the image's label events, newest
 * first. POST /api/labels/batches/:id/revert: undoes a past batch of the
 * label history (lib/labels/label_history.ts), leaving images changed since.
 */

import { quoteInput } from "../../lib/quote_input.ts";
import { classRange, isClassIndex } from "../../lib/labels/labels_store.ts";
import { Hono } from "hono";
import type { ServerContext } from "../../lib/server/context.ts";
import { readJsonBody } from "../../lib/server/http.ts";
import { HTTPException } from "hono/http-exception";
import { assertMayChange, mayChangeLabel } from "../../lib/server/auth.ts";
import { overlapFor } from "../../lib/server/overlap_service.ts";
import {
  parseClientTime,
  parseDeleteBody,
  parseHistoryLimit,
  parseIndex,
  parseLabelBody,
  writeMeta,
} from "../../lib/server/validation.ts";
import { BODY_LIMITS, SYNC_MAX_OPS } from "../../lib/protocol/limits.ts";

/** One queued operation; `error` when it cannot apply here (it is skipped). */
export interface SyncOp {
  index: number;
  label: number | null;
  clientTime: number;
  error?: string;
}

/**
 * Body of POST /api/labels/sync. A malformed body is a 400 for the whole
 * request; an operation that is well-formed but cannot apply on this data
 * set (index out of range) gets its own `error` and the others still apply.
 */
export function parseSyncBody(
  body: Record<string, unknown>,
  count: number,
  classCount = 10,
): SyncOp[] {
  const extra = Object.keys(body).filter((k) => k !== "ops");
  if (extra.length > 0) {
    throw new HTTPException(400, {
      message: `unknown field ${quoteInput(extra[0])}; allowed: ops`,
    });
  }
  const ops = body.ops;
  if (!Array.isArray(ops)) {
    throw new HTTPException(400, {
      message: 'missing field "ops": expected an array',
    });
  }
  if (ops.length > SYNC_MAX_OPS) {
    throw new HTTPException(400, {
      message: `${ops.length} operations: at most ${SYNC_MAX_OPS} per request`,
    });
  }
  return ops.map((op, i): SyncOp => {
    const where = `ops[${i}]`;
    if (op === null || typeof op !== "object" || Array.isArray(op)) {
      throw new HTTPException(400, { message: `${where}: expected an object` });
    }
    const o = op as Record<string, unknown>;
    const unknown = Object.keys(o).filter(
      (k) => !["index", "label", "clientTime"].includes(k),
    );
    if (unknown.length > 0) {
      throw new HTTPException(400, {
        message: `${where}: unknown field ${
          quoteInput(unknown[0])
        }; allowed: index, label, clientTime`,
      });
    }
    const { index, label } = o;
    if (
      typeof index !== "number" || !Number.isInteger(index) || index < 0
    ) {
      throw new HTTPException(400, {
        message: `${where}.index ${
          quoteInput(index)
        }: expected a non-negative integer`,
      });
    }
    if (label !== null && !isClassIndex(label, classCount)) {
      throw new HTTPException(400, {
        message: `${where}.label ${quoteInput(label)}: expected an integer ${
          classRange(classCount)
        } or null (delete)`,
      });
    }
    if (o.clientTime === undefined || o.clientTime === null) {
      throw new HTTPException(400, {
        message: `${where}: missing field "clientTime"`,
      });
    }
    let clientTime: number;
    try {
      clientTime = parseClientTime(o.clientTime)!;
    } catch (e) {
      throw new HTTPException(400, {
        message: `${where}: ${(e as Error).message}`,
      });
    }
    const out: SyncOp = { index, label: label as number | null, clientTime };
    if (index >= count) {
      out.error =
        `index ${index} out of range: the data set has ${count} images`;
    }
    return out;
  });
}

export function labelsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const labelOf = (i: number) => ctx.labels.get(i);
  const ownerOf = (i: number) => ctx.labels.annotatorOf(i);

  app.post("/sync", async (c) => {
    const ops = parseSyncBody(
      (await readJsonBody(c, { limit: BODY_LIMITS.sync }))!,
      ctx.count,
      ctx.labels.classCount,
    );
    const meta = writeMeta(c, "offline-sync");
    const me = c.get("me");
    // An annotator's queued change of someone else's label is refused on
    // its own: the rest of the queue still applies.
    for (const op of ops) {
      if (overlapFor(ctx.overlap, me)?.applies(op.index)) {
        continue;
      }
      if (
        op.error === undefined &&
        !mayChangeLabel(
          me,
          ctx.labels.get(op.index),
          ctx.labels.annotatorOf(op.index),
        )
      ) {
        op.error = `image ${op.index} was labelled by ${
          ctx.labels.annotatorOf(op.index) ?? "someone before accounts"
        }: an annotator changes only their own labels`;
      }
    }
    const overlap = overlapFor(ctx.overlap, me);
    // Each write decides last-writer-wins synchronously when called, so
    // calling them in order applies the operations in order; the label store
    // coalesces the file writes of the whole batch.
    const results = await Promise.all(
      ops.map((op) =>
        op.error !== undefined
          ? { index: op.index, label: null, applied: false, error: op.error }
          : overlap && overlap.applies(op.index)
          ? overlap.annotate(me.name, op.index, op.label, meta)
          : ctx.labels.write(op.index, op.label, op.clientTime, meta)
      ),
    );
    // The authoritative value of every index the batch touched.
    const labels = [...new Set(ops.map((o) => o.index))]
      .filter((i) => i < ctx.count)
      .map((index) => ({ index, label: ctx.labels.get(index) }));
    c.header("Cache-Control", "no-store");
    return c.json({ results, labels, counts: ctx.labels.counts() });
  });

  app.post("/batches/:id/revert", async (c) => {
    const raw = c.req.param("id");
    const id = /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
    if (!(id >= 1)) {
      throw new HTTPException(400, {
        message: `batch ${quoteInput(raw)}: expected a positive integer`,
      });
    }
    const { source: _, ...who } = writeMeta(c, "revert");
    const result = await ctx.labels.revertBatch(id, who);
    return c.json({ ...result, counts: ctx.labels.counts() });
  });

  // Before "/:i": "sources" is no index.
  app.get("/sources", (c) => {
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "application/octet-stream");
    return c.body(ctx.labels.sources().slice());
  });

  app.get("/:i/history", (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const limit = parseHistoryLimit(c.req.query("limit"));
    const me = c.get("me");
    c.header("Cache-Control", "no-store");
    // An annotator sees their own part of an image's history.
    return c.json(
      ctx.labels.history(
        index,
        limit,
        me.team && me.role === "annotator" ? me.name : undefined,
      ),
    );
  });

  app.get("/:i", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const me = c.get("me");
    const overlap = overlapFor(ctx.overlap, me);
    const label = overlap
      ? await overlap.labelFor(me.name, index)
      : ctx.labels.get(index);
    return c.json({ index, label });
  });

  app.put("/:i", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const body = parseLabelBody(
      (await readJsonBody(c))!,
      ctx.labels.classCount,
    );
    const meta = writeMeta(c, body.source ?? "api");
    const me = c.get("me");
    // Overlap: an annotator's label of an unlabelled image is their
    // annotation until K agree (lib/server/overlap_service.ts).
    const overlap = overlapFor(ctx.overlap, me);
    if (overlap?.applies(index)) {
      return c.json(await overlap.annotate(me.name, index, body.label, meta));
    }
    assertMayChange(me, [index], labelOf, ownerOf);
    const result = await ctx.labels.write(
      index,
      body.label,
      body.clientTime,
      meta,
    );
    return c.json(result);
  });

  app.delete("/:i", async (c) => {
    const index = parseIndex(c.req.param("i"), ctx.count);
    const { clientTime, source } = parseDeleteBody(
      await readJsonBody(c, { optional: true }),
      c.req.query("clientTime"),
    );
    const meta = writeMeta(c, source ?? "api");
    const me = c.get("me");
    const overlap = overlapFor(ctx.overlap, me);
    if (overlap?.applies(index)) {
      return c.json(await overlap.annotate(me.name, index, null, meta));
    }
    assertMayChange(me, [index], labelOf, ownerOf);
    const result = await ctx.labels.write(index, null, clientTime, meta);
    return c.json(result);
  });

  return app;
}
