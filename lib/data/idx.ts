/**
 * Reader for IDX files (the MNIST container format), plain or gzip-compressed.
 *
 * Layout: two zero bytes, a type code, the number of dimensions, one big-endian
 * uint32 per dimension, then the row-major data. Only unsigned bytes (type 0x08)
 * are supported: every MNIST-shaped dataset uses them.
 */

import { readFileShared } from "./shared_bytes.ts";

/** A problem with an IDX file: missing, malformed, truncated or of the wrong shape. */
export class IdxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdxError";
  }
}

/** The decoded contents of an IDX file. */
export interface IdxData {
  /** Size of each dimension, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** Row-major unsigned bytes; a view into the file's buffer, not a copy. */
  data: Uint8Array;
}

const TYPE_UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function label(path?: string): string {
  return path ?? "<IDX bytes>";
}

/**
 * Parses an uncompressed IDX file.
 *
 * Synchronous, so it cannot inflate gzip (the web `DecompressionStream` is
 * async): gzip input throws an IdxError pointing to `decodeIdx`/`readIdxFile`.
 */
export function parseIdx(bytes: Uint8Array, path?: string): IdxData {
  const name = label(path);
  if (isGzip(bytes)) {
    throw new IdxError(
      `${name}: data is gzip-compressed; use decodeIdx() or readIdxFile() to inflate it`,
    );
  }
  if (bytes.length < 4) {
    throw new IdxError(
      `${name}: truncated IDX file: ${bytes.length} bytes, shorter than the 4-byte magic number`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(
      bytes.subarray(0, 4),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join(" ");
    throw new IdxError(
      `${name}: not an IDX file: bad magic number ${magic} (expected 00 00 <type> <ndims>)`,
    );
  }
  const type = bytes[2];
  if (type !== TYPE_UBYTE) {
    const typeName = TYPE_NAMES[type] ?? "unknown";
    throw new IdxError(
      `${name}: unsupported IDX data type 0x${
        type.toString(16).padStart(2, "0")
      } (${typeName}); only 0x08 (unsigned byte) is supported`,
    );
  }
  const ndims = bytes[3];
  if (ndims === 0) {
    throw new IdxError(`${name}: IDX header declares 0 dimensions`);
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new IdxError(
      `${name}: truncated IDX file: ${bytes.length} bytes, shorter than its ${headerLength}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const dim = view.getUint32(4 + 4 * i, false);
    dims.push(dim);
    size *= dim;
  }
  const available = bytes.length - headerLength;
  if (available < size) {
    throw new IdxError(
      `${name}: truncated IDX file: dims [${
        dims.join(", ")
      }] need ${size} data bytes, found ${available}`,
    );
  }
  if (available > size) {
    throw new IdxError(
      `${name}: IDX dims mismatch: dims [${
        dims.join(", ")
      }] need ${size} data bytes, found ${available} (trailing data)`,
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

/** Inflates gzip bytes with the web-standard `DecompressionStream`. */
export async function gunzip(
  bytes: Uint8Array,
  path?: string,
): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (err) {
    throw new IdxError(
      `${label(path)}: corrupt or truncated gzip data: ${
        (err as Error).message
      }`,
    );
  }
}

/** Parses IDX bytes, inflating them first when they are gzip-compressed. */
export async function decodeIdx(
  bytes: Uint8Array,
  path?: string,
): Promise<IdxData> {
  // Blob refuses shared memory: the compressed bytes are copied (small).
  return parseIdx(
    isGzip(bytes) ? await gunzip(bytes.slice(), path) : bytes,
    path,
  );
}

/**
 * Reads and parses an IDX file, plain or gzip (detected by its magic 1f 8b).
 * A plain file's data is a view on a SharedArrayBuffer (the workers and the
 * server share it, lib/data/shared_bytes.ts); an inflated one is not.
 */
export async function readIdxFile(path: string): Promise<IdxData> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileShared(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new IdxError(`${path}: IDX file not found`);
    }
    throw new IdxError(
      `${path}: cannot read IDX file: ${(err as Error).message}`,
    );
  }
  return await decodeIdx(bytes, path);
}
