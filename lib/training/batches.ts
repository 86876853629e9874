/** Copies minibatches out of the flat image and label arrays. */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_SIZE, NUM_CLASSES } from "../ssvae/model.ts";
import type { LabelBatch } from "../ssvae/loss.ts";

/** A gathered minibatch as tensors, plus its labelled count. */
export interface Batch {
  x: tf.Tensor2D;
  labels: LabelBatch;
  size: number;
}

/**
 * Gathers the rows `indices` of `images` and `labels` (NaN = unlabelled) into
 * tensors. The caller disposes them (`disposeBatch`).
 */
export function gatherBatch(
  images: Float32Array,
  labels: Float32Array,
  indices: ArrayLike<number>,
): Batch {
  const n = indices.length;
  const x = new Float32Array(n * IMAGE_SIZE);
  const oneHot = new Float32Array(n * NUM_CLASSES);
  let labelled = 0;
  for (let r = 0; r < n; r++) {
    const i = indices[r];
    x.set(
      images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE),
      r * IMAGE_SIZE,
    );
    const y = labels[i];
    if (!Number.isNaN(y)) {
      oneHot[r * NUM_CLASSES + y] = 1;
      labelled++;
    }
  }
  return {
    x: tf.tensor2d(x, [n, IMAGE_SIZE]),
    labels: {
      oneHot: tf.tensor2d(oneHot, [n, NUM_CLASSES]),
      labelledCount: labelled,
    },
    size: n,
  };
}

/** Frees a batch's tensors. */
export function disposeBatch(b: Batch): void {
  tf.dispose([b.x, b.labels.oneHot]);
}
