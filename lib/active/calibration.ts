/**
 * Whether the certainty the page shows can be believed: among images shown
 * at "p%", about p% should be right.
 */

/** Bins of the expected calibration error (equal width over 0–1). */
export const CALIBRATION_BINS = 10;

/**
 * Expected calibration error (0–1) of `certainty` (the shown probability of
 * `predClass`) against `truth`, over the images where `mask[i]` is 1 and
 * the truth is known (not 255): the certainty-weighted gap between mean
 * certainty and accuracy, over equal-width bins (Guo et al. 2017).
 */
export function calibrationError(
  certainty: Float32Array,
  predClass: Uint8Array,
  truth: Uint8Array,
  mask: Uint8Array,
  bins = CALIBRATION_BINS,
): number {
  const conf = new Float64Array(bins), right = new Float64Array(bins);
  const count = new Float64Array(bins);
  let total = 0;
  for (let i = 0; i < certainty.length; i++) {
    if (!mask[i] || truth[i] === 255) continue;
    const b = Math.min(bins - 1, Math.floor(certainty[i] * bins));
    conf[b] += certainty[i];
    right[b] += predClass[i] === truth[i] ? 1 : 0;
    count[b]++;
    total++;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] > 0) e += Math.abs(conf[b] - right[b]) / total;
  }
  return e;
}
