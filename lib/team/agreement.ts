/**
 * How far annotators agree, from their labels of the same images:
 * - Cohen's κ for a pair of annotators (Cohen 1960), over the images both
 *   labelled, and per class (that class against all others);
 * - Krippendorff's α, nominal (Krippendorff 2011, "Computing
 *   Krippendorff's Alpha-Reliability"), for any number of annotators and
 *   images that not everyone labelled: the overall figure;
 * - Fleiss' κ (Fleiss 1971) when every image has the same number of labels.
 *
 * Hand-written: no maintained JavaScript package computes these (the
 * statistics packages on npm stop at correlation), and each is a few lines
 * over a coincidence or contingency table. tests/agreement_test.ts checks
 * them against the worked examples of the papers.
 */

import type { AgreementReport, PairAgreement } from "../protocol/team.ts";

/** One image's labels: annotator → class. */
export type Ratings = ReadonlyMap<string, number>;

/** κ = (po − pe) / (1 − pe); NaN when chance agreement is total (pe = 1). */
function kappa(po: number, pe: number): number {
  return pe === 1 ? (po === 1 ? 1 : NaN) : (po - pe) / (1 - pe);
}

/**
 * Cohen's κ of two annotators' labels of the same items (`a[i]`, `b[i]`),
 * classes 0 … classes−1.
 */
export function cohenKappa(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  classes: number,
): number {
  const n = a.length;
  if (n !== b.length) throw new Error("two label lists of different lengths");
  if (n === 0) return NaN;
  const ra = new Float64Array(classes);
  const rb = new Float64Array(classes);
  let same = 0;
  for (let i = 0; i < n; i++) {
    ra[a[i]]++;
    rb[b[i]]++;
    if (a[i] === b[i]) same++;
  }
  let pe = 0;
  for (let c = 0; c < classes; c++) pe += (ra[c] / n) * (rb[c] / n);
  return kappa(same / n, pe);
}

/** Cohen's κ of class `c` against all others (per-class agreement of a pair). */
export function classKappa(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: number,
): number {
  const x = Array.from(a, (v) => (v === c ? 1 : 0));
  const y = Array.from(b, (v) => (v === c ? 1 : 0));
  return cohenKappa(x, y, 2);
}

/**
 * Krippendorff's α for nominal labels. `items`: each image's labels by
 * annotator; images with fewer than two labels are not pairable and add
 * nothing (as in the paper). α = 1 − Do/De from the coincidence matrix.
 */
export function krippendorffAlpha(
  items: Iterable<Ratings>,
  classes: number,
): number {
  const o = new Float64Array(classes * classes);
  for (const item of items) {
    const values = [...item.values()];
    const m = values.length;
    if (m < 2) continue;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i !== j) o[values[i] * classes + values[j]] += 1 / (m - 1);
      }
    }
  }
  const nc = new Float64Array(classes);
  let n = 0;
  let disagree = 0;
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < classes; k++) {
      const v = o[c * classes + k];
      nc[c] += v;
      n += v;
      if (c !== k) disagree += v;
    }
  }
  if (n <= 1) return NaN;
  let expected = 0;
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < classes; k++) if (c !== k) expected += nc[c] * nc[k];
  }
  if (expected === 0) return disagree === 0 ? 1 : NaN;
  return 1 - (n - 1) * disagree / expected;
}

/**
 * Fleiss' κ from per-item class counts (`counts[i][c]`: how many raters put
 * item i in class c); every item must have the same number of ratings.
 */
export function fleissKappa(counts: ReadonlyArray<ArrayLike<number>>): number {
  const N = counts.length;
  if (N === 0) return NaN;
  const k = counts[0].length;
  let raters = 0;
  for (let c = 0; c < k; c++) raters += counts[0][c];
  if (raters < 2) return NaN;
  const pj = new Float64Array(k);
  let pBar = 0;
  for (const row of counts) {
    let sum = 0;
    let sq = 0;
    for (let c = 0; c < k; c++) {
      sum += row[c];
      sq += row[c] * row[c];
      pj[c] += row[c];
    }
    if (sum !== raters) {
      throw new Error("Fleiss' κ needs the same number of ratings per item");
    }
    pBar += (sq - raters) / (raters * (raters - 1));
  }
  pBar /= N;
  let pe = 0;
  for (let c = 0; c < k; c++) pe += (pj[c] / (N * raters)) ** 2;
  return kappa(pBar, pe);
}

/** The report over `items` (each image's labels by annotator). */
export function agreementReport(
  items: ReadonlyArray<Ratings>,
  classes: number,
): AgreementReport {
  const names = [...new Set(items.flatMap((it) => [...it.keys()]))].sort();
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a: number[] = [];
      const b: number[] = [];
      for (const it of items) {
        const x = it.get(names[i]);
        const y = it.get(names[j]);
        if (x !== undefined && y !== undefined) {
          a.push(x);
          b.push(y);
        }
      }
      if (a.length === 0) continue;
      pairs.push({
        a: names[i],
        b: names[j],
        shared: a.length,
        observed: a.filter((v, k) => v === b[k]).length / a.length,
        kappa: cohenKappa(a, b, classes),
        perClass: Array.from(
          { length: classes },
          (_, c) => classKappa(a, b, c),
        ),
      });
    }
  }
  return {
    items: items.filter((it) => it.size >= 2).length,
    alpha: krippendorffAlpha(items, classes),
    pairs,
  };
}
