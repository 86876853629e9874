/**
 * Serves files under static/ with validators and cache headers: the browser
 * must not re-download (and, for Plotly, re-parse 4.8 MB) what it already has.
 *
 * - content-hashed file names (e.g. app-3F7ZQ2XA.js), a `?v=` matching the
 *   start of the file's SHA-256 (lib/build/client_bundle.ts's manifest URLs),
 *   or a vendor/ file with its version in the name: `max-age=31536000, immutable`;
 * - other vendor/ files: `max-age=604800` + ETag;
 * - everything else: `no-cache` + ETag (revalidated: hono/etag answers 304
 *   when unchanged, see routes/app.ts).
 */

const MIME: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  webmanifest: "application/manifest+json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  woff: "font/woff",
  woff2: "font/woff2",
  wasm: "application/wasm",
  txt: "text/plain; charset=utf-8",
};

export function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return MIME[ext] ?? "application/octet-stream";
}

/** A name carrying a content hash, as esbuild's `[name]-[hash]` writes it. */
const HASHED_NAME = /[-.](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}\.[a-z0-9]+$/;

/** A pinned third-party build with its version in the name (plotly-strict-3.7.0.min.js). */
const VERSIONED_NAME = /-\d+\.\d+\.\d+(?:[-.][\w.-]*)?\.(?:js|css|wasm)$/;

export function isHashedName(path: string): boolean {
  return HASHED_NAME.test(path.slice(path.lastIndexOf("/") + 1));
}

/** Whether the URL can never name other bytes: hashed or versioned file name. */
export function isImmutableName(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return HASHED_NAME.test(name) ||
    (path.startsWith("vendor/") && VERSIONED_NAME.test(name));
}

interface CachedFile {
  mtime: number;
  size: number;
  bytes: Uint8Array;
  etag: string;
  /** Hex digest, for `?v=` comparisons. */
  hash: string;
}

/** Files above this size are still served, just not kept in memory. */
const MAX_CACHED_BYTES = 16 * 1024 * 1024;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class StaticFiles {
  readonly root: string;
  readonly #cache = new Map<string, CachedFile>();

  constructor(root: string) {
    this.root = root.replace(/\/+$/, "");
  }

  /**
   * Resolves a URL path below the root; null for anything that tries to leave
   * it (.., encoded slashes, backslashes, NUL) or names a dot-file.
   */
  resolve(relative: string): string | null {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relative);
    } catch {
      return null;
    }
    if (
      decoded.includes("\0") || decoded.includes("\\") ||
      /(?:^|\/)\.{1,2}(?:\/|$)/.test(decoded) || /(?:^|\/)\./.test(decoded)
    ) {
      return null;
    }
    const clean = decoded.replace(/^\/+/, "");
    if (clean === "") return null;
    return `${this.root}/${clean}`;
  }

  async #load(path: string): Promise<CachedFile | null> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      // Not found, not a folder on the way, a name too long for the file
      // system, no permission: to a client all of these are "no such file",
      // and the error's text (which holds our install path) stays here.
      return null;
    }
    if (!info.isFile) return null;
    const mtime = info.mtime?.getTime() ?? 0;
    const hit = this.#cache.get(path);
    if (hit && hit.mtime === mtime && hit.size === info.size) return hit;
    const bytes = await Deno.readFile(path);
    const hash = await sha256Hex(bytes);
    const file: CachedFile = {
      mtime,
      size: bytes.byteLength,
      bytes,
      etag: `"${hash.slice(0, 32)}"`,
      hash,
    };
    if (bytes.byteLength <= MAX_CACHED_BYTES) this.#cache.set(path, file);
    return file;
  }

  /** A response for `relative` (path below the root), or null when there is no such file. */
  async serve(req: Request, relative: string): Promise<Response | null> {
    const path = this.resolve(relative);
    if (path === null) return null;
    const file = await this.#load(path);
    if (file === null) return null;
    const url = new URL(req.url);
    const v = url.searchParams.get("v");
    const clean = relative.replace(/^\/+/, "");
    let cacheControl: string;
    if (
      isImmutableName(clean) ||
      (v !== null && v.length >= 8 && file.hash.startsWith(v.toLowerCase()))
    ) {
      cacheControl = "public, max-age=31536000, immutable";
    } else if (clean.startsWith("vendor/")) {
      cacheControl = "public, max-age=604800";
    } else {
      cacheControl = "no-cache";
    }
    const headers = new Headers({
      "Content-Type": contentType(path),
      "Cache-Control": cacheControl,
      ETag: file.etag,
    });
    headers.set("Content-Length", String(file.size));
    const body = req.method === "HEAD"
      ? null
      : file.bytes as Uint8Array<ArrayBuffer>;
    return new Response(body, {
      status: 200,
      headers,
    });
  }
}
