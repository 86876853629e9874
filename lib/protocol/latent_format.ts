/**
 * LAT1, the binary latent snapshot of `GET /api/latent`: the one definition
 * of its layout, written by the server (lib/server/latent_cache.ts) and by the
 * offline page (which keeps its cached copy in step with the labels), read by
 * the page. JSON for 60k points would be ~3 MB and slow to parse; this is
 * ~660 kB and maps straight onto typed arrays.
 *
 * Little-endian: "LAT1", u32 version, u32 N, u32 0, then f32 x[N], f32 y[N],
 * u8 predClass[N], u8 round(certainty · 255)[N], i8 userLabel[N] (-1 none),
 * padded to 4 bytes. x and y start at offsets 16 and 16 + 4N, both 4-byte
 * aligned, so every column is a typed-array view on the bytes (no copy).
 */

export const LATENT_MAGIC = "LAT1";
export const LATENT_HEADER_BYTES = 16;

/**
 * The columns are read and written as typed-array views, which use the host's
 * byte order: every platform Deno and the browsers run on is little-endian.
 * Said once here rather than assumed silently.
 */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("LAT1 needs a little-endian host");
}

/** A decoded snapshot: every column a view on one buffer. */
export interface LatentSnapshot {
  version: number;
  count: number;
  x: Float32Array;
  y: Float32Array;
  predClass: Uint8Array;
  /** round(certainty · 255). */
  certainty: Uint8Array;
  /** -1 = unlabelled. */
  userLabel: Int8Array;
}

export class LatentFormatError extends Error {
  override name = "LatentFormatError";
}

/** Bytes of a snapshot with `count` points (header, 11 bytes a point, padding). */
export function latentByteLength(count: number): number {
  return (LATENT_HEADER_BYTES + 11 * count + 3) & ~3;
}

/** The column views of a snapshot whose header starts at `offset` of `buffer`. */
function views(
  buffer: ArrayBuffer,
  offset: number,
  version: number,
  count: number,
): LatentSnapshot {
  const h = offset + LATENT_HEADER_BYTES;
  return {
    version,
    count,
    x: new Float32Array(buffer, h, count),
    y: new Float32Array(buffer, h + 4 * count, count),
    predClass: new Uint8Array(buffer, h + 8 * count, count),
    certainty: new Uint8Array(buffer, h + 9 * count, count),
    userLabel: new Int8Array(buffer, h + 10 * count, count),
  };
}

/**
 * A zeroed snapshot of `count` points with its header written: the encoder
 * fills the columns in place, and `latentBytes` gives the bytes to send.
 */
export function allocateLatent(
  count: number,
  version: number,
): LatentSnapshot {
  const buffer = new ArrayBuffer(latentByteLength(count));
  const view = new DataView(buffer);
  for (let i = 0; i < 4; i++) view.setUint8(i, LATENT_MAGIC.charCodeAt(i));
  view.setUint32(4, version >>> 0, true);
  view.setUint32(8, count, true);
  view.setUint32(12, 0, true);
  return views(buffer, 0, version, count);
}

/** The bytes of a snapshot made by `allocateLatent` or `decodeLatent`. */
export function latentBytes(snap: LatentSnapshot): Uint8Array {
  const start = snap.x.byteOffset - LATENT_HEADER_BYTES;
  return new Uint8Array(
    snap.x.buffer as ArrayBuffer,
    start,
    latentByteLength(snap.count),
  );
}

/**
 * Encodes any snapshot (its columns may be separate arrays, e.g. after
 * `withLabels` replaced the label column): one copy into fresh bytes.
 */
export function encodeLatent(snap: LatentSnapshot): Uint8Array {
  const out = allocateLatent(snap.count, snap.version);
  out.x.set(snap.x.subarray(0, snap.count));
  out.y.set(snap.y.subarray(0, snap.count));
  out.predClass.set(snap.predClass.subarray(0, snap.count));
  out.certainty.set(snap.certainty.subarray(0, snap.count));
  out.userLabel.set(snap.userLabel.subarray(0, snap.count));
  return latentBytes(out);
}

/**
 * Reads LAT1 bytes. The columns are views on `buffer` when its offset is
 * 4-byte aligned (a fetch's ArrayBuffer always is), else on an aligned copy.
 */
export function decodeLatent(bytes: ArrayBuffer | Uint8Array): LatentSnapshot {
  let buffer: ArrayBuffer, offset: number;
  if (bytes instanceof Uint8Array) {
    if (bytes.byteOffset % 4 === 0 && bytes.buffer instanceof ArrayBuffer) {
      buffer = bytes.buffer;
      offset = bytes.byteOffset;
    } else {
      buffer = bytes.slice().buffer;
      offset = 0;
    }
  } else {
    buffer = bytes;
    offset = 0;
  }
  const length = bytes.byteLength;
  if (length < LATENT_HEADER_BYTES) {
    throw new LatentFormatError(
      `latent snapshot too short: ${length} bytes, header needs ${LATENT_HEADER_BYTES}`,
    );
  }
  const view = new DataView(buffer, offset, length);
  const magic = String.fromCharCode(
    view.getUint8(0),
    view.getUint8(1),
    view.getUint8(2),
    view.getUint8(3),
  );
  if (magic !== LATENT_MAGIC) {
    throw new LatentFormatError(
      `latent snapshot magic ${
        JSON.stringify(magic)
      }, expected "${LATENT_MAGIC}"`,
    );
  }
  const version = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const need = LATENT_HEADER_BYTES + 11 * count;
  if (length < need) {
    throw new LatentFormatError(
      `latent snapshot of ${count} points needs ${need} bytes, got ${length}`,
    );
  }
  return views(buffer, offset, version, count);
}

/**
 * The certainty byte (round(certainty · 255)) as the page shows it: a whole
 * percent. The grid's certainty filter compares this same number.
 */
export function certaintyPercent(byte: number): number {
  return Math.round(byte / 2.55);
}

/** The label column's value of a label: -1 for none. */
export function userLabelByte(label: number | null): number {
  return label === null || Number.isNaN(label) ? -1 : label;
}
