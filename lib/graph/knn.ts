/**
 * Exact k-nearest neighbours by squared Euclidean distance, in blocks:
 * ‖q‖² + ‖x‖² − 2 q·xᵀ with one matMul per block of queries, then the k
 * nearest picked in one pass over the products (see `knn`). Exact search keeps the graph reproducible (an approximate index
 * would make label spreading depend on its random build); 60k × 60k in 50-d
 * takes about as long as the reference's blocked PyTorch search.
 */
import * as tf from "@tensorflow/tfjs";
import { assignToCentroids, kmeans } from "./kmeans.ts";
import { valuesView } from "../ssvae/backend.ts";

/** k neighbours per row: indices and squared distances, nearest first. */
export interface Neighbours {
  n: number;
  k: number;
  index: Int32Array;
  dist2: Float32Array;
}

/**
 * For each of `nq` query rows, its `k` nearest rows of `base` (nb × dim).
 * With `excludeSelf`, queries are the base rows themselves (query i = base
 * row `offset + i`) and a row is never its own neighbour.
 */
export function knn(
  base: Float32Array,
  nb: number,
  dim: number,
  queries: Float32Array,
  nq: number,
  k: number,
  opts: { excludeSelf?: boolean; block?: number } = {},
): Neighbours {
  const extra = opts.excludeSelf ? 1 : 0;
  // A block's distance matrix is block × nb floats, and tfjs holds a few
  // of them at once in its wasm heap, which never shrinks (and cannot pass
  // 4 GB): 512 queries against 200k images were ~0.4 GB each. Blocks hold
  // at most 2^24 distances (64 MB); as many flops, a few more blocks.
  const block = opts.block ??
    Math.max(16, Math.min(512, Math.floor(2 ** 24 / Math.max(1, nb))));
  const index = new Int32Array(nq * k);
  const dist2 = new Float32Array(nq * k);
  const baseT = tf.tidy(() => tf.transpose(tf.tensor2d(base, [nb, dim])));
  const baseNorm = tf.tidy(() => tf.sum(tf.square(baseT), 0).reshape([1, nb]));
  const xn = baseNorm.dataSync() as Float32Array;
  const kk = k + extra;
  const bestV = new Float32Array(kk);
  const bestI = new Int32Array(kk);
  for (let s = 0; s < nq; s += block) {
    const m = Math.min(block, nq - s);
    const [products, norms] = tf.tidy(() => {
      const q = tf.tensor2d(queries.subarray(s * dim, (s + m) * dim), [m, dim]);
      return [tf.matMul(q, baseT), tf.sum(tf.square(q), 1)];
    });
    const qn = norms.dataSync() as Float32Array;
    // The k + extra largest of −d² = 2 q·x − (‖q‖² + ‖x‖²), nearest first,
    // the lower index first among equals, selected here in one pass over
    // the products in the heap: tfjs' elementwise ops and TopK on a
    // block × nb matrix took twice as long (~17 s against ~8 s at 60k).
    // Each value is rounded to float32 as those ops did, so the neighbours
    // are the same bit for bit (and cached graphs stay valid).
    const p = valuesView(products);
    for (let r = 0; r < m; r++) {
      bestV.fill(-Infinity);
      bestI.fill(-1);
      let worst = -Infinity;
      const o = r * nb, qr = qn[r];
      for (let j = 0; j < nb; j++) {
        const v = Math.fround(2 * p[o + j] - Math.fround(qr + xn[j]));
        if (!(v > worst)) continue;
        let at = kk - 1;
        while (at > 0 && bestV[at - 1] < v) {
          bestV[at] = bestV[at - 1];
          bestI[at] = bestI[at - 1];
          at--;
        }
        bestV[at] = v;
        bestI[at] = j;
        worst = bestV[kk - 1];
      }
      const self = s + r;
      let w = 0;
      for (let j = 0; j < kk && w < k; j++) {
        const nbr = bestI[j];
        if (extra && nbr === self) continue;
        index[(s + r) * k + w] = nbr;
        dist2[(s + r) * k + w] = Math.max(0, -bestV[j]);
        w++;
      }
      // The row itself was not among the top k+1 (exact duplicates): drop the last.
    }
    tf.dispose([products, norms]);
  }
  tf.dispose([baseT, baseNorm]);
  return { n: nq, k, index, dist2 };
}

/**
 * Approximate k nearest neighbours of every row among the rows themselves
 * (never itself): an inverted-file search. k-means cuts the rows into
 * `lists` cells; each cell's rows are compared exactly (one matMul) with the
 * rows of the `probes` cells whose centroids are nearest its own. Exact
 * search over 60k rows costs ~25 s on the wasm backend (its matMul is
 * memory-bound for these shapes); this takes ~2 s and finds nearly all true
 * neighbours (label spreading loses about a point: see LabelGraph.build).
 * `queries` (outside rows, e.g. the test images) get their neighbours among
 * the rows from the same cells, as `queryNb`.
 */
export function approximateKnn(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
  opts: {
    lists?: number;
    probes?: number;
    seed?: number;
    queries?: { data: Float32Array; n: number };
  } = {},
): Neighbours & { queryNb: Neighbours | null } {
  const lists = Math.max(
    1,
    Math.min(opts.lists ?? Math.round(Math.sqrt(n)), n),
  );
  const probes = Math.min(lists, opts.probes ?? 8);
  const km = kmeans(data, n, dim, lists, { seed: opts.seed, iterations: 6 });
  const members: number[][] = Array.from({ length: lists }, () => []);
  for (let i = 0; i < n; i++) members[km.assign[i]].push(i);
  // Each cell's nearest cells by centroid distance (itself first).
  const near: number[][] = [];
  for (let c = 0; c < lists; c++) {
    const d = new Float64Array(lists);
    for (let o = 0; o < lists; o++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const t = km.centroids[c * dim + j] - km.centroids[o * dim + j];
        s += t * t;
      }
      d[o] = s;
    }
    near.push(
      [...d.keys()].sort((a, b) => d[a] - d[b]).slice(0, probes),
    );
  }
  const self = searchCells(data, data, n, dim, k, members, near, true);
  let queryNb: Neighbours | null = null;
  if (opts.queries && opts.queries.n > 0) {
    const q = opts.queries;
    const assign = assignToCentroids(q.data, q.n, dim, km.centroids, lists);
    const qMembers: number[][] = Array.from({ length: lists }, () => []);
    for (let i = 0; i < q.n; i++) qMembers[assign[i]].push(i);
    queryNb = searchCells(
      q.data,
      data,
      q.n,
      dim,
      k,
      qMembers,
      near,
      false,
      members,
    );
  }
  return { ...self, queryNb };
}

/**
 * The k nearest base rows of every query row, each query compared with the
 * base rows of its cell's `near` cells. With `excludeSelf` the queries are
 * the base rows (`queryCells` = `baseCells`) and a row is never its own
 * neighbour.
 */
function searchCells(
  queries: Float32Array,
  base: Float32Array,
  nq: number,
  dim: number,
  k: number,
  queryCells: number[][],
  near: number[][],
  excludeSelf: boolean,
  baseCells: number[][] = queryCells,
): Neighbours {
  const index = new Int32Array(nq * k).fill(-1);
  const dist2 = new Float32Array(nq * k).fill(Infinity);
  const extra = excludeSelf ? 1 : 0;
  for (let c = 0; c < queryCells.length; c++) {
    const rows = queryCells[c];
    if (rows.length === 0) continue;
    const cand = near[c].flatMap((o) => baseCells[o]);
    const kk = Math.min(k + extra, cand.length);
    if (kk === 0) continue;
    const q = gather(queries, rows, dim);
    const b = gather(base, cand, dim);
    const [vals, idx] = tf.tidy(() => {
      const qt = tf.tensor2d(q, [rows.length, dim]);
      const bt = tf.tensor2d(b, [cand.length, dim]);
      const qn = tf.sum(tf.square(qt), 1).reshape([rows.length, 1]);
      const bn = tf.sum(tf.square(bt), 1).reshape([1, cand.length]);
      const negD = tf.sub(
        tf.mul(tf.matMul(qt, tf.transpose(bt)), 2),
        tf.add(qn, bn),
      );
      const top = tf.topk(negD, kk, true);
      return [top.values, top.indices];
    });
    const v = vals.dataSync() as Float32Array;
    const ix = idx.dataSync() as Int32Array;
    tf.dispose([vals, idx]);
    rows.forEach((row, r) => {
      let w = 0;
      for (let j = 0; j < kk && w < k; j++) {
        const nb = cand[ix[r * kk + j]];
        if (excludeSelf && nb === row) continue;
        index[row * k + w] = nb;
        dist2[row * k + w] = Math.max(0, -v[r * kk + j]);
        w++;
      }
      // Fewer candidates than k (tiny data): repeat the farthest found.
      for (; w < k && w > 0; w++) {
        index[row * k + w] = index[row * k + w - 1];
        dist2[row * k + w] = dist2[row * k + w - 1];
      }
    });
  }
  return { n: nq, k, index, dist2 };
}

function gather(data: Float32Array, rows: number[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) =>
    out.set(data.subarray(r * dim, (r + 1) * dim), i * dim)
  );
  return out;
}
