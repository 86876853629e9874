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
 * megabytes of fresh, zero-filled memory per chunk. `classes` is the width
 * of a label row (the model's `num_classes`).
 */
export function gatherRows(
  images: Float32Array,
  labels: Float32Array,
  indices: ArrayLike<number>,
  soft?: { targets: Float32Array; weight: number },
  into?: { x: Float32Array; oneHot: Float32Array },
  classes = NUM_CLASSES,
): Rows {
  const n = indices.length;
  // Pixels per image, whatever the input shape (one label slot per image).
  const D = images.length / labels.length;
  const x = into ? into.x.subarray(0, n * D) : new Float32Array(n * D);
  const C = classes;
  const oneHot = into
    ? into.oneHot.subarray(0, n * C).fill(0)
    : new Float32Array(n * C);
  let labelledCount = 0;
  for (let r = 0; r < n; r++) {
    const i = indices[r];
    x.set(
      images.subarray(i * D, (i + 1) * D),
      r * D,
    );
    const y = labels[i];
    if (!Number.isNaN(y)) {
      oneHot[r * C + y] = 1;
      labelledCount++;
    } else if (soft) {
      for (let k = 0; k < C; k++) {
        const t = soft.targets[i * C + k] * soft.weight;
        oneHot[r * C + k] = t;
        labelledCount += t;
      }
    }
  }
  return { x, oneHot, labelledCount, count: n };
}
