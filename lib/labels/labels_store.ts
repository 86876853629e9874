/**
 * The user's labels, kept in memory and in `labels.csv` (header `Serial,label`,
 * one row per labelled image, sorted by Serial).
 *
 * Every change is written atomically (temp file, fsync, rename, fsync of the
 * directory) and writes never overlap; changes queued while a write is in flight
 * share the next write. A change's promise resolves only once a file holding it
 * is on disk, and the in-memory labels change only then, so memory and file agree.
 */

import { clip, quoteInput } from "../quote_input.ts";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { dirname } from "node:path";
import { removeStaleTempFiles, writeFileAtomic } from "../atomic_file.ts";

/** A bad label, index or labels file. For CSV rows it names the line and the value. */
export class LabelError extends Error {
  /** 1-based line of the offending CSV row, when the error comes from a file. */
  readonly line?: number;
  /** The offending value as written in the file, when the error comes from a file. */
  readonly value?: string;

  constructor(
    message: string,
    details: { line?: number; value?: string } = {},
  ) {
    super(message);
    this.name = "LabelError";
    this.line = details.line;
    // Quoted back to API callers: a 4 MB field must not come back whole.
    this.value = details.value === undefined ? undefined : clip(details.value);
  }
}

/** One change: a label 0–9, or `null` to remove the label. */
export interface LabelChange {
  index: number;
  label: number | null;
}

const HEADER = ["Serial", "label"];
const INTEGRAL = /^-?\d+(\.0*)?$/; // "42144" and old float serials like "42144.0"

interface PendingWrite {
  changes: LabelChange[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The labels file of one dataset of `count` images. */
export class LabelStore {
  /** The CSV file. */
  readonly path: string;
  /** Number of images: valid indices are `0..count-1`. */
  readonly count: number;
  /** Length `count`, NaN = unlabelled. Live view: updated after each durable write. */
  readonly labels: Float32Array;

  #writeCount = 0;
  #pending: PendingWrite[] = [];
  #flushing: Promise<void> | null = null;

  private constructor(path: string, count: number, labels: Float32Array) {
    this.path = path;
    this.count = count;
    this.labels = labels;
  }

  /**
   * Opens the labels file, creating it (header only, parent folders too) when missing.
   * Throws a LabelError naming the line and value of the first bad row.
   */
  static async open(path: string, count: number): Promise<LabelStore> {
    if (!Number.isInteger(count) || count <= 0) {
      throw new RangeError(`count must be a positive integer, got ${count}`);
    }
    let text: string | null = null;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (text !== null) {
      const store = new LabelStore(
        path,
        count,
        parseLabelsCsv(text, count, path),
      );
      await removeStaleTempFiles(path);
      return store;
    }
    const store = new LabelStore(
      path,
      count,
      new Float32Array(count).fill(NaN),
    );
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, formatLabelsCsv(store.labels));
    store.#writeCount++;
    return store;
  }

  /** Throws a LabelError unless `label` is an integer 0–9. */
  static validateLabel(label: unknown): asserts label is number {
    if (!isLabel(label)) {
      throw new LabelError(
        `label must be an integer 0-9, got ${describe(label)}`,
      );
    }
  }

  /** Throws a LabelError unless `index` is an integer in `0..count-1`. */
  static validateIndex(index: unknown, count: number): asserts index is number {
    if (!isIndex(index, count)) {
      throw new LabelError(
        `index must be an integer 0-${count - 1}, got ${describe(index)}`,
      );
    }
  }

  /** Number of completed file writes by this store (for tests and diagnostics). */
  get writeCount(): number {
    return this.#writeCount;
  }

  /** The label of image `index`, or null when it has none. */
  get(index: number): number | null {
    LabelStore.validateIndex(index, this.count);
    const label = this.labels[index];
    return Number.isNaN(label) ? null : label;
  }

  /** Labels image `index`; resolves once the file holding the label is on disk. */
  set(index: number, label: number): Promise<void> {
    try {
      LabelStore.validateIndex(index, this.count);
      LabelStore.validateLabel(label);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue([{ index, label }]);
  }

  /** Removes the label of image `index` (its row); resolves once on disk. */
  delete(index: number): Promise<void> {
    try {
      LabelStore.validateIndex(index, this.count);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue([{ index, label: null }]);
  }

  /**
   * Applies several changes in order as one atomic write. All are validated first:
   * one bad change rejects the call and changes nothing.
   */
  setMany(
    changes: Array<{ index: number; label: number | null }>,
  ): Promise<void> {
    const copy: LabelChange[] = [];
    try {
      changes.forEach(({ index, label }, i) => {
        try {
          LabelStore.validateIndex(index, this.count);
          if (label !== null) LabelStore.validateLabel(label);
        } catch (err) {
          throw new LabelError(`changes[${i}]: ${(err as Error).message}`);
        }
        copy.push({ index, label });
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (copy.length === 0) return Promise.resolve();
    return this.#enqueue(copy);
  }

  /** Number of labelled images. */
  labelledCount(): number {
    let n = 0;
    for (let i = 0; i < this.labels.length; i++) {
      if (!Number.isNaN(this.labels[i])) n++;
    }
    return n;
  }

  /** Number of labelled images per class, length 10. */
  countsPerClass(): number[] {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < this.labels.length; i++) {
      const label = this.labels[i];
      if (!Number.isNaN(label)) counts[label]++;
    }
    return counts;
  }

  /** Resolves when no write is queued or in flight (e.g. before shutting down). */
  async whenIdle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  #enqueue(changes: LabelChange[]): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ changes, resolve, reject });
    this.#flushing ??= this.#flush();
    return promise;
  }

  /** The single writer: drains the queue, one file write per batch of queued changes. */
  async #flush(): Promise<void> {
    try {
      // Let callers in the same tick queue up, so a burst costs one write.
      await Promise.resolve();
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0);
        // Build the next state aside: memory changes only after the file write succeeds,
        // so a failed write leaves memory as it was (matching the file).
        const next = this.labels.slice();
        for (const { changes } of batch) {
          for (const { index, label } of changes) next[index] = label ?? NaN;
        }
        try {
          await writeFileAtomic(this.path, formatLabelsCsv(next));
          this.#writeCount++;
          this.labels.set(next);
        } catch (err) {
          for (const op of batch) op.reject(err);
          continue;
        }
        for (const op of batch) op.resolve();
      }
    } finally {
      this.#flushing = null;
    }
  }
}

function isLabel(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= 9;
}

function isIndex(value: unknown, count: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value < count;
}

function describe(value: unknown): string {
  return typeof value === "number" ? String(value) : quoteInput(value);
}

/** Parses an integer written as "7" or "7.0"; null for anything else. */
function parseIntegral(text: string): number | null {
  return INTEGRAL.test(text) ? Number(text) : null;
}

/**
 * Parses labels.csv text into a Float32Array of length `count` (NaN = unlabelled).
 * Tolerates a BOM, blank lines, mixed line ends (CRLF, LF, CR), float serials (`42144.0`) and empty labels
 * (unlabelled); an empty file has no labels. When a Serial repeats, the last row wins.
 */
export function parseLabelsCsv(
  text: string,
  count: number,
  path = "labels.csv",
): Float32Array {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // With `info: true` each record comes as { record, info }; the typings don't model that.
    records = parse(text, {
      bom: true,
      // Any mix of line ends: by default csv-parse takes the first line's
      // ending for all, so an LF row in a CRLF file (an edited export) fused
      // with the next one into a misleading "3 fields" error.
      record_delimiter: ["\r\n", "\n", "\r"],
      info: true,
      trim: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
    }) as unknown as typeof records;
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new LabelError(`${path}: malformed CSV: ${(err as Error).message}`, {
      line,
    });
  }
  const labels = new Float32Array(count).fill(NaN);
  if (records.length === 0) return labels;

  const header = records[0];
  if (
    header.record.length !== 2 || header.record[0] !== HEADER[0] ||
    header.record[1] !== HEADER[1]
  ) {
    const value = header.record.join(",");
    throw new LabelError(
      `${path}: line ${header.info.lines}: expected header "${
        HEADER.join(",")
      }", got ${quoteInput(value)}`,
      { line: header.info.lines, value },
    );
  }
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    if (record.length !== 2) {
      const value = record.join(",");
      throw new LabelError(
        `${path}: line ${line}: expected 2 fields (Serial,label), got ${record.length}: ${
          quoteInput(value)
        }`,
        { line, value },
      );
    }
    const [serialText, labelText] = record;
    const index = parseIntegral(serialText);
    if (index === null || !isIndex(index, count)) {
      throw new LabelError(
        `${path}: line ${line}: Serial must be an integer 0-${count - 1}, got ${
          quoteInput(serialText)
        }`,
        { line, value: serialText },
      );
    }
    if (labelText === "") {
      labels[index] = NaN;
      continue;
    }
    const label = parseIntegral(labelText);
    if (label === null || !isLabel(label)) {
      throw new LabelError(
        `${path}: line ${line}: label must be an integer 0-9, got ${
          quoteInput(labelText)
        }`,
        { line, value: labelText },
      );
    }
    labels[index] = label;
  }
  return labels;
}

/** Formats labels (NaN = unlabelled) as labels.csv text: header, then rows by Serial. */
export function formatLabelsCsv(labels: Float32Array): string {
  const rows: number[][] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i])) rows.push([i, labels[i]]);
  }
  return stringify(rows, { header: true, columns: HEADER });
}
