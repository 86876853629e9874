/**
 * `GET /api/probs`: the classifier's probabilities for every image, quantised
 * to one byte each, so the page can rank suggestions itself
 * (lib/active/strategies.ts) without a round trip per label.
 *
 * Little-endian: "PRB1", u32 version, u32 N, u32 classes (10), then
 * u8 round(p * 255)[N × classes], row-major. 600 kB for 60k images.
 */

import { BOOT_ID } from "./boot_id.ts";

export const PROBS_MAGIC = "PRB1";
export const PROBS_HEADER_BYTES = 16;

export function encodeProbs(
  probs: Float32Array,
  count: number,
  classes: number,
  version: number,
): Uint8Array {
  const out = new Uint8Array(PROBS_HEADER_BYTES + count * classes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = PROBS_MAGIC.charCodeAt(i);
  view.setUint32(4, version >>> 0, true);
  view.setUint32(8, count, true);
  view.setUint32(12, classes, true);
  const n = count * classes;
  for (let i = 0; i < n; i++) {
    const p = probs[i];
    out[PROBS_HEADER_BYTES + i] = p > 0
      ? (p >= 1 ? 255 : Math.round(p * 255))
      : 0; // NaN too
  }
  return out;
}

/** Encodes once per prediction version. */
export class ProbsCache {
  #bytes: Uint8Array | null = null;
  #version = -1;

  get(
    probs: Float32Array,
    count: number,
    version: number,
  ): { bytes: Uint8Array; etag: string } {
    if (this.#bytes === null || this.#version !== version) {
      this.#bytes = encodeProbs(probs, count, 10, version);
      this.#version = version;
    }
    return { bytes: this.#bytes, etag: `"${BOOT_ID}-p${version}"` };
  }
}
