/**
 * The WebAssembly spread kernel (lib/graph/spread_kernel.ts): its bytes are
 * the assembly of its source, and its iterations match a plain JavaScript
 * F ← α·S·F + Y0 on random graphs of every lane layout.
 */
import { assert, assertEquals } from "./assert.ts";
import { base64ToBytes } from "../lib/protocol/base64.ts";
import { buildGraph, type Graph } from "../lib/graph/label_spreading.ts";
import { spreadIterations } from "../lib/graph/spread_kernel.ts";
import { SPREAD_KERNEL_WASM } from "../lib/graph/spread_kernel_wasm.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { assembleSpreadKernel } from "../scripts/build_wasm.ts";

Deno.test("the committed kernel bytes are the assembly of spread_kernel.wat", async () => {
  assertEquals(base64ToBytes(SPREAD_KERNEL_WASM), await assembleSpreadKernel());
});

/** A random symmetric 6-NN graph over `n` nodes. */
function randomGraph(n: number, seed: number): Graph {
  const rng = new Rng(seed);
  const k = 6;
  const index = new Int32Array(n * k);
  const dist2 = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const d = Array.from({ length: k }, () => rng.uniform()).sort();
    for (let j = 0; j < k; j++) {
      index[i * k + j] = (i + 1 + Math.floor(rng.uniform() * (n - 1))) % n;
      dist2[i * k + j] = d[j];
    }
  }
  return buildGraph({ n, k, index, dist2 });
}

/** The reference: the same iteration in doubles, row by row. */
function reference(
  g: Graph,
  y0: Float32Array,
  start: Float32Array,
  C: number,
  alpha: number,
  iterations: number,
): Float64Array {
  let f = Float64Array.from(start);
  let next = new Float64Array(f.length);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < g.n; i++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
          s += g.val[e] * f[g.col[e] * C + c];
        }
        next[i * C + c] = alpha * s + y0[i * C + c];
      }
    }
    [f, next] = [next, f];
  }
  return f;
}

/** The largest difference from the reference, against the reference's largest value. */
function assertClose(got: Float32Array, want: Float64Array) {
  assertEquals(got.length, want.length);
  let worst = 0, scale = 0;
  for (let j = 0; j < want.length; j++) {
    worst = Math.max(worst, Math.abs(got[j] - want[j]));
    scale = Math.max(scale, Math.abs(want[j]));
  }
  assert(scale > 1e-3, `the labels reached nothing (max ${scale})`);
  // f32 sums of ~12 terms, 30 times over: well within 1e-4 of the scale.
  assert(worst < 1e-4 * scale, `off by ${worst} (scale ${scale})`);
}

for (const C of [1, 3, 4, 10, 12, 13, 21]) {
  Deno.test(`the kernel's ${C}-class iterations match the reference`, () => {
    const n = 301;
    const g = randomGraph(n, C);
    const rng = new Rng(100 + C);
    const y0 = new Float32Array(n * C);
    for (let i = 0; i < n; i += 7) {
      y0[i * C + Math.floor(rng.uniform() * C)] = 0.01;
    }
    const start = y0.map((v) => v * 100 + 0.001 * rng.uniform());
    assertClose(
      spreadIterations(g, y0, start, C, 0.99, 30),
      reference(g, y0, start, C, 0.99, 30),
    );
  });
}

Deno.test("the kernel follows a new graph, and the same graph twice gives the same bits", () => {
  const a = randomGraph(200, 1), b = randomGraph(500, 2);
  const rows = (n: number) => {
    const y = new Float32Array(n * 10);
    for (let i = 0; i < n; i += 9) y[i * 10 + (i % 10)] = 1;
    return y;
  };
  const ya = rows(200), yb = rows(500);
  const first = spreadIterations(a, ya, ya, 10, 0.99, 5);
  assertClose(first, reference(a, ya, ya, 10, 0.99, 5));
  assertClose(
    spreadIterations(b, yb, yb, 10, 0.99, 5),
    reference(b, yb, yb, 10, 0.99, 5),
  );
  assertEquals(spreadIterations(a, ya, ya, 10, 0.99, 5), first);
});
