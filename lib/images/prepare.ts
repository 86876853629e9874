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
import type { ImageShape } from "./decode.ts";
import { decodeAll } from "./decode_pool.ts";
import {
  indexPathFor,
  readIndex,
  updateIndex,
  writeIndex,
} from "./index_file.ts";
import { scanFolder, type SkippedFile } from "./scan.ts";
import { sharedBytes } from "../data/shared_bytes.ts";

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
  missing: string[];
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
  const cachedRead = readCache(cachePath, opts.shape);
  storedIndex.catch(() => {});
  cachedRead.catch(() => {});
  const scan = await scanFolder(opts.dir);
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
  const update = updateIndex(
    await storedIndex,
    scan.images.map((s) => s.path),
  );
  // The index first: a serial handed out is on disk before any label can use it.
  if (update.changed) await writeIndex(indexPath, update.index);

  const cached = await cachedRead;
  const entries = new Map<string, CacheEntry>();
  const todo: number[] = [];
  scan.images.forEach((img, i) => {
    const hit = cached.get(img.path);
    if (hit && hit.size === img.size && hit.mtimeMs === img.mtimeMs) {
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
  const tick = () => {
    const seconds = (performance.now() - started) / 1000;
    opts.onProgress?.({
      done,
      total: todo.length,
      failed: failedNow,
      seconds,
      etaSeconds: done > 0 ? (seconds / done) * (todo.length - done) : null,
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
  if (kept.length === 0) {
    throw new ImageFolderError(
      `${opts.dir}: no PNG or JPEG image could be read for training` +
        (failed.length
          ? ` (${failed.length} failed, e.g. ${failed[0].path}: ${
            failed[0].error
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
      missing: update.missing,
      seconds: (performance.now() - t0) / 1000,
      indexPath,
      cachePath,
    },
  };
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

/** The report as log lines: counts, then each failed and skipped file (at most `max` of each). */
export function reportLines(p: PreparedImages, max = 50): string[] {
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
    `classes ${p.classes.join(", ")} from ${p.classSource})`,
  ];
  if (r.added > 0) {
    lines.push(
      `images: ${r.added} new file(s) got new serials in ${r.indexPath}`,
    );
  }
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title}: ${items.length}`);
    for (const item of items.slice(0, max)) lines.push(`  ${item}`);
    if (items.length > max) lines.push(`  … and ${items.length - max} more`);
  };
  list(
    "images that could not be read (skipped)",
    r.failed.map((f) => `${f.path}: ${f.error}`),
  );
  list("files skipped", r.skipped.map((s) => `${s.path}: ${s.reason}`));
  list(
    "files in the index that are gone (their serials and labels are kept)",
    r.missing,
  );
  return lines;
}
