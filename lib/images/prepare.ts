/**
 * Turns an image folder into the training and test sets: scans it, updates
 * the serial index beside labels.csv, decodes what the pixel cache lacks (on
 * worker threads, with progress), rewrites the cache, and assembles the
 * images in serial order. A file that cannot be decoded is reported by path
 * and left out; nothing else stops.
 */

import { dirname } from "node:path";
import {
  type CacheEntry,
  cachePathFor,
  readCache,
  writeCache,
} from "./cache.ts";
import { resolveClasses } from "./classes.ts";
import { type ImageShape, TOO_LARGE_MARK } from "./decode.ts";
import { decodeAll } from "./decode_pool.ts";
import {
  indexPathFor,
  readIndex,
  updateIndex,
  writeIndex,
} from "./index_file.ts";
import { scanFolder, type SkippedFile } from "./scan.ts";
import { sharedBytes } from "../data/shared_bytes.ts";
import type { DataNotice } from "../protocol/api.ts";
import { makeNotice, noticeLines } from "../notices.ts";
import { printable } from "../quote_input.ts";

/** Where and how to read an image folder. */
export interface ImageFolderOptions {
  dir: string;
  /** labels.csv: the index (`*.index.csv`) and the pixel cache live beside it. */
  labelsPath: string;
  shape: ImageShape;
  /** `--classes`; else classes.txt, the sub-folders, or 0–9. */
  classes?: string[];
  /** Share of the images (0 ≤ h < 1) kept apart as the test set; needs class sub-folders. */
  holdout?: number;
  /** Seeds which images the holdout takes (default 0). */
  seed?: number;
  /** Keep only the first N training images (in serial order). */
  limit?: number;
  /** Take symbolic links out of the folder (default: skipped and listed). */
  followLinks?: boolean;
  /** Refuse images whose header declares more pixels (default: no cap). */
  maxPixels?: number;
  /** Decode threads (default: one per core). */
  threads?: number;
  onProgress?: (p: DecodeProgress) => void;
}

/** Progress of the first decode. */
export interface DecodeProgress {
  done: number;
  total: number;
  failed: number;
  seconds: number;
  /** Seconds left at the rate so far; null before the first batch. */
  etaSeconds: number | null;
}

/** A split: images in serial order. */
export interface ImageSplit {
  count: number;
  /**
   * `count × height × width × channels` bytes, row-major, channels
   * interleaved, on a SharedArrayBuffer (lib/data/shared_bytes.ts).
   */
  raw: Uint8Array;
  /** Ground truth from the class sub-folders; 255 = unknown. */
  labels: Uint8Array;
  /** labels.csv Serial of each image. */
  serials: Uint32Array;
  /** Path of each image, relative to the folder. */
  paths: string[];
}

/** What `prepareImageFolder` reports. */
export interface FolderReport {
  decoded: number;
  fromCache: number;
  failed: Array<{ path: string; error: string }>;
  skipped: SkippedFile[];
  added: number;
  /** How many of the `added` files could not be read (they are in `failed`). */
  addedUnreadable: number;
  missing: string[];
  /** Why the pixel cache was not used (damaged, an earlier version), if so. */
  cacheProblem: string | null;
  /** labels.csv rows whose serial is in no row of the index (the label as written). */
  detached: Array<{ serial: number; label: string }>;
  seconds: number;
  indexPath: string;
  cachePath: string;
}

/** The folder's data, ready for the model. */
export interface PreparedImages {
  shape: ImageShape;
  classes: string[];
  classSource: string;
  /** True when the class sub-folders give every image its true class. */
  hasTruth: boolean;
  train: ImageSplit;
  /** The holdout share; null without `holdout`. */
  test: ImageSplit | null;
  report: FolderReport;
}

/** A bad option for an image folder (e.g. --holdout without class folders). */
export class ImageFolderError extends Error {
  override name = "ImageFolderError";
}

/** FNV-1a of the seed and path, as a number in [0, 1): the same split on every start and machine. */
export function holdoutDraw(path: string, seed: number): number {
  let h = 0x811c9dc5;
  const text = `${seed}:${path}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** Reads the folder (see the module comment). */
export async function prepareImageFolder(
  opts: ImageFolderOptions,
): Promise<PreparedImages> {
  const t0 = performance.now();
  const holdout = opts.holdout ?? 0;
  if (!(holdout >= 0 && holdout < 1)) {
    throw new ImageFolderError(
      `--holdout must be at least 0 and below 1, got ${holdout}`,
    );
  }
  const indexPath = indexPathFor(opts.labelsPath);
  const cachePath = cachePathFor(indexPath, opts.shape);
  // Index and cache are read on I/O threads while this thread stats the
  // folder's files: on a cached start these are most of the time.
  const storedIndex = readIndex(indexPath);
  const labelRows = readLabelSerials(opts.labelsPath);
  let cacheProblem: string | null = null;
  const cachedRead = readCache(cachePath, opts.shape, (reason) => {
    cacheProblem = reason;
  });
  storedIndex.catch(() => {});
  cachedRead.catch(() => {});
  const scan = await scanFolder(opts.dir, { followLinks: opts.followLinks });
  const { classes, source } = await resolveClasses(
    opts.dir,
    opts.classes,
    scan.classFolders,
  );
  const hasTruth = scan.classFolders !== null;
  if (holdout > 0 && !hasTruth) {
    throw new ImageFolderError(
      `--holdout needs the true classes: put the images in one sub-folder per class under ${opts.dir}`,
    );
  }
  await Deno.mkdir(dirname(indexPath), { recursive: true });
  const labelled = await labelRows;
  const stored = await storedIndex;
  // With an index, new serials go above every serial labels.csv uses. On a
  // first start (no index yet) serials follow the path order from 0, as a
  // labels.csv written for the folder beforehand expects.
  const update = updateIndex(
    stored,
    scan.images.map((s) => s.path),
    stored.size > 0 ? labelled.keys() : [],
  );
  // Labels whose serial the index does not have at all: rows removed from
  // labels.index.csv by hand (a file gone keeps its row, and is "missing").
  const detached = [...labelled].filter(([s]) => !update.index.has(s));
  // The index first: a serial handed out is on disk before any label can use it.
  if (update.changed) await writeIndex(indexPath, update.index);

  const cached = await cachedRead;
  const entries = new Map<string, CacheEntry>();
  const todo: number[] = [];
  scan.images.forEach((img, i) => {
    const hit = cached.get(img.path);
    // A file refused for its size is looked at again: the cap may have been
    // raised since, and reading a header costs nothing.
    if (
      hit && hit.size === img.size && hit.mtimeMs === img.mtimeMs &&
      !hit.error?.includes(TOO_LARGE_MARK)
    ) {
      entries.set(img.path, hit);
    } else {
      entries.set(img.path, {
        size: img.size,
        mtimeMs: img.mtimeMs,
        pixels: null,
        error: "pending",
      });
      todo.push(i);
    }
  });
  let failedNow = 0, done = 0;
  const started = performance.now();
  // The rate is taken from the first finished batch on: the first one also
  // carries the workers' start (a first estimate read "97 min" for 6 min).
  let firstAt = 0, firstDone = 0;
  const tick = () => {
    const now = performance.now();
    if (firstDone === 0 && done > 0) {
      firstAt = now;
      firstDone = done;
    }
    const rate = done > firstDone ? (done - firstDone) / (now - firstAt) : 0;
    opts.onProgress?.({
      done,
      total: todo.length,
      failed: failedNow,
      seconds: (now - started) / 1000,
      etaSeconds: rate > 0 ? (todo.length - done) / rate / 1000 : null,
    });
  };
  if (todo.length > 0) {
    tick();
    let lastTick = 0;
    await decodeAll(
      todo.map((i) => `${opts.dir}/${scan.images[i].path}`),
      opts.shape,
      (k, r) => {
        const entry = entries.get(scan.images[todo[k]].path)!;
        entry.pixels = r.pixels ? r.pixels.slice() : null;
        entry.error = r.error;
        if (r.error) failedNow++;
        done++;
        const now = performance.now();
        if (now - lastTick > 250 || done === todo.length) {
          lastTick = now;
          tick();
        }
      },
      opts.threads,
      opts.maxPixels,
    );
  }
  // Rewritten when something was decoded or a cached file has gone.
  if (todo.length > 0 || cached.size !== entries.size) {
    await writeCache(cachePath, opts.shape, entries);
  }

  const failed: FolderReport["failed"] = [];
  const train: Array<
    { serial: number; path: string; pixels: Uint8Array; truth: number }
  > = [];
  const test: typeof train = [];
  for (const img of scan.images) {
    const e = entries.get(img.path)!;
    if (!e.pixels) {
      failed.push({ path: img.path, error: e.error ?? "unreadable" });
      continue;
    }
    const truth = hasTruth
      ? classes.indexOf(img.path.slice(0, img.path.indexOf("/")))
      : 255;
    const item = {
      serial: update.serialOf.get(img.path)!,
      path: img.path,
      pixels: e.pixels,
      truth,
    };
    (holdout > 0 && holdoutDraw(img.path, opts.seed ?? 0) < holdout
      ? test
      : train).push(item);
  }
  train.sort((a, b) => a.serial - b.serial);
  test.sort((a, b) => a.serial - b.serial);
  const kept = opts.limit === undefined ? train : train.slice(0, opts.limit);
  const newPaths = new Set(update.added);
  if (kept.length === 0) {
    throw new ImageFolderError(
      `${
        printable(opts.dir)
      }: no PNG or JPEG image could be read for training` +
        (failed.length
          ? ` (${failed.length} failed, e.g. ${
            printable(`${failed[0].path}: ${failed[0].error}`)
          })`
          : ""),
    );
  }
  return {
    shape: opts.shape,
    classes,
    classSource: source,
    hasTruth,
    train: assemble(kept, opts.shape),
    test: test.length > 0 ? assemble(test, opts.shape) : null,
    report: {
      decoded: todo.length - failedNow,
      fromCache: scan.images.length - todo.length,
      failed,
      skipped: scan.skipped,
      added: update.added.length,
      addedUnreadable: failed.filter((f) => newPaths.has(f.path)).length,
      missing: update.missing,
      detached: detached.map(([serial, label]) => ({ serial, label })),
      cacheProblem,
      seconds: (performance.now() - t0) / 1000,
      indexPath,
      cachePath,
    },
  };
}

/**
 * Serial → label text of every row of labels.csv (empty when there is none).
 * A light read, for the serials only: LabelStore.open reads the file fully
 * and names any bad row.
 */
async function readLabelSerials(path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return out;
  }
  for (const line of text.split(/\r\n|\n|\r/)) {
    const m = /^\s*"?(\d+)(?:\.0*)?"?\s*,\s*"?([^",]*?)"?\s*$/.exec(line);
    if (m && m[2] !== "") out.set(Number(m[1]), m[2]);
  }
  return out;
}

function assemble(
  items: Array<
    { serial: number; path: string; pixels: Uint8Array; truth: number }
  >,
  shape: ImageShape,
): ImageSplit {
  const px = shape.width * shape.height * shape.channels;
  // A cached start of an unchanged folder has every image in order in the
  // cache's one (shared) pixel block: use it as is instead of copying it.
  const first = items[0]?.pixels;
  const contiguous = first !== undefined &&
    items.every((it, i) =>
      it.pixels.buffer === first.buffer &&
      it.pixels.byteOffset === first.byteOffset + i * px
    );
  let raw: Uint8Array;
  if (contiguous && first.buffer instanceof SharedArrayBuffer) {
    raw = new Uint8Array(first.buffer, first.byteOffset, items.length * px);
  } else {
    raw = sharedBytes(items.length * px);
    items.forEach((it, i) => raw.set(it.pixels, i * px));
  }
  return {
    count: items.length,
    raw,
    labels: Uint8Array.from(items, (it) => it.truth),
    serials: Uint32Array.from(items, (it) => it.serial),
    paths: items.map((it) => it.path),
  };
}

/**
 * What the start report has to tell about the folder's files, as notices
 * (lib/notices.ts): the terminal prints them, the page keeps them.
 */
export function folderNotices(r: FolderReport): DataNotice[] {
  const out: DataNotice[] = [];
  if (r.cacheProblem) {
    out.push(makeNotice(
      "cache-rebuilt",
      `${r.cachePath}: ${r.cacheProblem}; not used, the images were decoded again`,
    ));
  }
  if (r.failed.length > 0) {
    out.push(makeNotice(
      "unreadable-images",
      `${r.failed.length} image(s) could not be read: left out (not labelled, not on the map)`,
      r.failed.map((f) => `${f.path}: ${f.error}`),
    ));
  }
  if (r.skipped.length > 0) {
    out.push(makeNotice(
      "skipped-files",
      `${r.skipped.length} file(s) or folder(s) under the image folder are not labelled`,
      r.skipped.map((s) => `${s.path}: ${s.reason}`),
    ));
  }
  if (r.detached.length > 0) {
    out.push(makeNotice(
      "detached-labels",
      `${r.detached.length} label(s) in labels.csv name serials that ${
        r.indexPath.split("/").pop()
      } does not have (rows removed from it by hand?): kept in labels.csv, on no image` +
        (r.added > 0
          ? `; ${r.added} file(s) got new serials this start. To put the labels back on their files, restore those rows of the index (from a backup) and start again`
          : ""),
      r.detached.map((d) => `Serial ${d.serial}: label ${d.label}`),
    ));
  }
  if (r.missing.length > 0) {
    out.push(makeNotice(
      "missing-files",
      `${r.missing.length} file(s) in the index are gone: their serials and labels are kept`,
      r.missing,
    ));
  }
  return out;
}

/** The report as log lines: counts, then the notices (at most NOTICE_ITEMS files each). */
export function reportLines(p: PreparedImages): string[] {
  const r = p.report;
  const lines = [
    `images: ${p.train.count} to label` +
    (p.test ? `, ${p.test.count} held out for testing` : "") +
    ` (${r.fromCache} from the cache, ${r.decoded} decoded in ${
      r.seconds.toFixed(1)
    } s; ` +
    `${p.shape.width}×${p.shape.height} ${
      p.shape.channels === 3 ? "RGB" : "grey"
    }; ` +
    `classes ${printable(p.classes.join(", "))} from ${
      printable(p.classSource)
    })`,
  ];
  if (r.added > 0) {
    lines.push(
      `images: ${r.added} new file(s) got new serials in ${
        printable(r.indexPath)
      }` +
        (r.addedUnreadable > 0
          ? ` (${r.addedUnreadable} of them could not be read: below)`
          : ""),
    );
  }
  for (const n of folderNotices(r)) lines.push(...noticeLines(n));
  return lines;
}
