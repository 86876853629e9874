/**
 * The review queue: labels the rest of the data disagrees with, most
 * suspicious first, and labelled images that fit no class at all.
 *
 * The evidence is the self-check's (lib/graph/self_check.ts): each label is
 * hidden in one of the folds and predicted from the other labels through the
 * graph, and that held-out distribution, sharpened by the temperature the
 * check fitted for the page's certainty, says how likely the label is. A label is listed when the held-out
 * prediction is another class and gives the label itself less than
 * MISTAKE_BELOW; it is ranked by how much more the prediction weighs than
 * the label. This is confident learning's "the out-of-sample prediction
 * disagrees with confidence" (cleanlab, Northcutt et al. 2021), computed on
 * the graph instead of a classifier's cross-validation, so it follows every
 * label within the check's few propagations.
 *
 * Outliers: labelled images whose neighbours are farther than those of all
 * but OUTLIER_SHARE of the images (TypiClust's typicality, lowest first):
 * they fit no class well, whatever their label, so they are listed apart.
 */

import type { ReviewInfo } from "../protocol/api.ts";
import { REVIEW_PAGE } from "../protocol/limits.ts";

/**
 * A held-out label is listed when its probability (sharpened by the
 * self-check's temperature) is below this. Chosen on bench:review's MNIST
 * runs (300 labels, 2% and 5% flipped, seeds 1–3, suggested and random
 * labels; flips found in the top 20 / right labels among those listed, the
 * worst of the four cases each): 0.005 72% / 19%; 0.01 83% / 19%; 0.02 93% /
 * 25%; 0.05 98% / 31%; 0.1 98% / 31%. 0.02 keeps the most mistakes within
 * the goal of ≤ 25% right labels listed. Per-class thresholds (confident
 * learning's) did no better.
 */
export const MISTAKE_BELOW = 0.02;
/** Share of all images, least typical first, whose labelled ones are outliers. */
export const OUTLIER_SHARE = 0.01;

/** The held-out distributions of the scored labels (rows in `index` order). */
export interface HeldOut {
  index: Uint32Array;
  /** index.length × classes, calibrated. */
  probs: Float32Array;
}

/**
 * The review of `labels` (NaN = none) from the held-out distributions and
 * the graph's typicality of every image. (Labels the user confirmed are
 * left out where the list is served: lib/server/review_service.ts.)
 */
export function reviewLabels(
  held: HeldOut,
  labels: Float32Array,
  classes: number,
  typicality: Float32Array,
): Omit<ReviewInfo, "revision"> {
  const items: ReviewInfo["items"] = [];
  for (let r = 0; r < held.index.length; r++) {
    const i = held.index[r];
    const label = labels[i];
    if (Number.isNaN(label)) continue;
    const o = r * classes;
    let predicted = 0;
    for (let c = 1; c < classes; c++) {
      if (held.probs[o + c] > held.probs[o + predicted]) predicted = c;
    }
    const pLabel = held.probs[o + label];
    if (predicted === label || pLabel >= MISTAKE_BELOW) continue;
    items.push({
      index: i,
      label,
      predicted,
      score: held.probs[o + predicted] - pLabel,
      labelProbability: pLabel,
    });
  }
  items.sort((a, b) => b.score - a.score || a.index - b.index);
  // The typicality below which (strictly) the least typical OUTLIER_SHARE
  // of images lie.
  const sorted = Float32Array.from(typicality).sort();
  const cut = sorted[Math.floor(OUTLIER_SHARE * (sorted.length - 1))];
  let median = sorted[Math.floor(sorted.length / 2)];
  if (!(median > 0)) median = 1;
  const outliers: ReviewInfo["outliers"] = [];
  for (let i = 0; i < labels.length; i++) {
    if (Number.isNaN(labels[i]) || typicality[i] >= cut) continue;
    // 1 − typicality / median: how much sparser the image's neighbourhood is.
    outliers.push({
      index: i,
      label: labels[i],
      score: 1 - typicality[i] / median,
    });
  }
  outliers.sort((a, b) => b.score - a.score || a.index - b.index);
  return {
    items: items.slice(0, REVIEW_PAGE.max),
    outliers: outliers.slice(0, REVIEW_PAGE.max),
    scored: held.index.length,
  };
}
