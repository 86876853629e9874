/**
 * What the user's own labels say about the label graph, with no test set:
 * k-fold cross-validation over the labelled images. Each fold's labels are
 * hidden, the rest propagated, and the hidden images' propagated
 * distributions are compared with their labels. That gives
 *
 * - an estimate of the accuracy (with a 95% interval): "when to stop";
 * - a calibration of the certainty the page shows, fitted to those held-out
 *   images: label spreading's raw distributions are smooth (a right
 *   prediction often reads 40%), and one label would read 100% everywhere.
 *
 * Hand-written: a few loops over the graph's own propagation; cleanlab-style
 * libraries are Python and would need the graph handed over.
 */

import type { LabelCheckInfo } from "../protocol/api.ts";
import { Rng } from "../ssvae/rng.ts";
import type { HeldOut } from "./review.ts";

/**
 * The shown certainty: q(c) = (1 − floor)·p(c)^(1/T) / Σ p^(1/T) + floor / C,
 * from the propagated distribution p. T < 1 sharpens, floor > 0 keeps room
 * for classes the labels have not shown yet.
 */
export type Calibration = LabelCheckInfo["calibration"];

/**
 * The self-check of one set of labels: the wire format, less its revision,
 * and every scored label's held-out distribution, sharpened by the fitted
 * temperature (the review queue's evidence: lib/graph/review.ts).
 */
export type LabelCheck = Omit<LabelCheckInfo, "revision"> & { held: HeldOut };

/** Folds of the cross-validation. */
export const CHECK_FOLDS = 5;
/** Fewer labels than this (or one class) get no check: the fallback calibration. */
export const MIN_CHECK_LABELS = 10;

/**
 * Grids of the calibration fit: temperatures 0.05–2 in steps of ×1.17, and
 * floors from none to most of the mass. Chosen wide; the fit picks on
 * held-out labels (a coarser grid, ×1.4 steps, missed MNIST's and
 * Fashion-MNIST's best temperatures by a step at 200 labels).
 */
const TEMPERATURES = Array.from(
  { length: 24 },
  (_, i) => 0.05 * Math.pow(1.174, i),
);
const FLOORS = [
  0,
  0.005,
  0.01,
  0.02,
  0.04,
  0.07,
  0.1,
  0.15,
  0.2,
  0.3,
  0.4,
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
];

/**
 * Before a check can run: no sharpening, and the classes no label has shown
 * yet keep their share (one label of ten classes reads 19%, not 100%).
 */
export function fallbackCalibration(
  labels: Float32Array,
  classes: number,
): Calibration {
  const seen = new Set<number>();
  for (const y of labels) if (!Number.isNaN(y)) seen.add(y);
  return { temperature: 1, floor: 1 - seen.size / classes };
}

/** One row's calibrated distribution, written into `out` (length `classes`). */
function calibrateRow(
  p: Float32Array,
  o: number,
  classes: number,
  cal: Calibration,
  out: Float64Array,
): void {
  const inv = 1 / cal.temperature;
  let s = 0;
  for (let c = 0; c < classes; c++) {
    const v = Math.pow(Math.max(0, p[o + c]), inv);
    out[c] = v;
    s += v;
  }
  for (let c = 0; c < classes; c++) {
    out[c] = (1 - cal.floor) * (s > 0 ? out[c] / s : 1 / classes) +
      cal.floor / classes;
  }
}

/**
 * The certainty to show of every image: the calibrated probability of its
 * predicted class (argmax of `probs`, unchanged by calibration). A labelled
 * image is certain.
 */
export function calibratedCertainty(
  probs: Float32Array,
  labels: Float32Array,
  classes: number,
  cal: Calibration,
): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n);
  const row = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(labels[i])) {
      out[i] = 1;
      continue;
    }
    calibrateRow(probs, i * classes, classes, cal, row);
    let best = 0;
    for (let c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
    out[i] = row[best];
  }
  return out;
}

/** Wilson's 95% interval of a proportion `k / m`. */
export function wilsonInterval(k: number, m: number): [number, number] {
  if (m === 0) return [0, 1];
  const z = 1.96, p = k / m, z2 = z * z;
  const centre = (p + z2 / (2 * m)) / (1 + z2 / m);
  const half = (z / (1 + z2 / m)) *
    Math.sqrt((p * (1 - p)) / m + z2 / (4 * m * m));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * The calibration with the least negative log-likelihood of the held-out
 * labels `truth` under their rows of `probs` (m × classes).
 */
export function fitCalibration(
  probs: Float32Array,
  truth: ArrayLike<number>,
  classes: number,
): Calibration {
  const m = truth.length;
  const row = new Float64Array(classes);
  let best: Calibration = { temperature: 1, floor: 0 };
  let bestNll = Infinity;
  for (const temperature of TEMPERATURES) {
    for (const floor of FLOORS) {
      const cal = { temperature, floor };
      let nll = 0;
      for (let j = 0; j < m; j++) {
        calibrateRow(probs, j * classes, classes, cal, row);
        nll -= Math.log(Math.max(1e-6, row[truth[j]]));
      }
      if (nll < bestNll) {
        bestNll = nll;
        best = cal;
      }
    }
  }
  return best;
}

/** How `checkLabels` propagates: labels (NaN = none) → probabilities (n × classes). */
export type Propagator = (labels: Float32Array) => Float32Array;

/**
 * Cross-validates the labels over `folds` stratified folds (seeded); `probs`
 * is the propagation of all of them. A held-out label whose class has no
 * label outside its fold is not scored (nothing could predict it). Returns
 * null with fewer than MIN_CHECK_LABELS scored, or when `between` (awaited
 * between folds, so a worker can take newer labels first) answers false.
 *
 * `groups` (per image, −1 = none) names the write each label came from (the
 * label history's batch). The labels of one write of two or more, all of
 * one class (up to a fold's share), are held out together: a box drawn one
 * cluster too wide labels neighbours alike, and held out one by one each
 * wrong label is predicted by the others of its own box (a test of four
 * mistakes on neighbours of one class found none). Grouped, the rest of the data has to back them. (Grouped k-fold:
 * correlated samples share a fold.)
 */
export async function checkLabels(
  propagate: Propagator,
  labels: Float32Array,
  probs: Float32Array,
  classes: number,
  opts: {
    folds?: number;
    seed?: number;
    between?: () => Promise<boolean> | boolean;
    groups?: Int32Array | null;
  } = {},
): Promise<LabelCheck | null> {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  let labelled = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i])) {
      byClass[labels[i]].push(i);
      labelled++;
    }
  }
  const present = byClass.filter((c) => c.length > 0).length;
  if (labelled < MIN_CHECK_LABELS || present < 2) return null;
  const folds = Math.min(opts.folds ?? CHECK_FOLDS, labelled);
  // Stratified: each class's images, shuffled, dealt round the folds in
  // turn, so every fold sees every class it can.
  const rng = new Rng(opts.seed ?? 1);
  const fold = new Map<number, number>();
  // Writes of two or more labels of one class: each whole into the fold
  // with the fewest labels so far, largest first.
  const sizes = new Array<number>(folds).fill(0);
  if (opts.groups) {
    // Only a write of one class: a box or lasso labels neighbours alike.
    // The labels of a write of several classes (an API batch of
    // corrections, an import) are not neighbours labelled alike, and held
    // out together they only leave less to predict them from.
    const members = new Map<number, number[]>();
    const mixed = new Set<number>();
    for (let c = 0; c < classes; c++) {
      for (const i of byClass[c]) {
        const g = opts.groups[i];
        if (g < 0) continue;
        const m = members.get(g);
        if (!m) members.set(g, [i]);
        else {
          if (labels[m[0]] !== c) mixed.add(g);
          m.push(i);
        }
      }
    }
    for (const g of mixed) members.delete(g);
    // A write of more than a fold's share (an import of a whole file) is
    // dealt like single labels: held out whole it would leave too little.
    const most = Math.floor(labelled / folds);
    const batches = [...members]
      .filter(([, m]) => m.length > 1 && m.length <= most)
      .sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
    for (const [, m] of batches) {
      let f = 0;
      for (let k = 1; k < folds; k++) if (sizes[k] < sizes[f]) f = k;
      for (const i of m) fold.set(i, f);
      sizes[f] += m.length;
    }
  }
  let next = 0;
  for (const all of byClass) {
    const m = all.filter((i) => !fold.has(i));
    for (let i = m.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [m[i], m[j]] = [m[j], m[i]];
    }
    for (const i of m) fold.set(i, next++ % folds);
  }
  const held = new Float32Array(labelled * classes);
  const heldIndex = new Uint32Array(labelled);
  const truth = new Uint8Array(labelled);
  let scored = 0, right = 0;
  for (let f = 0; f < folds; f++) {
    if (opts.between && !(await opts.between())) return null;
    const hidden = [...fold].filter(([, g]) => g === f).map(([i]) => i);
    const l = labels.slice();
    const left = byClass.map((c) => c.length);
    for (const i of hidden) {
      l[i] = NaN;
      left[labels[i]]--;
    }
    const p = propagate(l);
    for (const i of hidden) {
      if (left[labels[i]] < 1) continue;
      const o = i * classes;
      let best = 0;
      for (let c = 1; c < classes; c++) if (p[o + c] > p[o + best]) best = c;
      if (best === labels[i]) right++;
      held.set(p.subarray(o, o + classes), scored * classes);
      heldIndex[scored] = i;
      truth[scored++] = labels[i];
    }
  }
  if (scored < MIN_CHECK_LABELS) return null;
  const calibration = fitCalibration(
    held.subarray(0, scored * classes),
    truth.subarray(0, scored),
    classes,
  );
  const shown = calibratedCertainty(probs, labels, classes, calibration);
  // The review's evidence: sharpened by the fitted temperature, without the
  // floor. The floor keeps every class above floor/C (at 34 labels of 2,000
  // images it was ~0.3), so no label could ever read unlikely enough.
  const calibrated = new Float32Array(scored * classes);
  const row = new Float64Array(classes);
  const sharpen = { temperature: calibration.temperature, floor: 0 };
  for (let j = 0; j < scored; j++) {
    calibrateRow(held, j * classes, classes, sharpen, row);
    calibrated.set(row, j * classes);
  }
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    if (Number.isNaN(labels[i])) sum += shown[i];
  }
  const unlabelled = labels.length - labelled;
  const accuracy = unlabelled > 0 ? sum / unlabelled : right / scored;
  // The interval of a held-out share of `scored` images, centred on the
  // estimate: the fit is only as sure as the images it was made on.
  const [lo, hi] = wilsonInterval(right, scored);
  const p = right / scored;
  return {
    labelled,
    scored,
    folds,
    heldOut: p,
    accuracy,
    low: Math.max(0, accuracy - (p - lo)),
    high: Math.min(1, accuracy + (hi - p)),
    calibration,
    held: { index: heldIndex.slice(0, scored), probs: calibrated },
  };
}
