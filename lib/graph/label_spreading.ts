/**
 * Label spreading (Zhou et al. 2004, "Learning with local and global
 * consistency") over a symmetric k-nearest-neighbour graph: what makes the
 * predictions follow every label at once, without a training run.
 *
 * Hand-written: it is a sparse matrix and a one-column-per-class iteration, a
 * few dozen lines, and no npm package does it for typed arrays without a heavy numeric
 * stack. The iteration itself runs in WebAssembly SIMD (spread_kernel.ts).
 */
import type { Neighbours } from "./knn.ts";
import { spreadIterations } from "./spread_kernel.ts";

/** MNIST's classes: the default width of the label rows. */
export const NUM_CLASSES = 10;

/** The normalised affinity S = D^-1/2 W D^-1/2 in CSR form. */
export interface Graph {
  n: number;
  rowPtr: Int32Array;
  col: Int32Array;
  val: Float32Array;
}

/**
 * W_ij = exp(−d²_ij / (σ_i σ_j)) with σ_i the distance to i's k-th neighbour
 * (local scaling), made symmetric as W + Wᵀ, then normalised.
 */
export function buildGraph(nb: Neighbours): Graph {
  const { n, k, index, dist2 } = nb;
  const sigma = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    sigma[i] = Math.sqrt(dist2[i * k + k - 1]) || 1e-6;
  }
  // Count each row's entries in W + Wᵀ (a pair listed both ways is summed).
  const deg = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      deg[i]++;
      deg[index[i * k + j]]++;
    }
  }
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i] + deg[i];
  const col = new Int32Array(rowPtr[n]);
  const val = new Float32Array(rowPtr[n]);
  const fill = rowPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const t = index[i * k + j];
      const w = Math.exp(-dist2[i * k + j] / (sigma[i] * sigma[t]));
      col[fill[i]] = t;
      val[fill[i]++] = w;
      col[fill[t]] = i;
      val[fill[t]++] = w;
    }
  }
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) s += val[e];
    d[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) val[e] *= d[i] * d[col[e]];
  }
  return { n, rowPtr, col, val };
}

/** Options of one propagation. */
export interface SpreadOptions {
  alpha?: number;
  iterations?: number;
  /** A previous result to start from (fewer iterations reach the fixed point). */
  init?: Float32Array;
  /** Columns of F: the model's class count (default 10). */
  classes?: number;
  /**
   * Class-balanced sources: each class's labels together inject the same
   * mass (a label of a class with n_c labels weighs L / (C_present · n_c)),
   * so a class labelled 5,000 times does not flood the graph. Balanced
   * labels weigh 1 each, as without it.
   */
  balance?: boolean;
}

/** The weight of one label of each class under `balance` (1 for a class never labelled). */
export function classWeights(
  labels: Float32Array,
  classes: number,
): Float32Array {
  const count = new Float64Array(classes);
  let total = 0;
  for (const y of labels) {
    if (!Number.isNaN(y)) {
      count[y]++;
      total++;
    }
  }
  let present = 0;
  for (const c of count) if (c > 0) present++;
  const w = new Float32Array(classes).fill(1);
  for (let c = 0; c < classes; c++) {
    if (count[c] > 0) w[c] = total / (present * count[c]);
  }
  return w;
}

/**
 * F ← α S F + (1 − α) Y0 from F = Y0 (or `init`); Y0 one-hot rows for the
 * labelled images (labels[i] a class, NaN = unlabelled). Returns the raw F
 * (n × classes); `spreadProbabilities` turns it into per-row distributions.
 */
export function spreadLabels(
  graph: Graph,
  labels: Float32Array,
  opts: SpreadOptions = {},
): Float32Array {
  const alpha = opts.alpha ?? 0.99;
  const iterations = opts.iterations ?? 30;
  const { n } = graph;
  const C = opts.classes ?? NUM_CLASSES;
  const y0 = new Float32Array(n * C);
  const weight = opts.balance
    ? classWeights(labels, C)
    : new Float32Array(C).fill(1);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isNaN(y)) y0[i * C + y] = (1 - alpha) * weight[y];
  }
  const start = opts.init ? opts.init : y0.map((v) => v / (1 - alpha));
  return spreadIterations(graph, y0, start, C, alpha, iterations);
}

/**
 * Per-row class distributions from F: each row divided by its sum; a row the
 * labels never reached is uniform. Labelled rows are one-hot on their label.
 */
export function spreadProbabilities(
  f: Float32Array,
  labels: Float32Array,
  classes = NUM_CLASSES,
): Float32Array {
  const C = classes;
  const n = labels.length;
  const p = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const o = i * C;
    const y = labels[i];
    if (!Number.isNaN(y)) {
      p[o + y] = 1;
      continue;
    }
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.max(0, f[o + c]);
    for (let c = 0; c < C; c++) {
      p[o + c] = s > 0 ? Math.max(0, f[o + c]) / s : 1 / C;
    }
  }
  return p;
}

/**
 * Inductive prediction for new points (the test set): the vote of each point's
 * neighbours among the graph's nodes, each neighbour voting its predicted class.
 */
export function voteOfNeighbours(
  nb: Neighbours,
  nodeClass: Uint8Array,
  classes = NUM_CLASSES,
): Uint8Array {
  const out = new Uint8Array(nb.n);
  const votes = new Float32Array(classes);
  for (let i = 0; i < nb.n; i++) {
    votes.fill(0);
    for (let j = 0; j < nb.k; j++) {
      votes[nodeClass[nb.index[i * nb.k + j]]] += 1;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
    out[i] = best;
  }
  return out;
}
