/**
 * The decoded-pixel cache beside the image index, one file per input shape
 * (`labels.images-28x28x1.cache`), so a start after the first reads one file
 * instead of decoding every image again.
 *
 * Layout: sealed (lib/cache_file.ts: version, the shape as key, a SHA-256 of
 * the rest), then magic "SSIMGC01" (8 bytes), uint32 LE header length H, H
 * bytes of JSON `{ width, height, channels, entries: [[path, size, mtimeMs,
 * slot, error]] }` (slot = the entry's place in the pixel block, -1 for a file
 * that failed to decode, with its error), padding to 8 bytes, then the pixel
 * block: `slots × height × width × channels` bytes. An entry is reused only
 * while the file's size and mtime are unchanged. A damaged file (or one of an
 * earlier version, which had no checksum) is reported and decoded afresh:
 * flipped bytes never reach the model.
 */

import { writeFileAtomic } from "../atomic_file.ts";
import type { ImageShape } from "./decode.ts";
import { readFileShared } from "../data/shared_bytes.ts";
import {
  CacheFileError,
  openCacheOffThread,
  sealParts,
} from "../cache_file.ts";

const MAGIC = "SSIMGC01";

/** The envelope's format and version (2: the first sealed one). */
const FORMAT = "image-pixels";
const VERSION = 2;

function shapeKey(shape: ImageShape): string {
  return `${shape.width}x${shape.height}x${shape.channels}`;
}

/** One file's cached result: pixels, or why it could not be decoded. */
export interface CacheEntry {
  size: number;
  mtimeMs: number;
  pixels: Uint8Array | null;
  error: string | null;
}

/** The cache file of an index and shape. */
export function cachePathFor(indexPath: string, shape: ImageShape): string {
  const base = indexPath.replace(/\.index\.csv$/i, "");
  return `${base}.images-${shape.width}x${shape.height}x${shape.channels}.cache`;
}

/**
 * Reads a cache (path → entry; pixels are views into one SharedArrayBuffer,
 * so an unchanged folder's images go to the workers without a copy). A
 * missing file is an empty cache; an unreadable, damaged or foreign one too,
 * and `warn` says why (it only costs a decode).
 */
export async function readCache(
  path: string,
  shape: ImageShape,
  warn: (reason: string) => void = () => {},
): Promise<Map<string, CacheEntry>> {
  const out = new Map<string, CacheEntry>();
  let file: Uint8Array;
  try {
    file = await readFileShared(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      warn(`unreadable (${(e as Error).message})`);
    }
    return out;
  }
  let bytes: Uint8Array;
  try {
    bytes = await openCacheOffThread(file, {
      format: FORMAT,
      version: VERSION,
      key: shapeKey(shape),
    });
  } catch (e) {
    if (!(e instanceof CacheFileError)) throw e;
    warn(e.reason);
    return out;
  }
  try {
    if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
      throw new Error("bad magic");
    }
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(
      8,
      true,
    );
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)),
    );
    if (
      header.width !== shape.width || header.height !== shape.height ||
      header.channels !== shape.channels
    ) {
      throw new Error("another image shape");
    }
    const pixels = shape.width * shape.height * shape.channels;
    const base = align8(12 + headerLength);
    for (
      const [rel, size, mtimeMs, slot, error] of header.entries as Array<
        [string, number, number, number, string | null]
      >
    ) {
      const start = base + slot * pixels;
      if (slot >= 0 && start + pixels > bytes.length) {
        throw new Error("truncated");
      }
      out.set(rel, {
        size,
        mtimeMs,
        pixels: slot >= 0 ? bytes.subarray(start, start + pixels) : null,
        error: slot >= 0 ? null : String(error ?? "unreadable"),
      });
    }
  } catch (e) {
    // Checksummed, so only a bug of an earlier writer gets here.
    warn(`damaged (${(e as Error).message})`);
    out.clear();
  }
  return out;
}

/** Writes the cache atomically (entries in the map's order). */
export async function writeCache(
  path: string,
  shape: ImageShape,
  entries: Map<string, CacheEntry>,
): Promise<void> {
  const pixels = shape.width * shape.height * shape.channels;
  const rows: Array<[string, number, number, number, string | null]> = [];
  let slots = 0;
  for (const [rel, e] of entries) {
    rows.push([rel, e.size, e.mtimeMs, e.pixels ? slots++ : -1, e.error]);
  }
  const header = new TextEncoder().encode(
    JSON.stringify({ ...shape, entries: rows }),
  );
  const base = align8(12 + header.length);
  const out = new Uint8Array(base + slots * pixels);
  out.set(new TextEncoder().encode(MAGIC));
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  let slot = 0;
  for (const e of entries.values()) {
    if (e.pixels) out.set(e.pixels, base + pixels * slot++);
  }
  await writeFileAtomic(
    path,
    sealParts({ format: FORMAT, version: VERSION, key: shapeKey(shape) }, out),
  );
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
