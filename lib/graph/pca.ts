/**
 * Principal components of a data matrix, for the pixel neighbour graph (the
 * no-network baseline and the cold-start feature space).
 *
 * Hand-written because tfjs has no eigen-decomposition: the d × d covariance is
 * one XNNPACK matMul, and its top components come from a few block power
 * (subspace) iterations with a Gram-Schmidt re-orthonormalisation — d is small
 * (784), so this costs well under a second.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../ssvae/rng.ts";

/** A fitted projection: `(x − mean) · components`, components d × k, column-major by component. */
export interface Pca {
  dim: number;
  k: number;
  mean: Float32Array;
  /** d × k row-major (row = input dimension). */
  components: Float32Array;
}

/**
 * The rows of a data matrix: all of them (n × dim, row-major), or a function
 * giving rows `start … start + count − 1`, e.g. scaled from bytes on demand
 * so that the whole float matrix (627 MB for 200k images) never exists. The
 * function's result is read before the next call.
 */
export type Rows =
  | Float32Array
  | ((start: number, count: number) => Float32Array);

/** Rows are read in chunks of this many (the covariance's and the projection's). */
const CHUNK = 4096;

function chunkOf(data: Rows, dim: number, s: number, m: number): Float32Array {
  return typeof data === "function"
    ? data(s, m)
    : data.subarray(s * dim, (s + m) * dim);
}

/** Fits `k` principal components of `rows` (n × dim). */
export function fitPca(
  data: Rows,
  n: number,
  dim: number,
  k: number,
  seed = 0,
  iterations = 12,
): Pca {
  const mean = new Float32Array(dim);
  for (let s = 0; s < n; s += CHUNK) {
    const m = Math.min(CHUNK, n - s);
    const x = chunkOf(data, dim, s, m);
    for (let i = 0; i < m; i++) {
      const o = i * dim;
      for (let j = 0; j < dim; j++) mean[j] += x[o + j];
    }
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;
  // Covariance C = Xᵀ X / n − μ μᵀ, accumulated in chunks (Xᵀ as an explicit
  // transpose: matMul with transpose flags is slow on wasm). Each chunk's
  // tensors are freed before the next: kept to the end, they grew tfjs' wasm
  // heap (which never shrinks) by 15 MB per 4096 rows.
  let acc = tf.zeros([dim, dim]) as tf.Tensor2D;
  for (let s = 0; s < n; s += CHUNK) {
    const m = Math.min(CHUNK, n - s);
    const next = tf.tidy(() => {
      const x = tf.tensor2d(chunkOf(data, dim, s, m), [m, dim]);
      return tf.add(acc, tf.matMul(tf.transpose(x), x)) as tf.Tensor2D;
    });
    acc.dispose();
    acc = next;
  }
  const cov = tf.tidy(() => {
    const mu = tf.tensor2d(mean, [dim, 1]);
    return tf.sub(tf.div(acc, n), tf.matMul(mu, tf.transpose(mu)));
  });
  acc.dispose();
  const rng = new Rng(seed);
  const q0 = new Float32Array(dim * k);
  for (let i = 0; i < q0.length; i++) q0[i] = rng.normal();
  let q = orthonormalize(q0, dim, k);
  for (let it = 0; it < iterations; it++) {
    q = orthonormalize(covTimes(cov, q, dim, k), dim, k);
  }
  // Order by explained variance (Rayleigh quotients).
  const cq = covTimes(cov, q, dim, k);
  cov.dispose();
  const variance = Array.from({ length: k }, (_, c) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += q[j * k + c] * cq[j * k + c];
    return s;
  });
  const order = [...variance.keys()].sort((a, b) => variance[b] - variance[a]);
  const components = new Float32Array(dim * k);
  for (let j = 0; j < dim; j++) {
    for (let c = 0; c < k; c++) components[j * k + c] = q[j * k + order[c]];
  }
  return { dim, k, mean, components };
}

/** Projects `n` rows onto the components: n × k. */
export function projectPca(
  pca: Pca,
  data: Rows,
  n: number,
): Float32Array {
  const out = new Float32Array(n * pca.k);
  const chunk = 2 * CHUNK;
  const w = tf.tensor2d(pca.components, [pca.dim, pca.k]);
  const mu = tf.tensor2d(pca.mean, [1, pca.dim]);
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    // The tensor, not its values, leaves the tidy: tidy walks every key of
    // what its function returns, and a 400k-element typed array cost ~0.2 s
    // a chunk (1.2 s of a 60k projection).
    const y = tf.tidy(() =>
      tf.matMul(
        tf.sub(
          tf.tensor2d(chunkOf(data, pca.dim, s, m), [m, pca.dim]),
          mu,
        ),
        w,
      )
    );
    out.set(y.dataSync() as Float32Array, s * pca.k);
    y.dispose();
  }
  tf.dispose([w, mu]);
  return out;
}

/** cov · q (dim × k), its values read outside the tidy (see `projectPca`). */
function covTimes(
  cov: tf.Tensor,
  q: Float32Array,
  dim: number,
  k: number,
): Float32Array {
  const t = tf.tidy(() => tf.matMul(cov, tf.tensor2d(q, [dim, k])));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** Modified Gram-Schmidt on the k columns of a dim × k row-major matrix. */
function orthonormalize(m: Float32Array, dim: number, k: number): Float32Array {
  const cols = Array.from({ length: k }, (_, c) => {
    const v = new Float64Array(dim);
    for (let j = 0; j < dim; j++) v[j] = m[j * k + c];
    return v;
  });
  for (let c = 0; c < k; c++) {
    const v = cols[c];
    for (let p = 0; p < c; p++) {
      const u = cols[p];
      let d = 0;
      for (let j = 0; j < dim; j++) d += u[j] * v[j];
      for (let j = 0; j < dim; j++) v[j] -= d * u[j];
    }
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < dim; j++) v[j] /= norm;
  }
  const out = new Float32Array(dim * k);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < dim; j++) out[j * k + c] = cols[c][j];
  }
  return out;
}
