/**
 * k-means (Lloyd's algorithm, k-means++-free random init from a seed): the
 * coarse partition of the approximate neighbour search, and the regions the
 * cold-start suggestions take one typical image from.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../ssvae/rng.ts";

/** Centroids (k × dim) and each row's cluster. */
export interface KMeans {
  k: number;
  dim: number;
  centroids: Float32Array;
  assign: Int32Array;
}

/** Rows per assignment matMul: bounds the n × k distance block. */
const CHUNK = 8192;

/** Nearest centroid of every row, by one matMul per chunk. */
export function assignToCentroids(
  data: Float32Array,
  n: number,
  dim: number,
  centroids: Float32Array,
  k: number,
): Int32Array {
  const assign = new Int32Array(n);
  // argmin ‖x − c‖² = argmax (2 x·c − ‖c‖²); Cᵀ is explicit (no transpose flag).
  const [ct, cNorm] = tf.tidy(() => {
    const c = tf.tensor2d(centroids, [k, dim]);
    return [
      tf.mul(tf.transpose(c), 2),
      tf.sum(tf.square(c), 1).reshape([1, k]),
    ];
  });
  for (let s = 0; s < n; s += CHUNK) {
    const m = Math.min(CHUNK, n - s);
    const best = tf.tidy(() =>
      tf.argMax(
        tf.sub(
          tf.matMul(
            tf.tensor2d(data.subarray(s * dim, (s + m) * dim), [m, dim]),
            ct,
          ),
          cNorm,
        ),
        1,
      )
    );
    assign.set(best.dataSync() as Int32Array, s);
    best.dispose();
  }
  tf.dispose([ct, cNorm]);
  return assign;
}

/** Runs `iterations` Lloyd steps from `k` distinct rows drawn with `seed`. */
export function kmeans(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
  opts: { seed?: number; iterations?: number } = {},
): KMeans {
  const rng = new Rng(opts.seed ?? 0);
  const order = rng.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
  const centroids = new Float32Array(k * dim);
  for (let c = 0; c < k; c++) {
    centroids.set(data.subarray(order[c] * dim, (order[c] + 1) * dim), c * dim);
  }
  let assign: Int32Array = new Int32Array(n);
  const iterations = opts.iterations ?? 10;
  for (let it = 0; it < iterations; it++) {
    assign = assignToCentroids(data, n, dim, centroids, k);
    const sums = new Float64Array(k * dim);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assign[i];
      counts[c]++;
      const o = i * dim, p = c * dim;
      for (let j = 0; j < dim; j++) sums[p + j] += data[o + j];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // An empty cluster restarts at a random row.
        const r = order[Math.floor(rng.uniform() * n)];
        centroids.set(data.subarray(r * dim, (r + 1) * dim), c * dim);
        continue;
      }
      for (let j = 0; j < dim; j++) {
        centroids[c * dim + j] = sums[c * dim + j] / counts[c];
      }
    }
  }
  assign = assignToCentroids(data, n, dim, centroids, k);
  return { k, dim, centroids, assign };
}
