/**
 * Decoder of the binary latent snapshot served by `GET /api/latent`.
 *
 * Layout (little-endian): 16-byte header = "LAT1", uint32 version, uint32
 * count N, uint32 0; then float32 x[N], float32 y[N], uint8 predClass[N],
 * uint8 certainty255[N], int8 userLabel[N], padding to 4 bytes.
 *
 * Every column is a zero-copy typed-array view on the response buffer, so 60k
 * points cost no per-point objects and can go straight into Plotly.
 */

export interface LatentSnapshot {
  version: number;
  count: number;
  x: Float32Array;
  y: Float32Array;
  predClass: Uint8Array;
  /** round(certainty * 255). */
  certainty: Uint8Array;
  /** -1 = unlabelled. */
  userLabel: Int8Array;
}

export class LatentFormatError extends Error {
  override name = "LatentFormatError";
}

export const LATENT_MAGIC = "LAT1";
export const LATENT_HEADER_BYTES = 16;

/** Bytes of a snapshot with `count` points (header + columns + padding). */
export function latentByteLength(count: number): number {
  const raw = LATENT_HEADER_BYTES + count * 11;
  return Math.ceil(raw / 4) * 4;
}

export function decodeLatent(buffer: ArrayBuffer): LatentSnapshot {
  if (buffer.byteLength < LATENT_HEADER_BYTES) {
    throw new LatentFormatError(
      `latent snapshot too short: ${buffer.byteLength} bytes, header needs 16`,
    );
  }
  const view = new DataView(buffer);
  const magic = String.fromCharCode(
    view.getUint8(0),
    view.getUint8(1),
    view.getUint8(2),
    view.getUint8(3),
  );
  if (magic !== LATENT_MAGIC) {
    throw new LatentFormatError(
      `latent snapshot magic ${JSON.stringify(magic)}, expected "LAT1"`,
    );
  }
  const version = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const need = LATENT_HEADER_BYTES + count * 11;
  if (buffer.byteLength < need) {
    throw new LatentFormatError(
      `latent snapshot of ${count} points needs ${need} bytes, got ${buffer.byteLength}`,
    );
  }
  let off = LATENT_HEADER_BYTES;
  const x = new Float32Array(buffer, off, count);
  off += 4 * count;
  const y = new Float32Array(buffer, off, count);
  off += 4 * count;
  const predClass = new Uint8Array(buffer, off, count);
  off += count;
  const certainty = new Uint8Array(buffer, off, count);
  off += count;
  const userLabel = new Int8Array(buffer, off, count);
  return { version, count, x, y, predClass, certainty, userLabel };
}

/**
 * Returns a snapshot whose userLabel column is a fresh copy with `changes`
 * applied (other columns shared). A new array reference lets Plotly.react and
 * signals see the change. Out-of-range indices are ignored.
 */
export function withLabels(
  snap: LatentSnapshot,
  changes: ReadonlyArray<{ index: number; label: number | null }>,
): LatentSnapshot {
  let changed = false;
  for (const c of changes) {
    if (c.index >= 0 && c.index < snap.count) {
      const v = c.label === null ? -1 : c.label;
      if (snap.userLabel[c.index] !== v) changed = true;
    }
  }
  if (!changed) return snap;
  const userLabel = new Int8Array(snap.userLabel);
  for (const c of changes) {
    if (c.index >= 0 && c.index < snap.count) {
      userLabel[c.index] = c.label === null ? -1 : c.label;
    }
  }
  return { ...snap, userLabel };
}

/** Index of the least-certain unlabelled point, or -1 (active-learning pick). */
export function leastCertainUnlabelled(
  snap: LatentSnapshot,
  exclude?: number,
): number {
  let best = -1;
  let bestC = 256;
  const { certainty, userLabel, count } = snap;
  for (let i = 0; i < count; i++) {
    if (userLabel[i] < 0 && certainty[i] < bestC && i !== exclude) {
      bestC = certainty[i];
      best = i;
    }
  }
  return best;
}
