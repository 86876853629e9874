/**
 * A spectral embedding of the neighbour graph: the top eigenvectors of
 * S = D^-1/2 W D^-1/2, rows normalised (Ng, Jordan and Weiss 2001). k-means
 * on it follows the graph's clusters — the digits — far better than k-means
 * on pixels, which is what the first suggestions need: one typical image of
 * each class-like region before any label exists.
 *
 * Hand-written subspace iteration with the same sparse product as label
 * spreading; the iteration runs on (S + I) / 2, whose spectrum is in [0, 1],
 * so the largest eigenvalues of S are also the largest in magnitude.
 */
import type { Graph } from "./label_spreading.ts";
import { Rng } from "../ssvae/rng.ts";

/** n × dims row-major embedding, each row of unit length. */
export function spectralEmbedding(
  graph: Graph,
  dims: number,
  opts: { iterations?: number; seed?: number } = {},
): Float32Array {
  const { n, rowPtr, col, val } = graph;
  const iterations = opts.iterations ?? 60;
  const rng = new Rng(opts.seed ?? 0);
  let q = new Float64Array(n * dims);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  orthonormalize(q, n, dims);
  let next = new Float64Array(n * dims);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      const o = i * dims;
      for (let c = 0; c < dims; c++) next[o + c] = 0.5 * q[o + c];
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        const w = 0.5 * val[e], p = col[e] * dims;
        for (let c = 0; c < dims; c++) next[o + c] += w * q[p + c];
      }
    }
    [q, next] = [next, q];
    if (it % 4 === 3 || it === iterations - 1) orthonormalize(q, n, dims);
  }
  const out = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < dims; c++) s += q[i * dims + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < dims; c++) out[i * dims + c] = q[i * dims + c] * inv;
  }
  return out;
}

/** Modified Gram-Schmidt on the columns of an n × dims row-major matrix. */
function orthonormalize(q: Float64Array, n: number, dims: number): void {
  for (let c = 0; c < dims; c++) {
    for (let p = 0; p < c; p++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[i * dims + p] * q[i * dims + c];
      for (let i = 0; i < n; i++) q[i * dims + c] -= d * q[i * dims + p];
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += q[i * dims + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < n; i++) q[i * dims + c] *= inv;
  }
}
