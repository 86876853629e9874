/**
 * Where a worker or the CLI gets its images: MNIST-shaped IDX files
 * (`--data-dir`, or the embedded MNIST), or arrays already decoded from an
 * image folder by lib/images/prepare.ts (`--images`). One description,
 * posted to the workers as is, so all of them read the same data.
 */

import {
  computePixelMax,
  type ImageSet,
  loadTestRaw,
  loadTestSet,
  loadTrainRaw,
  type RawImages,
  scaleImages,
} from "./mnist.ts";

export type { RawImages };

/** The data set: IDX files, or decoded folder images. */
export type DataSpec =
  | { kind: "idx"; dataDir?: string; limit?: number }
  | { kind: "arrays"; train: RawImages; test: RawImages | null };

/** The training images, scaled per pixel (see lib/data/mnist.ts). */
export async function loadTrainSet(
  spec: DataSpec,
): Promise<ImageSet & { pixelMax: Float32Array }> {
  const t = await loadTrainRawSet(spec);
  return { ...t, images: scaleImages(t.raw, t.pixelMax) };
}

/** The training bytes and their per-pixel maxima, not yet scaled. */
export async function loadTrainRawSet(
  spec: DataSpec,
): Promise<RawImages & { pixelMax: Float32Array }> {
  if (spec.kind === "idx") {
    return await loadTrainRaw({ dataDir: spec.dataDir, limit: spec.limit });
  }
  const t = spec.train;
  return {
    ...t,
    pixelMax: computePixelMax(t.raw, t.rows * t.cols * t.channels),
  };
}

/**
 * The test images, scaled with the training `pixelMax`. Throws when the data
 * set has none (an image folder without --holdout). The training `limit`
 * does not apply (the whole test set scores a run); `limit` here keeps the
 * first N test images (`infer --split test --limit N`).
 */
export async function loadTestImages(
  spec: DataSpec,
  pixelMax?: Float32Array,
  limit?: number,
): Promise<ImageSet> {
  if (spec.kind === "idx") {
    return await loadTestSet({ dataDir: spec.dataDir, limit, pixelMax });
  }
  const t = await loadTestRawSet(spec);
  const max = pixelMax ??
    computePixelMax(spec.train.raw, t.rows * t.cols * t.channels);
  if (limit !== undefined && limit < t.count) {
    const px = t.rows * t.cols * t.channels;
    const raw = t.raw.slice(0, limit * px);
    return {
      ...t,
      count: limit,
      raw,
      labels: t.labels.slice(0, limit),
      images: scaleImages(raw, max),
    };
  }
  return { ...t, images: scaleImages(t.raw, max) };
}

/**
 * The test images' bytes and labels, not scaled (the label graph works on
 * bytes). Throws when the data set has none.
 */
export async function loadTestRawSet(spec: DataSpec): Promise<RawImages> {
  if (spec.kind === "idx") return await loadTestRaw({ dataDir: spec.dataDir });
  const t = spec.test;
  if (!t) {
    throw new Error(
      "no test set: give --holdout (with one sub-folder per class) to keep one",
    );
  }
  if (t.labels.some((l) => l === 255)) {
    throw new Error("the test images have no true classes");
  }
  return t;
}
