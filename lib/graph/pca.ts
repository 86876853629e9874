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

/** Fits `k` principal components of `rows` (n × dim, row-major). */
export function fitPca(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
  seed = 0,
  iterations = 12,
): Pca {
  const mean = new Float32Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) mean[j] += data[o + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;
  // Covariance C = Xᵀ X / n − μ μᵀ, accumulated in chunks (Xᵀ as an explicit
  // transpose: matMul with transpose flags is slow on wasm).
  const cov = tf.tidy(() => {
    let acc = tf.zeros([dim, dim]) as tf.Tensor2D;
    const chunk = 4096;
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const x = tf.tensor2d(data.subarray(s * dim, (s + m) * dim), [m, dim]);
      const next = tf.add(acc, tf.matMul(tf.transpose(x), x)) as tf.Tensor2D;
      acc.dispose();
      x.dispose();
      acc = next;
    }
    const mu = tf.tensor2d(mean, [dim, 1]);
    return tf.sub(tf.div(acc, n), tf.matMul(mu, tf.transpose(mu)));
  });
  const rng = new Rng(seed);
  const q0 = new Float32Array(dim * k);
  for (let i = 0; i < q0.length; i++) q0[i] = rng.normal();
  let q = orthonormalize(q0, dim, k);
  for (let it = 0; it < iterations; it++) {
    const next = tf.tidy(() =>
      tf.matMul(cov, tf.tensor2d(q, [dim, k])).dataSync() as Float32Array
    );
    q = orthonormalize(next, dim, k);
  }
  // Order by explained variance (Rayleigh quotients).
  const cq = tf.tidy(() =>
    tf.matMul(cov, tf.tensor2d(q, [dim, k])).dataSync() as Float32Array
  );
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
  data: Float32Array,
  n: number,
): Float32Array {
  const out = new Float32Array(n * pca.k);
  const chunk = 8192;
  const w = tf.tensor2d(pca.components, [pca.dim, pca.k]);
  const mu = tf.tensor2d(pca.mean, [1, pca.dim]);
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const y = tf.tidy(() =>
      tf.matMul(
        tf.sub(
          tf.tensor2d(data.subarray(s * pca.dim, (s + m) * pca.dim), [
            m,
            pca.dim,
          ]),
          mu,
        ),
        w,
      ).dataSync() as Float32Array
    );
    out.set(y, s * pca.k);
  }
  tf.dispose([w, mu]);
  return out;
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
