/** Copies minibatch rows out of the flat image and label arrays. */
import { NUM_CLASSES } from "../ssvae/model.ts";

/** Host arrays of some gathered rows. */
export interface Rows {
  x: Float32Array;
  oneHot: Float32Array;
  labelledCount: number;
  count: number;
}

/**
 * Gathers the rows `indices` of `images` and of `labels` (NaN = unlabelled, which
 * becomes an all-zero one-hot row). With `soft`, an unlabelled row takes its
 * soft target row times `soft.weight` instead, and `labelledCount` becomes the
 * total target weight (the classification mean's denominator). With `into`,
 * the rows are written to the start of those arrays (views of the used part
 * come back) instead of new ones: reused buffers spare the evaluation pass
 * megabytes of fresh, zero-filled memory per chunk.
 */
export function gatherRows(
  images: Float32Array,
  labels: Float32Array,
  indices: ArrayLike<number>,
  soft?: { targets: Float32Array; weight: number },
  into?: { x: Float32Array; oneHot: Float32Array },
): Rows {
  const n = indices.length;
  // Pixels per image, whatever the input shape (one label slot per image).
  const D = images.length / labels.length;
  const x = into ? into.x.subarray(0, n * D) : new Float32Array(n * D);
  const oneHot = into
    ? into.oneHot.subarray(0, n * NUM_CLASSES).fill(0)
    : new Float32Array(n * NUM_CLASSES);
  let labelledCount = 0;
  for (let r = 0; r < n; r++) {
    const i = indices[r];
    x.set(
      images.subarray(i * D, (i + 1) * D),
      r * D,
    );
    const y = labels[i];
    if (!Number.isNaN(y)) {
      oneHot[r * NUM_CLASSES + y] = 1;
      labelledCount++;
    } else if (soft) {
      for (let k = 0; k < NUM_CLASSES; k++) {
        const t = soft.targets[i * NUM_CLASSES + k] * soft.weight;
        oneHot[r * NUM_CLASSES + k] = t;
        labelledCount += t;
      }
    }
  }
  return { x, oneHot, labelledCount, count: n };
}
