/**
 * `GET /api/probs`: the classifier's probabilities for every image, quantised
 * to one byte each, so the page can rank suggestions itself
 * (lib/active/strategies.ts) without a round trip per label.
 *
 * Little-endian: "PRB1", u32 version, u32 N, u32 classes (the model's: 10
 * up to ten classes), then u8 round(p * 255)[N × classes], row-major. 600 kB
 * for 60k images of 10 classes.
 * Then, padded to 4 bytes, the default suggestion queue: u32 phase
 * (0 none, 1 coverage, 2 uncertainty), u32 M, u32 index[M], best first.
 */

import { BOOT_ID } from "./boot_id.ts";

export const PROBS_MAGIC = "PRB1";
export const PROBS_HEADER_BYTES = 16;

/** The default queue carried after the probabilities. */
export interface QueueTrailer {
  phase: "coverage" | "uncertainty" | null;
  order: Uint32Array;
}

export const PHASE_CODES = { none: 0, coverage: 1, uncertainty: 2 } as const;

export function encodeProbs(
  probs: Float32Array,
  count: number,
  classes: number,
  version: number,
  queue: QueueTrailer = { phase: null, order: new Uint32Array(0) },
): Uint8Array {
  const body = PROBS_HEADER_BYTES + count * classes;
  const trailerAt = (body + 3) & ~3;
  const out = new Uint8Array(trailerAt + 8 + 4 * queue.order.length);
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
  view.setUint32(trailerAt, PHASE_CODES[queue.phase ?? "none"], true);
  view.setUint32(trailerAt + 4, queue.order.length, true);
  for (let i = 0; i < queue.order.length; i++) {
    view.setUint32(trailerAt + 8 + 4 * i, queue.order[i], true);
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
    queue?: QueueTrailer,
  ): { bytes: Uint8Array; etag: string } {
    if (this.#bytes === null || this.#version !== version) {
      // The row width is the snapshot's (the model's class count).
      const classes = count > 0 ? probs.length / count : 10;
      this.#bytes = encodeProbs(probs, count, classes, version, queue);
      this.#version = version;
    }
    return { bytes: this.#bytes, etag: `"${BOOT_ID}-p${version}"` };
  }
}
