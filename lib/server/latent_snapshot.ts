import { BOOT_ID } from "./boot_id.ts";

/**
 * The compact binary latent snapshot served at /api/latent (layout in
 * docs/architecture.md). JSON for 60k points would be ~3 MB and slow to parse;
 * this is ~840 kB and maps straight onto typed arrays in the browser.
 *
 * Little-endian: "LAT1", u32 version, u32 N, u32 0, f32 x[N], f32 y[N],
 * u8 predClass[N], u8 certainty255[N], i8 userLabel[N] (-1 none), pad to 4.
 */

export const LATENT_MAGIC = "LAT1";
export const LATENT_HEADER_BYTES = 16;

export interface LatentSource {
  /** N*latentDim z_mean values. */
  latent: Float32Array;
  latentDim: number;
  predClass: Uint8Array;
  certainty: Float32Array;
  /** Live label view: NaN = unlabelled. */
  labels: Float32Array;
  count: number;
}

export function latentByteLength(count: number): number {
  const raw = LATENT_HEADER_BYTES + 8 * count + 3 * count;
  return (raw + 3) & ~3;
}

export function encodeLatent(src: LatentSource, version: number): Uint8Array {
  const n = src.count;
  const out = new Uint8Array(latentByteLength(n));
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = LATENT_MAGIC.charCodeAt(i);
  view.setUint32(4, version >>> 0, true);
  view.setUint32(8, n, true);
  view.setUint32(12, 0, true);
  // x and y start at offsets 16 and 16+4N: both 4-byte aligned, so typed views
  // work (and the browser can do the same without copying).
  const x = new Float32Array(out.buffer, LATENT_HEADER_BYTES, n);
  const y = new Float32Array(out.buffer, LATENT_HEADER_BYTES + 4 * n, n);
  const d = src.latentDim;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let i = 0; i < n; i++) {
    // A 1-D latent plots on a line; for d > 2 the first two dimensions are shown.
    const xv = src.latent[i * d];
    const yv = d > 1 ? src.latent[i * d + 1] : 0;
    if (littleEndian) {
      x[i] = xv;
      y[i] = yv;
    } else {
      view.setFloat32(LATENT_HEADER_BYTES + 4 * i, xv, true);
      view.setFloat32(LATENT_HEADER_BYTES + 4 * n + 4 * i, yv, true);
    }
  }
  let off = LATENT_HEADER_BYTES + 8 * n;
  out.set(src.predClass.subarray(0, n), off);
  off += n;
  for (let i = 0; i < n; i++) {
    const c = src.certainty[i];
    out[off + i] = Number.isFinite(c)
      ? Math.round(Math.min(1, Math.max(0, c)) * 255)
      : 0;
  }
  off += n;
  writeUserLabels(out, n, src.labels);
  return out;
}

/** Rewrites only the userLabel section (labels change far more often than predictions). */
export function writeUserLabels(
  out: Uint8Array,
  n: number,
  labels: Float32Array,
): void {
  const off = LATENT_HEADER_BYTES + 10 * n;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    out[off + i] = Number.isNaN(l) ? 0xff : l; // 0xff = int8 -1
  }
}

export interface DecodedLatent {
  version: number;
  count: number;
  x: Float32Array;
  y: Float32Array;
  predClass: Uint8Array;
  certainty255: Uint8Array;
  userLabel: Int8Array;
}

/** Inverse of encodeLatent (tests, benchmarks; the browser has its own copy). */
export function decodeLatent(bytes: Uint8Array): DecodedLatent {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== LATENT_MAGIC) throw new Error(`bad latent magic ${magic}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  const n = view.getUint32(8, true);
  if (bytes.byteLength !== latentByteLength(n)) {
    throw new Error(
      `latent snapshot is ${bytes.byteLength} bytes, expected ${
        latentByteLength(n)
      }`,
    );
  }
  const copy = bytes.slice(); // aligned, owned buffer
  const b = copy.buffer;
  return {
    version,
    count: n,
    x: new Float32Array(b, 16, n),
    y: new Float32Array(b, 16 + 4 * n, n),
    predClass: new Uint8Array(b, 16 + 8 * n, n),
    certainty255: new Uint8Array(b, 16 + 9 * n, n),
    userLabel: new Int8Array(b, 16 + 10 * n, n),
  };
}

/**
 * Caches the encoded snapshot: predictions are encoded once per version; a
 * label change only rewrites the N-byte userLabel section. The ETag covers
 * both, so a browser's cached copy is never served with stale labels.
 */
export class LatentCache {
  #bytes: Uint8Array | null = null;
  #version = -1;
  #labelsRev = -1;

  get(
    src: LatentSource,
    version: number,
    labelsRev: number,
  ): { bytes: Uint8Array; etag: string } {
    if (this.#bytes === null || this.#version !== version) {
      this.#bytes = encodeLatent(src, version);
      this.#version = version;
      this.#labelsRev = labelsRev;
    } else if (this.#labelsRev !== labelsRev) {
      // The bytes already handed to earlier responses must not change under them.
      const next = this.#bytes.slice();
      writeUserLabels(next, src.count, src.labels);
      this.#bytes = next;
      this.#labelsRev = labelsRev;
    }
    return { bytes: this.#bytes, etag: latentEtag(version, labelsRev) };
  }
}

/**
 * Versions restart at 1 with every server start; the boot id keeps an ETag from
 * an earlier run (other labels, another model) from ever matching.
 */
export function latentEtag(version: number, labelsRev: number): string {
  return `"${BOOT_ID}-v${version}-l${labelsRev}"`;
}
