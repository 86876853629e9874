/**
 * Where the labels file and the checkpoint live by default, for the dashboard
 * and the CLI alike (they must agree: `train` continues the dashboard's
 * model and reads its labels).
 */

import { basename, resolve } from "node:path";
import { createHash } from "node:crypto";

/** The files of one data set. */
export interface DataPaths {
  labelsPath: string;
  weightsPath: string;
}

/** MNIST's (or a `--data-dir` IDX set's) labels and checkpoint. */
export const DEFAULT_PATHS: DataPaths = {
  labelsPath: "data/mnist/labels.csv",
  weightsPath: "artifacts/checkpoints/ssvae.ckpt",
};

/**
 * The default files of a data set: MNIST's, or for an image folder one place
 * per folder (its name and a hash of its absolute path), so folders never
 * share labels or a model.
 */
export function defaultPaths(imagesDir?: string): DataPaths {
  if (imagesDir === undefined) return DEFAULT_PATHS;
  const abs = resolve(imagesDir);
  const slug = `${basename(abs).replace(/[^\w.-]/g, "_") || "images"}-${
    createHash("sha256").update(abs).digest("hex").slice(0, 8)
  }`;
  return {
    labelsPath: `data/images/${slug}/labels.csv`,
    weightsPath: `artifacts/checkpoints/${slug}/ssvae.ckpt`,
  };
}
