/**
 * One tfjs kernel per dense layer, `leakyRelu(x·W + b)` (or without the
 * activation), and its gradient, for the wasm backend when a native GEMM is
 * loaded (native_gemm.ts).
 *
 * Why not tfjs' own ops: written as `matMul`, `add`, `leakyRelu`, a layer is
 * three kernels forward and about eight backward (the bias gradient is a `Sum`
 * over the batch axis, which the wasm backend does through a transpose; the
 * leaky-ReLU gradient is `Greater` + `Select` + `Multiply`). With the products
 * native, those small kernels and their dispatch were most of a step
 * (bench/profile_epoch.ts). tfjs' fused op (`tf.fused.matMul` with bias and
 * activation) has one forward kernel, but its gradient supports only linear and
 * ReLU activations and it runs on XNNPACK-in-wasm. So the products here are the
 * native library's, and only the element-wise parts (bias, activation, its
 * derivative, the bias gradient's column sums) are plain loops, tested against
 * the composite tfjs ops in tests/native_gemm_test.ts.
 *
 * Forward: `SSVAEDense` {x [n, in], w [in, out], b [out]}, attr `alpha` (the
 * leaky slope, or -1 for no activation) → y [n, out]. Its gradient is lazy per
 * input, as tfjs' own are, so the first layer never computes a gradient for
 * the images: `SSVAEDenseGradX` {dy, w, y} → dx, `SSVAEDenseGradW` {dy, x, y}
 * → dW, `SSVAEDenseGradB` {dy, y} → db. With an activation, dy is first scaled
 * by the slope where y ≤ 0 (leakyRelu(z) > 0 exactly when z > 0, for a
 * positive slope, so y tells the sign of z).
 */
import * as tf from "@tensorflow/tfjs";
import type { NativeGemm } from "./native_gemm.ts";

/** The parts of tfjs' wasm backend object the kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

interface DenseAttrs {
  /** Leaky slope, or −1 for a linear layer. */
  alpha: number;
}

let registered = false;

/** Whether the fused dense kernels are registered in this thread. */
export function fusedDenseAvailable(): boolean {
  return registered && tf.getBackend() === "wasm";
}

/**
 * A dense layer as one kernel: `leakyRelu(x·w + b, alpha)`, or `x·w + b` when
 * `alpha` is null. Only when `fusedDenseAvailable()`.
 */
export function fusedDense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  alpha: number | null,
): tf.Tensor2D {
  return tf.engine().runKernel(
    "SSVAEDense",
    { x, w, b } as unknown as tf.NamedTensorMap,
    { alpha: alpha ?? -1 } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor2D;
}

/** Scratch for dy scaled by the activation's derivative (per thread, grown as needed). */
let scratch = new Float32Array(0);

/**
 * dy · f'(z) for leaky ReLU (read from y's sign), or dy itself when linear.
 * The returned array is scratch memory, valid until the next call.
 */
function activatedDy(
  dy: Float32Array,
  y: Float32Array,
  alpha: number,
): Float32Array {
  if (alpha < 0) return dy;
  if (scratch.length < dy.length) scratch = new Float32Array(dy.length);
  const out = scratch.subarray(0, dy.length);
  for (let i = 0; i < dy.length; i++) {
    out[i] = y[i] > 0 ? dy[i] : dy[i] * alpha;
  }
  return out;
}

/** Registers the kernels and the gradient; `gemm` does every product. */
export function registerFusedDense(gemm: NativeGemm): void {
  if (registered) return;
  const heap = (backend: unknown) => backend as WasmBackend;

  tf.registerKernel({
    kernelName: "SSVAEDense",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, w, b } = inputs as unknown as Record<string, tf.TensorInfo>;
      const { alpha } = attrs as unknown as DenseAttrs;
      const be = heap(backend);
      const [n, k] = x.shape, [k2, m] = w.shape;
      if (k !== k2 || b.shape[0] !== m) {
        throw new Error(`dense: shapes ${x.shape} · ${w.shape} + ${b.shape}`);
      }
      const out = be.makeOutput([n, m], "float32");
      const y = be.typedArrayFromHeap(out);
      const bias = be.typedArrayFromHeap(b);
      // y = bias (each row), then y = x·w + y in the library, then the
      // activation in place: the output is written once and read once.
      for (let r = 0; r < n; r++) y.set(bias, r * m);
      if (n > 0 && k > 0) {
        gemm.sgemm(
          false,
          false,
          n,
          m,
          k,
          be.typedArrayFromHeap(x),
          be.typedArrayFromHeap(w),
          y,
          1,
        );
      }
      if (alpha >= 0) {
        for (let i = 0; i < y.length; i++) {
          const v = y[i];
          if (v < 0) y[i] = v * alpha;
        }
      }
      return out;
    },
  });

  /**
   * The two product gradients, with g = dy·f'(z): dx = g · wᵀ
   * (SSVAEDenseGradX, `other` = w) and dw = xᵀ · g (SSVAEDenseGradW, x).
   */
  const productGradient = (kernelName: string, other: "w" | "x") =>
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const t = inputs as unknown as Record<string, tf.TensorInfo>;
        const { alpha } = attrs as unknown as DenseAttrs;
        const be = heap(backend);
        const [n, m] = t.dy.shape;
        const k = other === "w" ? t.w.shape[0] : t.x.shape[1];
        // Allocate first: a growing heap would detach views taken before.
        const out = be.makeOutput(other === "w" ? [n, k] : [k, m], "float32");
        const result = be.typedArrayFromHeap(out);
        const g = activatedDy(
          be.typedArrayFromHeap(t.dy),
          be.typedArrayFromHeap(t.y),
          alpha,
        );
        const o = be.typedArrayFromHeap(t[other]);
        if (other === "w") {
          if (n * k > 0) {
            if (m === 0) result.fill(0);
            else gemm.sgemm(false, true, n, k, m, g, o, result);
          }
        } else if (k * m > 0) {
          if (n === 0) result.fill(0);
          else gemm.sgemm(true, false, k, m, n, o, g, result);
        }
        return out;
      },
    });
  productGradient("SSVAEDenseGradX", "w");
  productGradient("SSVAEDenseGradW", "x");

  tf.registerKernel({
    kernelName: "SSVAEDenseGradB",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, y } = inputs as unknown as Record<string, tf.TensorInfo>;
      const { alpha } = attrs as unknown as DenseAttrs;
      const be = heap(backend);
      const [n, m] = dy.shape;
      const out = be.makeOutput([m], "float32");
      const d = be.typedArrayFromHeap(dy), yv = be.typedArrayFromHeap(y);
      // Column sums of dy·f'(z), accumulated in doubles (rows in order, so the
      // result is the same on every run).
      const acc = new Float64Array(m);
      for (let r = 0; r < n; r++) {
        const o = r * m;
        if (alpha < 0) {
          for (let c = 0; c < m; c++) acc[c] += d[o + c];
        } else {
          for (let c = 0; c < m; c++) {
            const v = d[o + c];
            acc[c] += yv[o + c] > 0 ? v : v * alpha;
          }
        }
      }
      be.typedArrayFromHeap(out).set(acc);
      return out;
    },
  });

  tf.registerGradient({
    kernelName: "SSVAEDense",
    inputsToSave: ["x", "w"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, w, y] = saved;
      const a = { alpha: (attrs as unknown as DenseAttrs).alpha };
      const run = (name: string, inputs: Record<string, tf.Tensor>) =>
        tf.engine().runKernel(
          name,
          inputs as tf.NamedTensorMap,
          a as unknown as tf.NamedAttrMap,
        ) as tf.Tensor;
      const g = dy as tf.Tensor;
      return {
        x: () => run("SSVAEDenseGradX", { dy: g, w, y }),
        w: () => run("SSVAEDenseGradW", { dy: g, x, y }),
        b: () => run("SSVAEDenseGradB", { dy: g, y }),
      };
    },
  });
  registered = true;
}
