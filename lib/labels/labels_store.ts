/**
 * The user's labels, kept in memory and in `labels.csv` (header `Serial,label`,
 * one row per labelled image, sorted by Serial).
 *
 * For MNIST a Serial is the image's index. For an image folder the index file
 * (lib/images/index_file.ts) gives every file a serial that never changes, and
 * `layout.serials` maps the data set's images to them; rows whose serial is not
 * in the data set (a removed or held-out file) are kept as they are.
 *
 * Every change is written atomically (temp file, fsync, rename, fsync of the
 * directory) and writes never overlap; changes queued while a write is in flight
 * share the next write. A change's promise resolves only once a file holding it
 * is on disk, and the in-memory labels change only then, so memory and file agree.
 *
 * With `history`, each write's events (image, old and new label, source,
 * client) are appended to the label log right after the CSV's rename
 * (lib/labels/label_history.ts). The log never blocks a label: if it cannot
 * be written the label still is, and `historyWarning` says so.
 */

import { clip, quoteInput } from "../quote_input.ts";
import type { DataNotice } from "../protocol/api.ts";
import { makeNotice, noticeLines } from "../notices.ts";
import { parse } from "csv-parse/sync";
import { dirname } from "node:path";
import { removeStaleTempFiles, writeFileAtomic } from "../atomic_file.ts";
import { labelSourceCode, type WriteMeta } from "../protocol/label_events.ts";
import {
  type HistoryChange,
  historyPath,
  LabelHistory,
} from "./label_history.ts";

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

/** How labels.csv maps to the data set: serial of each image, number of classes. */
export interface LabelLayout {
  /** Serial of each image (index → Serial); absent: the Serial is the index. */
  serials?: Uint32Array;
  /** Labels are 0 … classCount-1 (default 10: MNIST's digits). */
  classCount?: number;
}

/** Labels of a labels.csv text: per image, and the rows of serials not in the data set. */
export interface ParsedLabels {
  labels: Float32Array;
  /** Serial → label of rows whose serial no image of the data set has. */
  orphans: Map<number, number>;
  /** Serials on more than one row: the last row wins (see DuplicateSerial). */
  duplicates: DuplicateSerial[];
}

/** A Serial that labels.csv has on several rows; the last one is kept. */
export interface DuplicateSerial {
  serial: number;
  /** 1-based lines of its rows, in file order. */
  lines: number[];
  /** The label of each row as written ("" = unlabelled). */
  labels: string[];
}

/** One change: a label 0–9, or `null` to remove the label. */
export interface LabelChange {
  index: number;
  label: number | null;
}

const HEADER = ["Serial", "label"];
const INTEGRAL = /^-?\d+(\.0*)?$/; // "42144" and old float serials like "42144.0"

/** Options of LabelStore.open. */
export interface StoreOptions {
  /** Keep the label log beside the CSV (the server and the CLI do). */
  history?: boolean;
  /** Where warnings go (a log moved aside, a CSV rebuilt from the log). */
  warn?: (line: string) => void;
  /**
   * Runs after each write is in labels.csv and the local log and before it
   * is acknowledged, with its changes: a team server on PostgreSQL shares
   * them there (lib/team/pg_label_feed.ts), so an acknowledged label is
   * never only on one machine. A failure is a warning, not a lost label.
   */
  afterWrite?: (writes: CommittedWrite[]) => Promise<void>;
}

/** One write as labels.csv now holds it: its changes (by serial) and meta. */
export interface CommittedWrite {
  changes: HistoryChange[];
  meta: WriteMeta;
}

/** A write's source when its caller names none. */
const DEFAULT_META: WriteMeta = { source: "api" };

interface PendingWrite {
  changes: LabelChange[];
  meta: WriteMeta;
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
  /** Labels are 0 … classCount-1. */
  readonly classCount: number;
  readonly #layout: LabelLayout;
  /** Rows of labels.csv for serials not in the data set: written back untouched. */
  readonly #orphans: Map<number, number>;

  /** The label log, when kept. */
  readonly history: LabelHistory | null;
  /** Why the log is not being written or was started afresh, if so. */
  historyWarning: string | null = null;
  /** What opening the file found and resolved (repeated serials, a rebuild): printed, and for the page. */
  readonly notices: DataNotice[] = [];
  readonly #warn: (line: string) => void;
  /**
   * History batch of the write that set each image's label (−1: none or
   * not known): the self-check holds one write's labels out together.
   */
  readonly batchOf: Int32Array;
  /**
   * The source of each image's latest label event (`labelSourceCode`: 0
   * for none known), from the log at open and every write.
   */
  readonly sourceOf: Uint8Array;
  /**
   * The account that made each image's latest label event, where one did
   * (accounts: lib/protocol/team.ts); from the log at open and every write.
   */
  readonly #annotatorOf = new Map<number, string>();
  /** The history batch of the last logged write. */
  #lastBatch = -1;
  #afterWrite: ((writes: CommittedWrite[]) => Promise<void>) | null = null;

  #writeCount = 0;
  #pending: PendingWrite[] = [];
  #flushing: Promise<void> | null = null;

  private constructor(
    path: string,
    count: number,
    parsed: ParsedLabels,
    layout: LabelLayout,
    history: LabelHistory | null = null,
    warn: (line: string) => void = () => {},
  ) {
    this.history = history;
    this.#warn = warn;
    this.batchOf = new Int32Array(count).fill(-1);
    this.sourceOf = new Uint8Array(count);
    this.path = path;
    this.count = count;
    this.labels = parsed.labels;
    this.#orphans = parsed.orphans;
    this.#layout = layout;
    this.classCount = layout.classCount ?? 10;
  }

  /**
   * Opens the labels file, creating it (header only, parent folders too) when missing.
   * Throws a LabelError naming the line and value of the first bad row.
   */
  static async open(
    path: string,
    count: number,
    layout: LabelLayout = {},
    options: StoreOptions = {},
  ): Promise<LabelStore> {
    const warn = options.warn ?? ((line: string) => console.warn(line));
    if (!Number.isInteger(count) || count <= 0) {
      throw new RangeError(`count must be a positive integer, got ${count}`);
    }
    if (layout.serials && layout.serials.length !== count) {
      throw new RangeError(
        `${layout.serials.length} serials for ${count} images`,
      );
    }
    let text: string | null = null;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    let history: LabelHistory | null = null;
    let historyWarning: string | null = null;
    if (options.history) {
      await Deno.mkdir(dirname(path), { recursive: true });
      try {
        const opened = LabelHistory.open(historyPath(path));
        history = opened.history;
        historyWarning = opened.warning ?? null;
        history.setLayout(layout.serials);
      } catch (e) {
        historyWarning = `label history ${historyPath(path)}: ${
          (e as Error).message
        }; labels are saved without it`;
      }
      if (historyWarning) warn(historyWarning);
    }
    const notices: DataNotice[] = [];
    if (historyWarning) notices.push(makeNotice("labels-file", historyWarning));
    let rebuilt = false;
    if (text === null && history && history.size > 0) {
      // labels.csv is gone but its log is not: the log's last state is it.
      const state = history.stateBySerial();
      const rows = [...state].filter(([, l]) => l !== null)
        .sort((a, b) => a[0] - b[0]);
      text = "Serial,label\n" + rows.map(([s, l]) => `${s},${l}\n`).join("");
      rebuilt = true;
      const said =
        `${path} was missing: rebuilt from the label history (${rows.length} labels)`;
      warn(said);
      notices.push(makeNotice("labels-file", said));
    }
    const parsed = text !== null ? parseLabelFile(text, count, path, layout) : {
      labels: new Float32Array(count).fill(NaN),
      orphans: new Map(),
      duplicates: [],
    };
    const store = new LabelStore(path, count, parsed, layout, history, warn);
    store.#afterWrite = options.afterWrite ?? null;
    store.historyWarning = historyWarning;
    if (parsed.duplicates.length > 0) {
      const n = duplicateNotice(path, parsed.duplicates);
      for (const line of noticeLines(n)) warn(line);
      notices.push(n);
    }
    store.notices.push(...notices);
    if (text === null || rebuilt) {
      await Deno.mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, store.format(store.labels));
      store.#writeCount++;
    } else {
      await removeStaleTempFiles(path);
    }
    if (history) {
      try {
        const n = history.reconcile(store.bySerial());
        if (n > 0 && history.size > n) {
          warn(
            `label history: ${n} labels of ${path} were not in the log (a write the log missed, or an edit by hand): logged as "recovered"`,
          );
        }
        const last = history.lastBySerial();
        for (let i = 0; i < count; i++) {
          const e = last.get(store.serialOf(i));
          store.batchOf[i] = e?.batch ?? -1;
          store.sourceOf[i] = labelSourceCode(e?.source);
          if (e?.annotator) store.#annotatorOf.set(i, e.annotator);
        }
      } catch (e) {
        store.#historyFailed(e);
      }
    }
    return store;
  }

  /** The serial of image `index` in labels.csv. */
  serialOf(index: number): number {
    return this.#layout.serials ? this.#layout.serials[index] : index;
  }

  /** Every row labels.csv holds: serial → label (the kept rows included). */
  bySerial(): Map<number, number> {
    const out = new Map<number, number>();
    for (let i = 0; i < this.labels.length; i++) {
      if (!Number.isNaN(this.labels[i])) {
        out.set(this.serialOf(i), this.labels[i]);
      }
    }
    for (const [serial, label] of this.#orphans) out.set(serial, label);
    return out;
  }

  /** The account that made image `index`'s latest label event (null: none known). */
  annotatorOf(index: number): string | null {
    return this.#annotatorOf.get(index) ?? null;
  }

  /** The history batch of the last write that changed something (−1: none yet). */
  get lastBatch(): number {
    return this.#lastBatch;
  }

  /** Closes the label log (the CSV needs no closing). */
  close(): void {
    this.history?.close();
  }

  #historyFailed(e: unknown) {
    const first = this.historyWarning === null;
    this.historyWarning = `label history ${this.history?.path}: ${
      (e as Error).message
    }; labels.csv is saved, the log misses this change`;
    if (first) this.#warn(this.historyWarning);
  }

  /** Throws a LabelError unless `label` is an integer 0 … classCount-1. */
  static validateLabel(
    label: unknown,
    classCount = 10,
  ): asserts label is number {
    if (!isLabel(label, classCount)) {
      throw new LabelError(
        `label must be an integer ${classRange(classCount)}, got ${
          describe(label)
        }`,
      );
    }
  }

  /** labels.csv text of `labels` (this data set's serials, the kept rows included). */
  format(labels: Float32Array): string {
    return formatLabelsCsv(labels, this.#layout.serials, this.#orphans);
  }

  /** Parses a labels CSV of this data set (e.g. an import); rows of unknown serials are left out. */
  parse(text: string, name: string): Float32Array {
    return parseLabelFile(text, this.count, name, this.#layout).labels;
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
  set(
    index: number,
    label: number,
    meta: WriteMeta = DEFAULT_META,
  ): Promise<void> {
    try {
      LabelStore.validateIndex(index, this.count);
      LabelStore.validateLabel(label, this.classCount);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue([{ index, label }], meta);
  }

  /** Removes the label of image `index` (its row); resolves once on disk. */
  delete(index: number, meta: WriteMeta = DEFAULT_META): Promise<void> {
    try {
      LabelStore.validateIndex(index, this.count);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue([{ index, label: null }], meta);
  }

  /**
   * Applies several changes in order as one atomic write. All are validated first:
   * one bad change rejects the call and changes nothing.
   */
  setMany(
    changes: Array<{ index: number; label: number | null }>,
    meta: WriteMeta = DEFAULT_META,
  ): Promise<void> {
    const copy: LabelChange[] = [];
    try {
      changes.forEach(({ index, label }, i) => {
        try {
          LabelStore.validateIndex(index, this.count);
          if (label !== null) LabelStore.validateLabel(label, this.classCount);
        } catch (err) {
          throw new LabelError(`changes[${i}]: ${(err as Error).message}`);
        }
        copy.push({ index, label });
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (copy.length === 0) return Promise.resolve();
    return this.#enqueue(copy, meta);
  }

  /** Number of labelled images. */
  labelledCount(): number {
    let n = 0;
    for (let i = 0; i < this.labels.length; i++) {
      if (!Number.isNaN(this.labels[i])) n++;
    }
    return n;
  }

  /** Number of labelled images per class, length classCount. */
  countsPerClass(): number[] {
    const counts = new Array<number>(this.classCount).fill(0);
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

  #enqueue(changes: LabelChange[], meta: WriteMeta): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ changes, meta, resolve, reject });
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
        // Each write's events, old label included, in the order applied.
        const logged: Array<{ changes: HistoryChange[]; meta: WriteMeta }> = [];
        const touched: number[][] = [];
        for (const { changes, meta } of batch) {
          const events: HistoryChange[] = [];
          const indices: number[] = [];
          for (const { index, label } of changes) {
            const from = Number.isNaN(next[index]) ? null : next[index];
            if (from !== label) {
              events.push({ serial: this.serialOf(index), from, to: label });
              indices.push(index);
            }
            next[index] = label ?? NaN;
          }
          logged.push({ changes: events, meta });
          touched.push(indices);
        }
        try {
          await writeFileAtomic(this.path, this.format(next));
          this.#writeCount++;
          this.labels.set(next);
        } catch (err) {
          for (const op of batch) op.reject(err);
          continue;
        }
        // After the CSV: a crash in between leaves the log behind, and the
        // next open logs the difference as "recovered".
        if (this.history) {
          try {
            this.history.append(logged).forEach((id, k) => {
              if (id < 0) return;
              this.#lastBatch = id;
              const code = labelSourceCode(logged[k].meta.source);
              const annotator = logged[k].meta.annotator ?? null;
              for (const i of touched[k]) {
                this.batchOf[i] = id;
                this.sourceOf[i] = code;
                if (annotator) this.#annotatorOf.set(i, annotator);
                else this.#annotatorOf.delete(i);
              }
            });
          } catch (err) {
            this.#historyFailed(err);
          }
        }
        if (this.#afterWrite) {
          try {
            await this.#afterWrite(logged.filter((w) => w.changes.length > 0));
          } catch (err) {
            this.#warn(
              `labels saved here but not shared: ${(err as Error).message}`,
            );
          }
        }
        for (const op of batch) op.resolve();
      }
    } finally {
      this.#flushing = null;
    }
  }
}

function isLabel(value: unknown, classCount = 10): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value < classCount;
}

/** "0-9" for ten classes: the one wording of a label's range in messages. */
export function classRange(classCount: number): string {
  return classCount === 1 ? "0" : `0-${classCount - 1}`;
}

/** True for an integer label 0 … classCount-1 (the one check of a label's range). */
export function isClassIndex(
  value: unknown,
  classCount: number,
): value is number {
  return isLabel(value, classCount);
}

function isIndex(value: unknown, count: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value < count;
}

function describe(value: unknown): string {
  return typeof value === "number" ? String(value) : quoteInput(value);
}

/** The notice of repeated serials: each one's rows and the one kept (the last). */
function duplicateNotice(path: string, dups: DuplicateSerial[]): DataNotice {
  const shown = (label: string) => label === "" ? "no label" : `label ${label}`;
  return makeNotice(
    "duplicate-serials",
    `${path}: ${dups.length} serial(s) are on more than one row; the last row of each is kept (the next save writes only that one)`,
    dups.map((d) =>
      `Serial ${d.serial}: lines ${
        d.lines.map((l, k) => `${l} (${shown(d.labels[k])})`).join(", ")
      } → kept line ${d.lines.at(-1)}`
    ),
  );
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
  return parseLabelFile(text, count, path, {}).labels;
}

/** `parseLabelsCsv` with a layout: serials mapped to images, other serials kept aside. */
export function parseLabelFile(
  text: string,
  count: number,
  path: string,
  layout: LabelLayout,
): ParsedLabels {
  const classCount = layout.classCount ?? 10;
  let position: Map<number, number> | null = null;
  if (layout.serials) {
    position = new Map();
    layout.serials.forEach((s, i) => position!.set(s, i));
  }
  const orphans = new Map<number, number>();
  // Every row of a serial: a repeat is resolved (the last row wins) and
  // reported, never silently.
  const firstLine = new Map<number, number>();
  const firstLabel = new Map<number, string>();
  const repeated = new Map<number, DuplicateSerial>();
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
  if (records.length === 0) return { labels, orphans, duplicates: [] };

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
    const serial = parseIntegral(serialText);
    const valid = serial !== null &&
      (position
        ? Number.isSafeInteger(serial) && serial >= 0
        : isIndex(serial, count));
    if (!valid) {
      throw new LabelError(
        `${path}: line ${line}: Serial must be an integer ${
          position ? "0 or more" : `0-${count - 1}`
        }, got ${quoteInput(serialText)}`,
        { line, value: serialText },
      );
    }
    const index = position ? position.get(serial!) : serial!;
    let label = NaN;
    if (labelText !== "") {
      const value = parseIntegral(labelText);
      if (value === null || !isLabel(value, classCount)) {
        throw new LabelError(
          `${path}: line ${line}: label must be an integer ${
            classRange(classCount)
          }, got ${quoteInput(labelText)}`,
          { line, value: labelText },
        );
      }
      label = value;
    }
    if (index === undefined) {
      if (Number.isNaN(label)) orphans.delete(serial!);
      else orphans.set(serial!, label);
    } else labels[index] = label;
    const first = firstLine.get(serial!);
    if (first === undefined) {
      firstLine.set(serial!, line);
      firstLabel.set(serial!, labelText);
    } else {
      const d = repeated.get(serial!) ??
        { serial: serial!, lines: [first], labels: [firstLabel.get(serial!)!] };
      d.lines.push(line);
      d.labels.push(labelText);
      repeated.set(serial!, d);
    }
  }
  return { labels, orphans, duplicates: [...repeated.values()] };
}

/**
 * Formats labels (NaN = unlabelled) as labels.csv text: header, then rows by
 * Serial (`serials[i]` for image i when given, with the `orphans` rows).
 */
export function formatLabelsCsv(
  labels: Float32Array,
  serials?: Uint32Array,
  orphans?: Map<number, number>,
): string {
  const rows: number[][] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i])) {
      rows.push([serials ? serials[i] : i, labels[i]]);
    }
  }
  if (orphans) {
    for (const [serial, label] of orphans) rows.push([serial, label]);
  }
  if (serials || orphans?.size) rows.sort((a, b) => a[0] - b[0]);
  // Written by hand, not with csv-stringify: two columns of integers never
  // need quoting, and the library's generic escaping took 13–50 ms per write
  // at 12k labels, on the HTTP thread, for every label key (label writes with
  // 50 clients were bound by it). The bytes are the library's own
  // (tests/labels_store_test.ts compares them).
  let text = `${HEADER.join(",")}\n`;
  const lines: string[] = [];
  for (const [serial, label] of rows) lines.push(`${serial},${label}`);
  if (lines.length > 0) text += lines.join("\n") + "\n";
  return text;
}
