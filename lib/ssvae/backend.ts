/**
 * TensorFlow.js set-up: the wasm backend (XNNPACK, SIMD) with a fast BatchMatMul
 * gradient, or the pure-JS `cpu` backend as a fallback.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { fileURLToPath } from "node:url";

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

/** The permutation that transposes the last two axes of a rank-r tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}
