/**
 * A data set with fewer than the model's 10 classes: the classifier still has
 * 10 outputs (`modelClassCount`), and an untrained one spreads mass over
 * classes that do not exist. The shown predictions keep the first `k`
 * classes only, renormalised.
 */

/** Restricts N × `width` `probs` (in place) to the first `k` classes, and sets `predClass`/`certainty` from them. */
export function restrictClasses(
  probs: Float32Array,
  predClass: Uint8Array,
  certainty: Float32Array,
  k: number,
  width = 10,
): void {
  if (k >= width) return;
  const n = predClass.length;
  for (let i = 0; i < n; i++) {
    const o = i * width;
    let sum = 0, best = 0;
    for (let c = 0; c < k; c++) {
      sum += probs[o + c];
      if (probs[o + c] > probs[o + best]) best = c;
    }
    for (let c = 0; c < width; c++) {
      probs[o + c] = c < k ? (sum > 0 ? probs[o + c] / sum : 1 / k) : 0;
    }
    predClass[i] = best;
    certainty[i] = probs[o + best];
  }
}
