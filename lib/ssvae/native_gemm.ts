/**
 * A native single-precision GEMM (matrix product) through Deno's FFI, for the
 * wasm backend's MatMul kernel (see backend.ts).
 *
 * Why: tfjs' wasm backend computes matrix products with XNNPACK compiled to
 * WebAssembly, whose SIMD is 128 bits wide and has no fused multiply-add; the
 * machines' AVX2/FMA cores do 4x the arithmetic per cycle natively, and the
 * SSVAE's time is almost all matrix products. No tfjs package gives native
 * kernels under Deno (`tfjs-node` cannot be installed, stack notes), so we call
 * a native BLAS that is already on the machine: oneDNN's `dnnl_sgemm`
 * (libdnnl2, a dependency of Debian's python3-torch) or OpenBLAS'
 * `cblas_sgemm` (libopenblas0). Nothing here is a hand-written kernel: the
 * arithmetic is the library's.
 *
 * Each call runs on the calling thread only (we set the library's thread count
 * to 1): the trainer already splits every batch across two threads, and a
 * single-threaded GEMM gives the same bits on every run.
 *
 * `SSVAE_NATIVE_GEMM` chooses: `off` (tfjs' own kernel), `dnnl`, `openblas`,
 * or unset/`auto` (the first that loads, in that order).
 */

/**
 * Row-major C[M×N] = op(A)·op(B) + beta·C, op = transpose when the flag is set;
 * beta is 0 (C's old contents ignored) unless given.
 */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  beta?: number,
) => void;

/** A loaded library. */
export interface NativeGemm {
  /** `dnnl` or `openblas`, and the file it came from. */
  name: string;
  library: string;
  sgemm: Sgemm;
}

type Choice = "off" | "auto" | "dnnl" | "openblas";

function envChoice(): Choice {
  try {
    const v = Deno.env.get("SSVAE_NATIVE_GEMM");
    if (v === "off" || v === "dnnl" || v === "openblas") return v;
  } catch {
    // No env permission: auto.
  }
  return "auto";
}

const T = 84, N = 78; // 'T', 'N'

function loadDnnl(): NativeGemm {
  const library = "libdnnl.so.2";
  const lib = Deno.dlopen(library, {
    dnnl_sgemm: {
      parameters: [
        "u8",
        "u8",
        "i64",
        "i64",
        "i64",
        "f32",
        "buffer",
        "i64",
        "buffer",
        "i64",
        "f32",
        "buffer",
        "i64",
      ],
      result: "i32",
    },
  });
  // oneDNN threads with OpenMP; one thread per caller (see the module comment).
  // The thread count is per calling thread in libgomp, so every thread that
  // loads this module sets it for itself.
  const omp = Deno.dlopen("libgomp.so.1", {
    omp_set_num_threads: { parameters: ["i32"], result: "void" },
  });
  omp.symbols.omp_set_num_threads(1);
  const f = lib.symbols.dnnl_sgemm;
  return {
    name: "dnnl",
    library,
    sgemm: (ta, tb, m, n, k, a, b, c, beta = 0) => {
      const status = f(
        ta ? T : N,
        tb ? T : N,
        BigInt(m),
        BigInt(n),
        BigInt(k),
        1,
        a,
        BigInt(ta ? m : k),
        b,
        BigInt(tb ? k : n),
        beta,
        c,
        BigInt(n),
      );
      if (status !== 0) throw new Error(`dnnl_sgemm failed (status ${status})`);
    },
  };
}

function loadOpenBlas(): NativeGemm {
  const library = "libopenblas.so.0";
  const lib = Deno.dlopen(library, {
    cblas_sgemm: {
      parameters: [
        "i32",
        "i32",
        "i32",
        "i32",
        "i32",
        "i32",
        "f32",
        "buffer",
        "i32",
        "buffer",
        "i32",
        "f32",
        "buffer",
        "i32",
      ],
      result: "void",
    },
    openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  });
  lib.symbols.openblas_set_num_threads(1);
  const f = lib.symbols.cblas_sgemm;
  const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
  return {
    name: "openblas",
    library,
    sgemm: (ta, tb, m, n, k, a, b, c, beta = 0) =>
      f(
        ROW_MAJOR,
        ta ? TRANS : NO_TRANS,
        tb ? TRANS : NO_TRANS,
        m,
        n,
        k,
        1,
        a,
        ta ? m : k,
        b,
        tb ? k : n,
        beta,
        c,
        n,
      ),
  };
}

let loaded: NativeGemm | null | undefined;

/**
 * The native GEMM of this thread, loaded once; null when it is switched off or
 * no library (or no FFI permission) is available. Never throws.
 */
export function nativeGemm(): NativeGemm | null {
  if (loaded !== undefined) return loaded;
  const choice = envChoice();
  const order = choice === "auto"
    ? [loadDnnl, loadOpenBlas]
    : choice === "dnnl"
    ? [loadDnnl]
    : choice === "openblas"
    ? [loadOpenBlas]
    : [];
  loaded = null;
  for (const load of order) {
    try {
      loaded = load();
      break;
    } catch {
      // Library missing or FFI not permitted: try the next, else use tfjs' own.
    }
  }
  return loaded;
}
