/**
 * Request bodies and error answers of the API: every error is a JSON
 * `{ error }` with the status of Hono's HTTPException that carried it, and a
 * JSON body is read under a byte cap (Hono's body-limit: it holds for
 * chunked uploads without Content-Length too).
 */

import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { clip } from "../quote_input.ts";
import { BODY_LIMITS } from "../protocol/limits.ts";

/** Longest error message sent: a backstop for messages that embed input unquoted. */
const ERROR_MESSAGE_LIMIT = 1000;

/** A JSON error response `{ error }`. */
export function jsonError(c: Context, status: number, message: string) {
  // deno-lint-ignore no-explicit-any
  return c.json({ error: clip(message, ERROR_MESSAGE_LIMIT) }, status as any);
}

/** Reads a body of at most `limit` bytes as text (413 over it). */
async function readCapped(c: Context, limit: number): Promise<string> {
  let text = "";
  await bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new HTTPException(413, {
        message: `request body over ${limit} bytes`,
      });
    },
  })(c, async () => {
    text = await c.req.text();
  });
  return text;
}

/**
 * Reads an HTML form's fields (`application/x-www-form-urlencoded`) of at
 * most `limit` bytes; a field given twice keeps its first value.
 */
export async function readFormBody(
  c: Context,
  limit: number,
): Promise<Record<string, string>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new HTTPException(415, {
      message: `expected a form (application/x-www-form-urlencoded), got ${
        type || "no Content-Type"
      }`,
    });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(await readCapped(c, limit))) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}

/**
 * Reads a JSON object body of at most `limit` bytes (BODY_LIMITS.json by
 * default; 413 over it). `optional` lets routes such as DELETE accept an
 * empty body.
 */
export async function readJsonBody(
  c: Context,
  opts: { limit?: number; optional?: boolean } = {},
): Promise<Record<string, unknown> | undefined> {
  const text = await readCapped(c, opts.limit ?? BODY_LIMITS.json);
  if (text.trim() === "") {
    if (opts.optional) return undefined;
    throw new HTTPException(400, { message: "missing JSON body" });
  }
  const type = c.req.header("content-type") ?? "";
  if (type !== "" && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HTTPException(415, {
      message: `expected Content-Type application/json, got ${type}`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HTTPException(400, {
      message: `malformed JSON body: ${(e as Error).message}`,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HTTPException(400, { message: "JSON body must be an object" });
  }
  return value as Record<string, unknown>;
}
