/**
 * The envelope of every cache file (the decoded pixels beside labels.csv, the
 * label graph, its feature choice, an encoder's vectors): what it is, its
 * version, the key of what it was built from, and a SHA-256 of its payload.
 * A cache that fails any of these is never used: the reader gets a
 * CacheFileError saying why, reports it and rebuilds.
 *
 * Layout: magic "SSVCACH1" (8 bytes), uint32 LE header length H, H bytes of
 * JSON `{ format, version, key, bytes, sha256 }`, spaces up to a multiple of
 * 8, then the payload (so a payload of 4- or 8-byte arrays can be viewed in
 * place).
 *
 * Hand-written rather than a library: it is 8 bytes of magic and a JSON
 * header around bytes; the hash is node:crypto's (native: 35 ms for the
 * 47 MB pixel cache of 60k images, fed in 4 MB chunks).
 */

import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { writeFileAtomic } from "./atomic_file.ts";

const MAGIC = "SSVCACH1";

/** What a cache file must be to be used. */
export interface CacheMeta {
  /** The kind of cache, e.g. "label-graph". */
  format: string;
  /** Bumped when the payload's layout changes. */
  version: number;
  /** What it was built from (a digest of the inputs, a shape): another key is another cache. */
  key: string;
}

/** A cache file that must not be used; `reason` is for the user ("checksum mismatch"). */
export class CacheFileError extends Error {
  override name = "CacheFileError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Bytes per hash update: one update of a 47 MB shared buffer took 3× as long (110 against 35 ms). */
const HASH_CHUNK = 1 << 22;

/** SHA-256 of `bytes`, hex. */
export function sha256(bytes: Uint8Array): string {
  const h = createHash("sha256");
  for (let at = 0; at < bytes.length; at += HASH_CHUNK) {
    h.update(bytes.subarray(at, at + HASH_CHUNK));
  }
  return h.digest("hex");
}

/**
 * `payload` in its envelope as two parts, the envelope and the payload
 * itself, to be written one after the other (writeFileAtomic takes a list):
 * a 47 MB pixel cache is not copied once more to be written.
 */
export function sealParts(meta: CacheMeta, payload: Uint8Array): Uint8Array[] {
  const header = new TextEncoder().encode(JSON.stringify({
    format: meta.format,
    version: meta.version,
    key: meta.key,
    bytes: payload.byteLength,
    sha256: sha256(payload),
  }));
  const base = align8(12 + header.length);
  const head = new Uint8Array(base);
  head.set(new TextEncoder().encode(MAGIC));
  new DataView(head.buffer).setUint32(8, header.length, true);
  head.set(header, 12);
  head.fill(32, 12 + header.length, base);
  return [head, payload];
}

/** Whether `bytes` start like a sealed cache (else: an earlier version's file, or not ours). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= 12 &&
    new TextDecoder().decode(bytes.subarray(0, 8)) === MAGIC;
}

/**
 * The payload of a sealed cache (a view into `bytes`, no copy) when it is
 * `meta`'s and intact; else throws CacheFileError with the reason.
 */
export function openCache(bytes: Uint8Array, meta: CacheMeta): Uint8Array {
  const { payload, sha } = parseSealed(bytes, meta);
  if (sha256(payload) !== sha) throw damaged();
  return payload;
}

/**
 * `openCache` with the hash on a worker thread when `bytes` are shared (the
 * pixel cache): its ~120 ms then overlap the folder scan of the main thread
 * instead of adding to the start (a first pass over 47 MB just read).
 */
export async function openCacheOffThread(
  bytes: Uint8Array,
  meta: CacheMeta,
): Promise<Uint8Array> {
  const { payload, sha } = parseSealed(bytes, meta);
  const got = payload.buffer instanceof SharedArrayBuffer
    ? await hashOnWorker(payload)
    : sha256(payload);
  if (got !== sha) throw damaged();
  return payload;
}

function damaged(): CacheFileError {
  return new CacheFileError("checksum mismatch: the file is damaged");
}

function hashOnWorker(bytes: Uint8Array): Promise<string> {
  const worker = new Worker(
    new URL("../workers/hash_worker.ts", import.meta.url),
    { type: "module", name: "hash" },
  );
  return new Promise<string>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<string>) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`hash worker: ${e.message}`));
    };
    worker.postMessage(bytes);
  }).finally(() => worker.terminate());
}

/** The envelope checked (all but the hash): the payload and the hash it should have. */
function parseSealed(
  bytes: Uint8Array,
  meta: CacheMeta,
): { payload: Uint8Array; sha: string } {
  if (!isSealed(bytes)) throw new CacheFileError("not a cache of this version");
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .getUint32(8, true);
  if (12 + length > bytes.length) throw new CacheFileError("truncated header");
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  } catch {
    throw new CacheFileError("damaged header");
  }
  if (h.format !== meta.format) {
    throw new CacheFileError(`a ${String(h.format)} cache, not ${meta.format}`);
  }
  if (h.version !== meta.version) {
    throw new CacheFileError(
      `version ${String(h.version)}, this program writes ${meta.version}`,
    );
  }
  if (h.key !== meta.key) throw new CacheFileError("built from other data");
  const base = align8(12 + length);
  const payload = bytes.subarray(base);
  if (payload.byteLength !== h.bytes) {
    throw new CacheFileError(
      `truncated: ${payload.byteLength} of ${String(h.bytes)} bytes`,
    );
  }
  return { payload, sha: String(h.sha256) };
}

/**
 * Seals `payload` and writes it atomically as `path`, its folder made first.
 * A cache that cannot be written is no failure: `say` hears why.
 */
export async function writeCacheFile(
  path: string,
  meta: CacheMeta,
  payload: Uint8Array,
  say?: (step: string) => void,
): Promise<void> {
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, sealParts(meta, payload));
  } catch (e) {
    say?.(`cache not written: ${e}`);
  }
}

/** How `readCacheFile` reads one kind of cache. */
export interface CacheReading<T> {
  /** The content from the payload; null (or a throw, with the reason) when it does not hold together. */
  decode(payload: Uint8Array): T | null;
  /** What `decode`'s null means, for the user ("not a feature choice"). */
  what: string;
  /**
   * Accept an earlier version's unsealed file when `decode` takes its bytes
   * as they are; it is then sealed in place (no rebuild).
   */
  legacy?: boolean;
  /** A file that was there and is not used, and why (it is to be rebuilt). */
  onProblem?: (path: string, reason: string) => void;
  /** Where a failed re-seal is said. */
  say?: (step: string) => void;
}

/**
 * The content of the cache file `path` (see `CacheReading`); null when there
 * is none or it cannot be used, in which case `onProblem` says why unless
 * the file is simply absent.
 */
export async function readCacheFile<T>(
  path: string,
  meta: CacheMeta,
  how: CacheReading<T>,
): Promise<T | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      how.onProblem?.(path, `unreadable (${(e as Error).message})`);
    }
    return null;
  }
  const sealed = isSealed(bytes);
  let reason: string;
  try {
    if (!sealed && how.legacy) {
      const value = how.decode(bytes);
      if (value !== null) {
        await writeCacheFile(path, meta, bytes, how.say);
        return value;
      }
      reason = "not a cache of this version, or damaged";
    } else {
      const value = how.decode(openCache(bytes, meta));
      if (value !== null) return value;
      reason = `damaged: ${how.what}`;
    }
  } catch (e) {
    reason = e instanceof CacheFileError
      ? e.reason
      : !sealed
      ? "not a cache of this version, or damaged"
      : `damaged: ${(e as Error).message}`;
  }
  how.onProblem?.(path, reason);
  return null;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
