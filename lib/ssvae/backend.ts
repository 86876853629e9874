/**
 * TensorFlow.js set-up: the wasm backend (XNNPACK, SIMD) with a fast BatchMatMul
 * gradient, or the pure-JS `cpu` backend as a fallback. On wasm, 2-D matrix
 * products go to a native GEMM when one is available (native_gemm.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { fileURLToPath } from "node:url";
import { registerFusedDense } from "./dense_kernels.ts";
import { type NativeGemm, nativeGemm } from "./native_gemm.ts";

export type BackendName = "wasm" | "cpu";

let ready: Promise<void> | null = null;
let readyName: BackendName | null = null;

/**
 * Initialises tfjs once per process (or worker) on the named backend.
 * Defaults to `SSVAE_BACKEND` from the environment, else wasm.
 */
export function initBackend(name?: BackendName): Promise<void> {
  const wanted = name ?? envBackend() ?? "wasm";
  if (ready) {
    if (readyName !== wanted) {
      throw new Error(`tfjs backend already initialised as ${readyName}`);
    }
    return ready;
  }
  readyName = wanted;
  ready = setUp(wanted);
  return ready;
}

function envBackend(): BackendName | undefined {
  try {
    const v = Deno.env.get("SSVAE_BACKEND");
    if (v === "wasm" || v === "cpu") return v;
  } catch {
    // No env permission: use the default.
  }
  return undefined;
}

async function setUp(name: BackendName): Promise<void> {
  registerFastMatMulGradient();
  if (name === "wasm") {
    // tfjs resolves the .wasm files relative to this folder; it needs a real path
    // with a trailing slash (stack notes).
    const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
    const distDir = fileURLToPath(new URL("./", entry).href);
    setWasmPaths(await Deno.realPath(distDir) + "/");
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  if (name === "wasm") {
    const gemm = nativeGemm();
    if (gemm) {
      registerNativeMatMul(gemm);
      registerFusedDense(gemm);
    }
  }
}

/** The native GEMM the wasm MatMul kernel uses in this thread, if any. */
export function matMulEngine(): string {
  if (tf.getBackend() === "wasm" && nativeMatMul) {
    return `${nativeMatMul.name} (${nativeMatMul.library})`;
  }
  return `tfjs ${tf.getBackend()}`;
}

let nativeMatMul: NativeGemm | null = null;

/** The parts of tfjs' wasm backend object this module touches. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  dataIdMap: { get(dataId: object): { refCount: number } | undefined };
}

/**
 * Sets a float32 variable's values. On wasm, when no other tensor shares the
 * variable's memory, the values are copied straight into the wasm heap: the
 * optimizer does this for every parameter after every step, and a new tensor
 * plus `assign` per parameter (an allocation, a copy, a free, and engine
 * bookkeeping each) cost several times as much. Only with the native MatMul:
 * tfjs' own XNNPACK kernel caches packed weights by tensor id, and would not
 * see a change made in place. Otherwise: `assign`.
 */
export function setVariableValues(v: tf.Variable, values: Float32Array): void {
  if (values.length !== v.size) {
    throw new Error(`${v.name}: ${values.length} values for ${v.size}`);
  }
  if (nativeMatMul && tf.getBackend() === "wasm" && v.dtype === "float32") {
    const backend = tf.backend() as unknown as WasmBackend;
    if (backend.dataIdMap.get(v.dataId)?.refCount === 1) {
      backend.typedArrayFromHeap(v).set(values);
      return;
    }
  }
  const t = tf.tensor(values, v.shape, "float32");
  v.assign(t);
  t.dispose();
}

/**
 * Copies a float32 tensor's values into `dst` from `offset` on. On wasm it
 * reads a view of the heap: `dataSync` would first copy them into a new array
 * of their own, and for the evaluation, predict and gradient outputs those
 * arrays are most of what a training run allocates, freed only at the next
 * garbage collection (RSS that the process then keeps).
 */
export function readInto(t: tf.Tensor, dst: Float32Array, offset = 0): void {
  dst.set(valuesView(t), offset);
}

/**
 * A float32 tensor's values without a copy where the backend allows it (a
 * view of the wasm heap: valid only until the next tfjs call, which may grow
 * the heap), else `dataSync`. For large outputs read once in place, e.g. the
 * distance blocks of lib/graph/knn.ts (64 MB each).
 */
export function valuesView(t: tf.Tensor): Float32Array {
  if (t.dtype === "float32" && tf.getBackend() === "wasm") {
    return (tf.backend() as unknown as WasmBackend).typedArrayFromHeap(t);
  }
  return t.dataSync() as Float32Array;
}

/**
 * Replaces the wasm backend's BatchMatMul kernel: 2-D float products run in
 * the native GEMM, reading the operands from and writing the result straight
 * into the wasm heap (no copies); anything else (batched products) still goes
 * to tfjs' own kernel. Transpose flags cost nothing natively, so the gradient
 * below passes them instead of materialising transposes.
 */
function registerNativeMatMul(gemm: NativeGemm): void {
  const original = tf.getKernel("BatchMatMul", "wasm");
  if (!original) return;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as {
        transposeA: boolean;
        transposeB: boolean;
      };
      if (
        a.shape.length !== 2 || b.shape.length !== 2 ||
        a.dtype !== "float32" || b.dtype !== "float32"
      ) {
        return original.kernelFunc(args);
      }
      const backend = args.backend as unknown as WasmBackend;
      const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
      const [k2, n] = transposeB ? [b.shape[1], b.shape[0]] : b.shape;
      if (k !== k2) {
        throw new Error(
          `matMul: inner dimensions ${k} and ${k2} of shapes ${a.shape} and ${b.shape} differ`,
        );
      }
      // Allocate first: a heap growth would detach views taken before it.
      const out = backend.makeOutput([m, n], "float32");
      const c = backend.typedArrayFromHeap(out);
      if (m * n === 0) return out;
      if (k === 0) {
        c.fill(0);
        return out;
      }
      gemm.sgemm(
        transposeA,
        transposeB,
        m,
        n,
        k,
        backend.typedArrayFromHeap(a),
        backend.typedArrayFromHeap(b),
        c,
      );
      return out;
    },
  });
  nativeMatMul = gemm;
}

/**
 * tfjs' built-in BatchMatMul gradient passes transpose flags, which sends the wasm
 * backend's XNNPACK kernel down a naive path (5-7x slower training). This gradient
 * transposes explicitly and calls matMul without flags.
 */
function registerFastMatMulGradient(): void {
  tf.registerGradient({
    kernelName: "BatchMatMul",
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as {
        transposeA: boolean;
        transposeB: boolean;
      };
      const g = dy as tf.Tensor;
      // With the native kernel, 2-D transposes are flags (free); otherwise
      // they are explicit copies, which XNNPACK's fast path needs.
      if (nativeMatMul && a.rank === 2 && b.rank === 2) {
        return flaggedMatMulGrads(g, a, b, transposeA, transposeB);
      }
      const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y);
      const t = (x: tf.Tensor) => tf.transpose(x, swapLastTwo(x.rank));
      if (!transposeA && !transposeB) {
        return { a: () => mm(g, t(b)), b: () => mm(t(a), g) };
      } else if (!transposeA && transposeB) {
        return { a: () => mm(g, b), b: () => mm(t(g), a) };
      } else if (transposeA && !transposeB) {
        return { a: () => mm(b, t(g)), b: () => mm(a, g) };
      }
      return { a: () => mm(t(b), t(g)), b: () => mm(t(g), t(a)) };
    },
  });
}

/** MatMul's gradients written with transpose flags and no copies. */
function flaggedMatMulGrads(
  g: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
): { a: () => tf.Tensor; b: () => tf.Tensor } {
  const mm = (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) =>
    tf.matMul(x, y, tx, ty);
  if (!transposeA && !transposeB) {
    return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
  } else if (!transposeA && transposeB) {
    return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
  } else if (transposeA && !transposeB) {
    return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
  }
  return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
}

/** The permutation that transposes the last two axes of a rank-r tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}
