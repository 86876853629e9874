/**
 * Input validation for the JSON API. Every check names the field and the
 * accepted range, so a 400 tells the caller exactly what to fix. Validation
 * runs before anything is written: a rejected request changes nothing.
 */

import {
  EPOCHS_RANGE,
  TRAINING_RANGES,
  type TrainingParam,
} from "../protocol/limits.ts";
import { clip, quoteInput } from "../quote_input.ts";
import { classRange, isClassIndex } from "../labels/labels_store.ts";
import { HTTPException } from "hono/http-exception";
import {
  CLIENT_ID_HEADER,
  CLIENT_ID_PATTERN,
  CLIENT_SOURCES,
  type LabelSource,
} from "../protocol/label_events.ts";
import { HISTORY_PAGE } from "../protocol/limits.ts";
import type { Context } from "hono";
import type { WriteMeta } from "../protocol/label_events.ts";
import { annotatorOf } from "./auth.ts";

/** A sample index from the URL: decimal digits only ("1e3", "07.0", "-1" refused). */
export function parseIndex(text: string, count: number): number {
  if (!/^\d{1,9}$/.test(text)) {
    throw new HTTPException(400, {
      message: `index ${quoteInput(text)} is not a non-negative integer`,
    });
  }
  const index = Number(text);
  if (index >= count) {
    throw new HTTPException(404, {
      message:
        `index ${index} out of range: the data set has ${count} images (0-${
          count - 1
        })`,
    });
  }
  return index;
}

/**
 * A `limit` query parameter: decimal digits, 1 … `range.max`; absent:
 * `range.default`.
 */
export function parseLimit(
  text: string | undefined,
  range: { default: number; max: number },
): number {
  if (text === undefined) return range.default;
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= range.max)) {
    throw new HTTPException(400, {
      message: `limit ${quoteInput(text)}: expected an integer 1-${range.max}`,
    });
  }
  return n;
}

/** 400 naming the fields of `body` that are not in `allowed` (a route takes only what it knows). */
export function rejectUnknown(
  body: Record<string, unknown>,
  allowed: string[],
) {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HTTPException(400, {
      message: `unknown field${unknown.length > 1 ? "s" : ""} ${
        clip(unknown.map((k) => quoteInput(k)).join(", "))
      }; allowed: ${allowed.length > 0 ? allowed.join(", ") : "none"}`,
    });
  }
}

/**
 * Optional client timestamp (ms since epoch) of when the user made the
 * change; lets an offline client's late replay lose against a newer change.
 */
export function parseClientTime(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < 0 ||
    value > 1e15
  ) {
    throw new HTTPException(400, {
      message: `clientTime ${
        quoteInput(value)
      }: expected milliseconds since 1970 (a number >= 0)`,
    });
  }
  return value;
}

export interface LabelBody {
  label: number;
  clientTime?: number;
  source?: LabelSource;
}

/**
 * A write's `source` field: one a client may name (CLIENT_SOURCES), or
 * undefined when absent (the route's default then).
 */
export function parseSource(value: unknown): LabelSource | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== "string" || !CLIENT_SOURCES.includes(value as LabelSource)
  ) {
    throw new HTTPException(400, {
      message: `source ${quoteInput(value)}: expected one of ${
        CLIENT_SOURCES.join(", ")
      }`,
    });
  }
  return value as LabelSource;
}

/** The request's client id (header X-Client-Id), null when none was sent. */
export function parseClientId(header: string | undefined): string | null {
  if (header === undefined || header === "") return null;
  if (!CLIENT_ID_PATTERN.test(header)) {
    throw new HTTPException(400, {
      message: `${CLIENT_ID_HEADER} ${
        quoteInput(header)
      }: expected 1-64 letters, digits, "_", "-" or "."`,
    });
  }
  return header;
}

/**
 * Who and what a label write is, for the label log: its source, the
 * client id header (400 when malformed) and the signed-in account.
 */
export function writeMeta(c: Context, source: LabelSource): WriteMeta {
  return {
    source,
    client: parseClientId(c.req.header(CLIENT_ID_HEADER)),
    annotator: annotatorOf(c.get("me")),
  };
}

/** `?limit=` of a history request: 1…HISTORY_PAGE.max, default HISTORY_PAGE.default. */
export function parseHistoryLimit(value: string | undefined): number {
  if (value === undefined) return HISTORY_PAGE.default;
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= HISTORY_PAGE.max)) {
    throw new HTTPException(400, {
      message: `limit ${
        quoteInput(value)
      }: expected an integer 1-${HISTORY_PAGE.max}`,
    });
  }
  return n;
}

/** Body of PUT /api/labels/:i — `{ label: 0-9, clientTime? }`, nothing else. */
export function parseLabelBody(
  body: Record<string, unknown>,
  classCount = 10,
): LabelBody {
  rejectUnknown(body, ["label", "clientTime", "source"]);
  const label = body.label;
  if (!("label" in body)) {
    throw new HTTPException(400, { message: 'missing field "label"' });
  }
  if (!isClassIndex(label, classCount)) {
    throw new HTTPException(400, {
      message: `label ${quoteInput(label)}: expected an integer ${
        classRange(classCount)
      } (use DELETE to remove a label)`,
    });
  }
  const source = parseSource(body.source);
  return {
    label,
    clientTime: parseClientTime(body.clientTime),
    ...(source ? { source } : {}),
  };
}

/** Body (optional) of DELETE /api/labels/:i — `{ clientTime? }`. */
export function parseDeleteBody(
  body: Record<string, unknown> | undefined,
  query: string | undefined,
): { clientTime?: number; source?: LabelSource } {
  if (body !== undefined) {
    rejectUnknown(body, ["clientTime", "source"]);
    const source = parseSource(body.source);
    if (body.clientTime !== undefined) {
      return {
        clientTime: parseClientTime(body.clientTime),
        ...(source ? { source } : {}),
      };
    }
    if (source) return { source };
  }
  if (query !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(query)) {
      throw new HTTPException(400, {
        message: `clientTime ${
          quoteInput(query)
        }: expected milliseconds since 1970`,
      });
    }
    return { clientTime: parseClientTime(Number(query)) };
  }
  return {};
}

export interface TrainingRequest {
  epochs: number;
  overrides: Partial<Record<TrainingParam, number>>;
}

/** Body of POST /api/training/start. */
export function parseTrainingBody(
  body: Record<string, unknown>,
): TrainingRequest {
  rejectUnknown(body, ["epochs", ...Object.keys(TRAINING_RANGES)]);
  if (!("epochs" in body)) {
    throw new HTTPException(400, { message: 'missing field "epochs"' });
  }
  const epochs = body.epochs;
  if (
    typeof epochs !== "number" || !Number.isInteger(epochs) ||
    epochs < EPOCHS_RANGE.min || epochs > EPOCHS_RANGE.max
  ) {
    throw new HTTPException(400, {
      message: `epochs ${
        quoteInput(epochs)
      }: expected an integer ${EPOCHS_RANGE.min}-${EPOCHS_RANGE.max}`,
    });
  }
  const overrides: TrainingRequest["overrides"] = {};
  for (const [key, { min, max }] of Object.entries(TRAINING_RANGES)) {
    const value = body[key];
    if (value === undefined) continue;
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < min ||
      value > max
    ) {
      throw new HTTPException(400, {
        message: `${key} ${quoteInput(value)}: expected a number ${min}-${max}`,
      });
    }
    overrides[key as TrainingParam] = value;
  }
  return { epochs, overrides };
}
