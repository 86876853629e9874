/**
 * Many labels at once: the batch body of `PUT /api/labels`, the import body of
 * `POST /api/labels/import` and its diff (preview), and the export formats.
 * Pure functions: every check runs before anything is written, so a rejected
 * request changes nothing.
 */

import { quoteInput } from "../quote_input.ts";
import { stringify } from "csv-stringify/sync";
import {
  classRange,
  isClassIndex,
  LabelError,
  type LabelStore,
  parseLabelsCsv,
} from "../labels/labels_store.ts";
import type { LabelChange } from "../protocol/api.ts";
import { MAX_BATCH } from "../protocol/limits.ts";
import { HTTPException } from "hono/http-exception";
import { parseClientTime, parseSource, rejectUnknown } from "./validation.ts";
import type { LabelSource } from "../protocol/label_events.ts";

export interface BatchBody {
  changes: LabelChange[];
  clientTime?: number;
  source?: LabelSource;
}

/**
 * Body of `PUT /api/labels`: `{ changes: [{index, label: 0-9 | null}], clientTime? }`.
 * 1..MAX_BATCH changes, distinct indices in range; an error names the entry.
 */
export function parseBatchBody(
  body: Record<string, unknown>,
  count: number,
  classCount = 10,
): BatchBody {
  rejectUnknown(body, ["changes", "clientTime", "source"]);
  const list = body.changes;
  if (!Array.isArray(list)) {
    throw new HTTPException(400, {
      message: 'field "changes" must be an array of {index, label}',
    });
  }
  if (list.length === 0) {
    throw new HTTPException(400, { message: '"changes" is empty' });
  }
  if (list.length > MAX_BATCH) {
    throw new HTTPException(413, {
      message: `${list.length} changes: at most ${MAX_BATCH} per batch`,
    });
  }
  const seen = new Set<number>();
  const changes: LabelChange[] = [];
  list.forEach((c, i) => {
    if (c === null || typeof c !== "object" || Array.isArray(c)) {
      throw new HTTPException(400, {
        message: `changes[${i}]: expected {index, label}`,
      });
    }
    const entry = c as Record<string, unknown>;
    const extra = Object.keys(entry).filter((k) =>
      k !== "index" && k !== "label"
    );
    if (extra.length > 0) {
      throw new HTTPException(400, {
        message: `changes[${i}]: unknown field ${
          quoteInput(extra[0])
        }; allowed: index, label`,
      });
    }
    const { index, label } = entry;
    if (
      typeof index !== "number" || !Number.isInteger(index) || index < 0 ||
      index >= count
    ) {
      throw new HTTPException(400, {
        message: `changes[${i}]: index ${
          quoteInput(index)
        }: expected an integer 0-${count - 1}`,
      });
    }
    if (!("label" in entry)) {
      throw new HTTPException(400, {
        message: `changes[${i}]: missing "label" (${
          classRange(classCount)
        }, or null to remove)`,
      });
    }
    if (label !== null && !isClassIndex(label, classCount)) {
      throw new HTTPException(400, {
        message: `changes[${i}]: label ${
          quoteInput(label)
        }: expected an integer ${classRange(classCount)} or null`,
      });
    }
    if (seen.has(index)) {
      throw new HTTPException(400, {
        message: `changes[${i}]: index ${index} appears twice in the batch`,
      });
    }
    seen.add(index);
    changes.push({ index, label: label as number | null });
  });
  const source = parseSource(body.source);
  return {
    changes,
    clientTime: parseClientTime(body.clientTime),
    ...(source ? { source } : {}),
  };
}

export type ImportMode = "merge" | "replace";

export interface ImportBody {
  csv: string;
  mode: ImportMode;
  dryRun: boolean;
  /** File name for messages (shown, never opened). */
  name: string;
  /** Apply only if the labels are still at this revision (the preview's). */
  ifRevision?: number;
}

/** Body of `POST /api/labels/import`. */
export function parseImportBody(body: Record<string, unknown>): ImportBody {
  rejectUnknown(body, ["csv", "mode", "dryRun", "name", "ifRevision"]);
  if (typeof body.csv !== "string") {
    throw new HTTPException(400, {
      message: 'field "csv" must be the CSV text (a string)',
    });
  }
  // Absent means the default; null is a value, and not a valid one (with `??`
  // a `"dryRun": null` used to apply the import the caller meant to preview).
  const mode = body.mode === undefined ? "merge" : body.mode;
  if (mode !== "merge" && mode !== "replace") {
    throw new HTTPException(400, {
      message: `mode ${quoteInput(mode)}: expected "merge" or "replace"`,
    });
  }
  const dryRun = body.dryRun === undefined ? false : body.dryRun;
  if (typeof dryRun !== "boolean") {
    throw new HTTPException(400, {
      message: `dryRun ${quoteInput(dryRun)}: expected true or false`,
    });
  }
  let name = "import.csv";
  if (body.name !== undefined) {
    if (typeof body.name !== "string" || body.name.length > 200) {
      throw new HTTPException(400, {
        message: "name must be a string of at most 200 chars",
      });
    }
    // Only for messages: keep it printable.
    name = body.name.replace(/[^\w .()+-]/g, "_") || name;
  }
  let ifRevision: number | undefined;
  if (body.ifRevision !== undefined) {
    const r = body.ifRevision;
    if (typeof r !== "number" || !Number.isInteger(r) || r < 0) {
      throw new HTTPException(400, {
        message: "ifRevision must be a non-negative integer",
      });
    }
    ifRevision = r;
  }
  return { csv: body.csv, mode, dryRun, name, ifRevision };
}

/** A CSV row that does not parse: 400 with the line and value named. */
export class ImportError extends HTTPException {
  constructor(
    message: string,
    readonly line?: number,
    readonly value?: string,
  ) {
    super(400, { message });
  }
}

/**
 * Parses an uploaded labels CSV (same rules as labels.csv, through the
 * store's own layout when given one); errors name the line.
 */
export function parseImportCsv(
  text: string,
  target: number | Pick<LabelStore, "parse">,
  name: string,
): Float32Array {
  try {
    return typeof target === "number"
      ? parseLabelsCsv(text, target, name)
      : target.parse(text, name);
  } catch (e) {
    if (e instanceof LabelError) {
      throw new ImportError(e.message, e.line, e.value);
    }
    throw e;
  }
}

export interface ImportRow {
  index: number;
  before: number | null;
  after: number | null;
}

export interface ImportDiff {
  /** The changes to apply, ascending by index. */
  changes: LabelChange[];
  added: number;
  changed: number;
  removed: number;
  /** Rows of the file whose label is already set so. */
  unchanged: number;
  /** Labels in the file. */
  rows: number;
  /** Labels after the import. */
  labelledAfter: number;
  /** Up to `sampleSize` rows of each kind, for the preview. */
  sample: { added: ImportRow[]; changed: ImportRow[]; removed: ImportRow[] };
}

/**
 * What importing `incoming` (NaN = no label in the file) does to `current`.
 * merge: the file's labels are set, every other label stays.
 * replace: afterwards the labels are exactly the file's (the rest removed).
 */
export function importDiff(
  current: Float32Array,
  incoming: Float32Array,
  mode: ImportMode,
  sampleSize = 10,
): ImportDiff {
  const out: ImportDiff = {
    changes: [],
    added: 0,
    changed: 0,
    removed: 0,
    unchanged: 0,
    rows: 0,
    labelledAfter: 0,
    sample: { added: [], changed: [], removed: [] },
  };
  const note = (kind: "added" | "changed" | "removed", row: ImportRow) => {
    out[kind]++;
    if (out.sample[kind].length < sampleSize) out.sample[kind].push(row);
    out.changes.push({ index: row.index, label: row.after });
  };
  for (let i = 0; i < current.length; i++) {
    const cur = current[i];
    const inc = incoming[i];
    const before = Number.isNaN(cur) ? null : cur;
    if (!Number.isNaN(inc)) out.rows++;
    const after = Number.isNaN(inc) ? (mode === "merge" ? before : null) : inc;
    if (after !== null) out.labelledAfter++;
    if (before === after) {
      // Rows of the file that already hold their label.
      if (!Number.isNaN(inc)) out.unchanged++;
    } else if (before === null) note("added", { index: i, before, after });
    else if (after === null) note("removed", { index: i, before, after });
    else note("changed", { index: i, before, after });
  }
  return out;
}

/** JSON export: `{ format, count, labelled, labels: [{index, label}] }`. */
export function labelsJson(
  labels: Float32Array,
  names?: { classes: string[]; paths?: string[] },
): Record<string, unknown> {
  const rows: Array<
    { index: number; label: number; class?: string; path?: string }
  > = [];
  for (let i = 0; i < labels.length; i++) {
    if (Number.isNaN(labels[i])) continue;
    rows.push({
      index: i,
      label: labels[i],
      ...(names ? { class: names.classes[labels[i]] } : {}),
      ...(names?.paths ? { path: names.paths[i] } : {}),
    });
  }
  return {
    format: "ssvae-labels/1",
    count: labels.length,
    labelled: rows.length,
    exportedAt: new Date().toISOString(),
    ...(names ? { classes: names.classes } : {}),
    labels: rows,
  };
}

/** `path,class` CSV of an image folder's labels: the file and the class name. */
export function labelsByPathCsv(
  labels: Float32Array,
  paths: string[],
  classes: string[],
): string {
  const rows: string[][] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i])) rows.push([paths[i], classes[labels[i]]]);
  }
  return stringify(rows, { header: true, columns: ["path", "class"] });
}

/**
 * labels.csv's rows with a third column, the account that made each label
 * (`GET /api/labels/export?annotator=1`); empty where none is known (no
 * accounts then, or the label came from the file itself).
 */
export function labelsWithAnnotatorCsv(
  labels: Float32Array,
  serialOf: (index: number) => number,
  annotatorOf: (index: number) => string | null,
): string {
  const rows: Array<[number, number, string]> = [];
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i])) {
      rows.push([serialOf(i), labels[i], annotatorOf(i) ?? ""]);
    }
  }
  rows.sort((a, b) => a[0] - b[0]);
  return stringify(rows, {
    header: true,
    columns: ["Serial", "label", "annotator"],
  });
}
