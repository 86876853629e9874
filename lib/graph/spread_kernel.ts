/**
 * The iteration of label spreading in WebAssembly SIMD (source:
 * spread_kernel.wat): F ← α·S·F + Y0 over the graph's CSR matrix, four
 * classes per 128-bit lane group.
 *
 * Why hand-written: this loop is every propagation's whole cost (30
 * iterations over ~20 edges per image), and the review's self-check runs
 * five more per label. In plain JavaScript it ran at ~1 multiply-add per
 * nanosecond (a propagation of 60k images took 0.3 s, the check 1.8 s);
 * no npm package does sparse-times-dense products on typed arrays without
 * a heavy numeric stack, and tfjs has no sparse kernel.
 *
 * One instance per thread (module state), holding the last graph it was
 * given: the CSR arrays are copied into its memory once per graph, then
 * each propagation copies only its label rows in and its result out.
 */
import { base64ToBytes } from "../protocol/base64.ts";
import { SPREAD_KERNEL_WASM } from "./spread_kernel_wasm.ts";

/** The CSR matrix the kernel multiplies by (label_spreading.ts's Graph). */
export interface CsrMatrix {
  n: number;
  rowPtr: Int32Array;
  col: Int32Array;
  val: Float32Array;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  step3(
    n: number,
    rp: number,
    col: number,
    val: number,
    y0: number,
    src: number,
    dst: number,
    alpha: number,
  ): void;
  step1(
    n: number,
    rp: number,
    col: number,
    val: number,
    y0: number,
    src: number,
    dst: number,
    alpha: number,
    stride: number,
    off: number,
  ): void;
}

const PAGE = 65536;
/** Lane group: four f32 (16 bytes). */
const LANES = 4;

let kernel: KernelExports | null = null;
/** The graph whose CSR is in memory, and where its parts start. */
let bound: CsrMatrix | null = null;
let layout = { rp: 0, col: 0, val: 0, rows: 0 };

function instance(): KernelExports {
  if (!kernel) {
    const module = new WebAssembly.Module(
      new Uint8Array(base64ToBytes(SPREAD_KERNEL_WASM)),
    );
    kernel = new WebAssembly.Instance(module)
      .exports as unknown as KernelExports;
  }
  return kernel;
}

/** Bytes rounded up to a lane group, so every v128 access is aligned. */
const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Grows the memory to at least `bytes`. */
function reserve(k: KernelExports, bytes: number): void {
  const have = k.memory.buffer.byteLength;
  if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / PAGE));
}

/** Copies `g`'s CSR into the kernel's memory, unless it is there already. */
function bind(k: KernelExports, g: CsrMatrix): void {
  if (bound === g) return;
  const rp = 0;
  const col = align(rp + 4 * (g.n + 1));
  const val = align(col + 4 * g.col.length);
  const rows = align(val + 4 * g.val.length);
  reserve(k, rows);
  const buf = k.memory.buffer;
  new Int32Array(buf, rp, g.n + 1).set(g.rowPtr);
  new Int32Array(buf, col, g.col.length).set(g.col);
  new Float32Array(buf, val, g.val.length).set(g.val);
  bound = g;
  layout = { rp, col, val, rows };
}

/**
 * `iterations` of F ← α·S·F + Y0 from F = `start`, with `y0` and `start`
 * n × `classes` row-major; returns the final F (n × classes). Each row's
 * sum runs over its edges in CSR order, in f32.
 */
export function spreadIterations(
  g: CsrMatrix,
  y0: Float32Array,
  start: Float32Array,
  classes: number,
  alpha: number,
  iterations: number,
): Float32Array {
  const k = instance();
  bind(k, g);
  const { n } = g;
  const stride = Math.ceil(classes / LANES) * LANES;
  const rowBytes = 4 * n * stride;
  const y0At = layout.rows;
  const a = y0At + rowBytes;
  const b = a + rowBytes;
  reserve(k, b + rowBytes);
  const buf = k.memory.buffer;
  const pad = (src: Float32Array, at: number) => {
    const rows = new Float32Array(buf, at, n * stride);
    if (stride === classes) rows.set(src);
    else {
      rows.fill(0);
      for (let i = 0; i < n; i++) {
        rows.set(src.subarray(i * classes, (i + 1) * classes), i * stride);
      }
    }
  };
  pad(y0, y0At);
  pad(start, a);
  let src = a, dst = b;
  const { rp, col, val } = layout;
  for (let it = 0; it < iterations; it++) {
    if (stride === 12) k.step3(n, rp, col, val, y0At, src, dst, alpha);
    else {
      for (let off = 0; off < 4 * stride; off += 16) {
        k.step1(n, rp, col, val, y0At, src, dst, alpha, 4 * stride, off);
      }
    }
    [src, dst] = [dst, src];
  }
  const rows = new Float32Array(k.memory.buffer, src, n * stride);
  if (stride === classes) return rows.slice();
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    out.set(rows.subarray(i * stride, i * stride + classes), i * classes);
  }
  return out;
}
