/**
 * The native GEMM behind the wasm backend's MatMul kernel (lib/ssvae/native_gemm.ts)
 * against tfjs' own result: the pure-JS `cpu` backend computes the same
 * products and gradients.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "./assert.ts";
import { initBackend, matMulEngine } from "../lib/ssvae/backend.ts";
import { nativeGemm } from "../lib/ssvae/native_gemm.ts";
import { fusedDense, fusedDenseAvailable } from "../lib/ssvae/dense_kernels.ts";

await initBackend("wasm");
const native = nativeGemm();

/** max |x − y| / max |y|: a normwise relative difference of two arrays. */
function relDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assertEquals(x.length, y.length);
  let d = 0, scale = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return d / Math.max(scale, 1e-30);
}

/** Product and both gradients of sum((op(a)·op(b))²), on the current backend. */
function productAndGrads(
  a: Float32Array,
  aShape: [number, number],
  b: Float32Array,
  bShape: [number, number],
  ta: boolean,
  tb: boolean,
): Float32Array[] {
  return tf.tidy(() => {
    const at = tf.tensor2d(a, aShape), bt = tf.tensor2d(b, bShape);
    const f = (x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.square(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb)));
    const [ga, gb] = tf.grads(f)([at, bt]);
    return [tf.matMul(at, bt, ta, tb), ga, gb].map((t) =>
      t.dataSync() as Float32Array
    );
  });
}

function seeded(n: number, seed: number): Float32Array {
  // A small LCG: the test needs fixed numbers, not good randomness.
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

Deno.test({
  name:
    "native matMul: products and gradients match tfjs' cpu backend for every transpose case",
  ignore: !native,
  fn: async () => {
    assert(matMulEngine().startsWith(native!.name), matMulEngine());
    // Odd sizes (no multiple of a SIMD width) and the model's real ones.
    for (const [m, k, n] of [[13, 37, 21], [64, 784, 48], [1, 64, 10]]) {
      for (
        const [ta, tb] of [[false, false], [false, true], [true, false], [
          true,
          true,
        ]]
      ) {
        const aShape: [number, number] = ta ? [k, m] : [m, k];
        const bShape: [number, number] = tb ? [n, k] : [k, n];
        const a = seeded(m * k, m + 7 * k), b = seeded(k * n, n + 3 * k);
        const got = productAndGrads(a, aShape, b, bShape, ta, tb);
        await tf.setBackend("cpu");
        let want: Float32Array[];
        try {
          want = productAndGrads(a, aShape, b, bShape, ta, tb);
        } finally {
          await tf.setBackend("wasm");
        }
        got.forEach((g, i) => {
          const d = relDiff(g, want[i]);
          // float32 sums of up to 784 terms in another order: ~1e-6 of the largest value.
          assert(
            d < 1e-5,
            `${m}x${k}x${n} ta=${ta} tb=${tb} output ${i}: differs by ${d}`,
          );
        });
      }
    }
  },
});

Deno.test({
  name: "native matMul: the same inputs give the same bits every time",
  ignore: !native,
  fn: () => {
    const a = seeded(128 * 784, 1), b = seeded(784 * 64, 2);
    const first = productAndGrads(a, [128, 784], b, [784, 64], false, false);
    const again = productAndGrads(a, [128, 784], b, [784, 64], false, false);
    first.forEach((x, i) => assertEquals(x, again[i]));
  },
});

Deno.test("batched (3-D) products still work on the wasm backend", () => {
  const out = tf.tidy(() => {
    const a = tf.tensor3d(seeded(2 * 3 * 4, 5), [2, 3, 4]);
    const b = tf.tensor3d(seeded(2 * 4 * 5, 6), [2, 4, 5]);
    const c = tf.matMul(a, b);
    // Row 0 of batch 1 by hand.
    const av = a.arraySync()[1][0], bv = b.arraySync()[1];
    const want = bv[0].map((_, j) =>
      av.reduce((s, x, p) => s + x * bv[p][j], 0)
    );
    return { got: (c as tf.Tensor3D).arraySync()[1][0], want };
  });
  assert(relDiff(out.got, out.want) < 1e-5);
});

Deno.test({
  name:
    "fused dense layer: output and gradients match tfjs' matMul + add + leakyRelu",
  ignore: !fusedDenseAvailable(),
  fn: () => {
    const [n, k, m] = [37, 29, 23];
    for (const alpha of [0.01, null]) {
      const x = tf.tensor2d(seeded(n * k, 11), [n, k]);
      const w = tf.tensor2d(seeded(k * m, 12), [k, m]);
      const b = tf.tensor1d(seeded(m, 13));
      // A weighted sum, so every output element gets its own gradient.
      const r = tf.tensor2d(seeded(n * m, 14), [n, m]);
      type F = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
      const fused: F = (x, w, b) =>
        fusedDense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, alpha);
      const composite: F = (x, w, b) => {
        const z = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
        return (alpha === null ? z : tf.leakyRelu(z, alpha)) as tf.Tensor2D;
      };
      const outputs = (f: F) =>
        tf.tidy(() => {
          const y = f(x, w, b);
          const grads = tf.grads((x, w, b) => tf.sum(tf.mul(f(x, w, b), r)))(
            [x, w, b],
          );
          return [y, ...grads].map((t) => t.dataSync() as Float32Array);
        });
      const got = outputs(fused), want = outputs(composite);
      const names = ["y", "dx", "dw", "db"];
      got.forEach((g, i) => {
        const d = relDiff(g, want[i]);
        assert(d < 1e-5, `alpha ${alpha}: ${names[i]} differs by ${d}`);
      });
      tf.dispose([x, w, b, r]);
    }
  },
});

Deno.test({
  name:
    "fused dense layer: no gradient is computed for an input that needs none",
  ignore: !fusedDenseAvailable(),
  fn: async () => {
    // Only w and b are trained: the images' gradient kernel must not run.
    const x = tf.tensor2d(seeded(8 * 5, 21), [8, 5]);
    const w = tf.variable(tf.tensor2d(seeded(5 * 3, 22), [5, 3]));
    const b = tf.variable(tf.tensor1d(seeded(3, 23)));
    const info = await tf.profile(() => {
      const { grads, value } = tf.variableGrads(
        () => tf.sum(fusedDense(x, w, b, 0.01)),
        [w, b],
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = info.kernels.map((k) => k.name);
    assert(names.includes("SSVAEDenseGradW"), names.join(" "));
    assert(names.includes("SSVAEDenseGradB"), names.join(" "));
    assert(!names.includes("SSVAEDenseGradX"), names.join(" "));
    tf.dispose([x, w, b]);
  },
});
