/**
 * "What to label next" when labels are few: typical images of regions no
 * label covers yet (Hacohen et al. 2022, TypiClust), then uncertainty once
 * the predictions are worth doubting. Pure functions over typed arrays: the
 * server ranks with them after every propagation, and bench/active_learning.ts
 * runs the same code.
 */
import type { Neighbours } from "../graph/knn.ts";

/** Cluster levels of the data (coarse to fine) and each image's typicality. */
export interface CoverageMap {
  n: number;
  /**
   * Per level: its number of clusters, the cluster of every image, and how
   * representative each image is of its cluster (higher = closer to the
   * cluster's centre). Global density would not do: the densest images are
   * 1s, so a mixed cluster's densest member is often a 1.
   */
  levels: CoverageLevel[];
  /** 1 / mean distance to the k nearest neighbours: high = dense, typical. */
  typicality: Float32Array;
}

/** One clustering of the embedding. */
export interface CoverageLevel {
  k: number;
  /** k × dim centroids in the embedding the clusters were made in. */
  centroids: Float32Array;
  dim: number;
  assign: Int32Array;
  centrality: Float32Array;
}

/** −(squared distance to the own centroid) of every row: a level's centrality. */
export function centrality(
  data: Float32Array,
  dim: number,
  centroids: Float32Array,
  assign: Int32Array,
): Float32Array {
  const n = assign.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim, c = assign[i] * dim;
    for (let j = 0; j < dim; j++) s += (data[o + j] - centroids[c + j]) ** 2;
    out[i] = -s;
  }
  return out;
}

/** Typicality of every node of a neighbour graph (TypiClust's density). */
export function typicality(nb: Neighbours): Float32Array {
  const t = new Float32Array(nb.n);
  for (let i = 0; i < nb.n; i++) {
    let s = 0;
    for (let j = 0; j < nb.k; j++) s += Math.sqrt(nb.dist2[i * nb.k + j]);
    t[i] = 1 / (s / nb.k + 1e-9);
  }
  return t;
}

/**
 * The coverage order. At the coarsest level with at least twice as many
 * clusters as there will be labels, it walks farthest-first over the
 * clusters' centres: the next cluster is the one whose centre is farthest
 * from every cluster already holding a label (the first: the largest), among
 * clusters of at least a quarter of the mean size, weighted by √size and,
 * with `doubt`, by how unsure the predictions inside it are; it proposes
 * that cluster's most central image. Farthest-first, not largest-first: the
 * largest clusters are often the same digit written two ways, while in the
 * spectral embedding distinct digits sit far apart. `exclude[i]` (for example
 * the validation split) is never proposed. Returns up to `limit` indices.
 */
export function coverageOrder(
  map: CoverageMap,
  labels: Float32Array,
  limit: number,
  exclude?: Uint8Array,
  doubt?: { probs: Float32Array; power: number },
): Uint32Array {
  let labelled = 0;
  for (let i = 0; i < map.n; i++) if (!Number.isNaN(labels[i])) labelled++;
  const out: number[] = [];
  for (const level of map.levels) {
    if (level.k < 2 * (labelled + 1)) continue;
    const { k, dim, centroids } = level;
    const covered = new Uint8Array(k);
    const size = new Int32Array(k);
    const best = new Int32Array(k).fill(-1);
    for (let i = 0; i < map.n; i++) {
      const c = level.assign[i];
      size[c]++;
      if (!Number.isNaN(labels[i])) {
        covered[c] = 1;
        continue;
      }
      if (exclude?.[i]) continue;
      if (best[c] < 0 || level.centrality[i] > level.centrality[best[c]]) {
        best[c] = i;
      }
    }
    const minSize = map.n / k / 4;
    // Optionally, how unsure the predictions are inside each cluster (mean
    // 1 − max p): an uncovered cluster the labels already predict well
    // needs a label less.
    const unsure = new Float64Array(k).fill(1);
    if (doubt && doubt.power > 0) {
      unsure.fill(0);
      // Probabilities per image: the model's class count.
      const C = doubt.probs.length / map.n;
      for (let i = 0; i < map.n; i++) {
        let top = 0;
        for (let c = 0; c < C; c++) {
          top = Math.max(top, doubt.probs[i * C + c]);
        }
        unsure[level.assign[i]] += 1 - top;
      }
      for (let c = 0; c < k; c++) {
        unsure[c] = Math.pow(
          unsure[c] / Math.max(1, size[c]) + 1e-3,
          doubt.power,
        );
      }
    }
    // Distance of every cluster centre to the nearest covered centre.
    const far = new Float64Array(k).fill(Infinity);
    const cover = (c: number) => {
      for (let o = 0; o < k; o++) {
        let d = 0;
        for (let j = 0; j < dim; j++) {
          d += (centroids[c * dim + j] - centroids[o * dim + j]) ** 2;
        }
        if (d < far[o]) far[o] = d;
      }
    };
    for (let c = 0; c < k; c++) if (covered[c]) cover(c);
    // Nothing covered yet: every distance is infinite, so the first pick is
    // the largest cluster.
    let first = !covered.some((v) => v);
    while (out.length < limit) {
      let pick = -1, pickScore = -Infinity;
      for (let c = 0; c < k; c++) {
        if (covered[c] || best[c] < 0 || size[c] < minSize) continue;
        // Far, and big: a small far cluster is often a rare way of writing
        // a digit already covered.
        const score = first ? size[c] : far[c] * Math.sqrt(size[c]) * unsure[c];
        if (pick < 0 || score > pickScore) {
          pick = c;
          pickScore = score;
        }
      }
      if (pick < 0) break;
      out.push(best[pick]);
      covered[pick] = 1;
      cover(pick);
      first = false;
    }
    if (out.length > 0) break;
  }
  return Uint32Array.from(out);
}

/**
 * Margin uncertainty weighted by typicality: 1 − (p₁ − p₂) scaled by the
 * image's typicality relative to the median, raised to `densityPower`, so
 * outliers (uncertain because they are odd, not because they sit between
 * classes) rank lower. Returns every unlabelled, non-excluded image, best
 * first, up to `limit`.
 */
export function uncertaintyOrder(
  probs: Float32Array,
  labels: Float32Array,
  typ: Float32Array,
  limit: number,
  opts: { exclude?: Uint8Array; densityPower?: number } = {},
): Uint32Array {
  const n = labels.length;
  const power = opts.densityPower ?? 1;
  const sorted = Float32Array.from(typ).sort();
  const median = sorted[Math.floor(n / 2)] || 1;
  const score = new Float32Array(n);
  const cand: number[] = [];
  // Probabilities per image: the model's class count.
  const C = probs.length / n;
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(labels[i]) || opts.exclude?.[i]) continue;
    let first = 0, second = 0;
    for (let k = 0; k < C; k++) {
      const p = probs[i * C + k];
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) second = p;
    }
    score[i] = (1 - (first - second)) * Math.pow(typ[i] / median, power);
    cand.push(i);
  }
  cand.sort((a, b) => score[b] - score[a] || a - b);
  return Uint32Array.from(cand.slice(0, limit));
}

/**
 * The default queue: coverage while fewer than `switchAt` labels exist, then
 * uncertainty. `switchAt` is measured (bench/active_learning.ts), not guessed.
 */
export function defaultOrder(
  map: CoverageMap,
  probs: Float32Array,
  labels: Float32Array,
  limit: number,
  opts: {
    exclude?: Uint8Array;
    switchAt: number;
    densityPower?: number;
    /** Weight coverage by the clusters' prediction doubt (0 = off). */
    doubtPower?: number;
  },
): { phase: "coverage" | "uncertainty"; order: Uint32Array } {
  let labelled = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isNaN(labels[i])) labelled++;
  }
  if (labelled < opts.switchAt) {
    const order = coverageOrder(
      map,
      labels,
      limit,
      opts.exclude,
      opts.doubtPower ? { probs, power: opts.doubtPower } : undefined,
    );
    if (order.length > 0) return { phase: "coverage", order };
  }
  return {
    phase: "uncertainty",
    order: uncertaintyOrder(probs, labels, map.typicality, limit, opts),
  };
}
