/**
 * PRB1, the class probabilities of `GET /api/probs`: the one definition of
 * its layout, written by the server (lib/server/probs_cache.ts), read by the
 * page, which ranks its suggestion queue from it (lib/client/suggestions.ts)
 * without a round trip per label.
 *
 * Little-endian: "PRB1", u32 version, u32 N, u32 classes, then
 * u8 round(p · 255)[N × classes], row-major (600 kB for 60k MNIST images).
 * Then, padded to 4 bytes, the default suggestion queue: u32 phase
 * (0 none, 1 coverage, 2 uncertainty), u32 M, u32 index[M], best first.
 * A body without the trailer has no default queue.
 */

export const PROBS_MAGIC = "PRB1";
export const PROBS_HEADER_BYTES = 16;

/** What the label graph's default queue is doing. */
export type QueuePhase = "coverage" | "uncertainty" | null;

const PHASE_CODES = { none: 0, coverage: 1, uncertainty: 2 } as const;

/** The default queue carried after the probabilities. */
export interface QueueTrailer {
  phase: QueuePhase;
  order: Uint32Array;
}

/** A decoded body. */
export interface ProbsSnapshot {
  version: number;
  count: number;
  classes: number;
  /** count × classes, dequantised to byte / 255. */
  probs: Float32Array;
  /** The server's default queue (label graph), best first; empty if none. */
  queue: Uint32Array;
  queuePhase: QueuePhase;
}

export class ProbsFormatError extends Error {
  override name = "ProbsFormatError";
}

/** Where the queue trailer starts in a body of `count` × `classes`. */
function trailerOffset(count: number, classes: number): number {
  return (PROBS_HEADER_BYTES + count * classes + 3) & ~3;
}

export function encodeProbs(
  probs: Float32Array,
  count: number,
  classes: number,
  version: number,
  queue: QueueTrailer = { phase: null, order: new Uint32Array(0) },
): Uint8Array {
  const at = trailerOffset(count, classes);
  const out = new Uint8Array(at + 8 + 4 * queue.order.length);
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
  view.setUint32(at, PHASE_CODES[queue.phase ?? "none"], true);
  view.setUint32(at + 4, queue.order.length, true);
  for (let i = 0; i < queue.order.length; i++) {
    view.setUint32(at + 8 + 4 * i, queue.order[i], true);
  }
  return out;
}

export function decodeProbs(buffer: ArrayBuffer): ProbsSnapshot {
  if (buffer.byteLength < PROBS_HEADER_BYTES) {
    throw new ProbsFormatError(
      `probs: ${buffer.byteLength} bytes, header ${PROBS_HEADER_BYTES}`,
    );
  }
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== PROBS_MAGIC) {
    throw new ProbsFormatError(`probs magic ${JSON.stringify(magic)}`);
  }
  const version = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const classes = view.getUint32(12, true);
  const need = PROBS_HEADER_BYTES + count * classes;
  if (buffer.byteLength < need) {
    throw new ProbsFormatError(
      `probs of ${count}×${classes} need ${need} bytes, got ${buffer.byteLength}`,
    );
  }
  const bytes = new Uint8Array(buffer, PROBS_HEADER_BYTES, count * classes);
  const probs = new Float32Array(count * classes);
  for (let i = 0; i < probs.length; i++) probs[i] = bytes[i] / 255;
  const at = trailerOffset(count, classes);
  let queue = new Uint32Array(0);
  let queuePhase: QueuePhase = null;
  if (buffer.byteLength >= at + 8) {
    const phase = view.getUint32(at, true);
    const m = view.getUint32(at + 4, true);
    if (buffer.byteLength < at + 8 + 4 * m) {
      throw new ProbsFormatError(`probs queue of ${m} needs more bytes`);
    }
    queue = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      const v = view.getUint32(at + 8 + 4 * i, true);
      if (v >= count) throw new ProbsFormatError(`probs queue index ${v}`);
      queue[i] = v;
    }
    queuePhase = phase === PHASE_CODES.coverage
      ? "coverage"
      : phase === PHASE_CODES.uncertainty
      ? "uncertainty"
      : null;
  }
  return { version, count, classes, probs, queue, queuePhase };
}
