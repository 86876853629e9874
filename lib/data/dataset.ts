/**
 * The data set the server and the CLI label: the embedded MNIST, IDX files of
 * `--data-dir`, or an image folder (`--images`), read once here on the main
 * thread and handed to the workers as a DataSpec.
 */

import type { DataSpec } from "./source.ts";
import { DIGIT_CLASSES } from "../images/classes.ts";
import type { DecodeProgress } from "../images/prepare.ts";
import {
  folderNotices,
  prepareImageFolder,
  reportLines,
} from "../images/prepare.ts";
import type { DataNotice } from "../protocol/api.ts";
import { terminalProgress } from "../images/progress_bar.ts";
import type { ImageOptions } from "../images/options.ts";

/** Which data: `--data-dir`/`--limit`, or `--images` (index and cache beside `labelsPath`). */
export interface DatasetOptions {
  dataDir?: string;
  limit?: number;
  images?: ImageOptions;
  labelsPath: string;
}

/** What the routes and the page need to know about the data set. */
export interface DatasetInfo {
  kind: "mnist" | "images";
  /** Shown in the page: "MNIST" or the folder's name. */
  name: string;
  classes: string[];
  /** Image shape of the raw bytes the API serves. */
  channels: number;
  /** Path of each image relative to the folder (image folders only). */
  paths?: string[];
  /** labels.csv Serial of each image (image folders only). */
  serials?: Uint32Array;
  /** The folder (image folders only). */
  dir?: string;
  /** Whether there is a test set to score runs on (an image folder: with --holdout). */
  hasTest: boolean;
}

/**
 * Opens the data set of `options`. For an image folder this decodes (first
 * start) or reads the cache, logging the report and, while decoding, a
 * progress line (also passed to `onProgress`, e.g. for the page).
 */
export async function openDataset(
  options: DatasetOptions,
  log: (line: string) => void,
  onProgress?: (p: DecodeProgress) => void,
): Promise<{ spec: DataSpec; info: DatasetInfo; notices: DataNotice[] }> {
  const img = options.images;
  if (!img) {
    return {
      spec: { kind: "idx", dataDir: options.dataDir, limit: options.limit },
      info: {
        kind: "mnist",
        name: options.dataDir
          ? options.dataDir.replace(/\/+$/, "").split("/").pop()!
          : "MNIST",
        classes: [...DIGIT_CLASSES],
        channels: 1,
        hasTest: true,
      },
      notices: [],
    };
  }
  const bar = terminalProgress(log);
  const prepared = await prepareImageFolder({
    dir: img.dir,
    labelsPath: options.labelsPath,
    shape: img.shape,
    classes: img.classes,
    holdout: img.holdout,
    followLinks: img.followLinks,
    maxPixels: img.maxPixels,
    limit: options.limit,
    onProgress: (p) => {
      bar(p);
      onProgress?.(p);
    },
  });
  for (const line of reportLines(prepared)) log(line);
  const { width, height, channels } = img.shape;
  const split = (s: typeof prepared.train) => ({
    count: s.count,
    rows: height,
    cols: width,
    channels,
    raw: s.raw,
    labels: s.labels,
  });
  return {
    spec: {
      kind: "arrays",
      train: split(prepared.train),
      test: prepared.test ? split(prepared.test) : null,
    },
    info: {
      kind: "images",
      name: img.dir.replace(/\/+$/, "").split("/").pop() || img.dir,
      classes: prepared.classes,
      channels,
      paths: prepared.train.paths,
      serials: prepared.train.serials,
      dir: img.dir,
      hasTest: prepared.test !== null && prepared.hasTruth,
    },
    // Logged above (reportLines); the server keeps them for the page.
    notices: folderNotices(prepared.report),
  };
}
