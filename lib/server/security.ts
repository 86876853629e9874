/**
 * Request hardening for a dashboard that listens on loopback but is reachable
 * from any page the user's browser opens: DNS rebinding (foreign Host),
 * cross-site writes and socket hijacking (foreign Origin), oversized bodies,
 * and the usual response headers.
 */

import { clip, quoteInput } from "../quote_input.ts";
import type { Context, MiddlewareHandler } from "hono";
import { BODY_LIMITS } from "../protocol/limits.ts";

/** Where the server actually listens; port is filled in once Deno.serve has bound. */
export interface ListenAddress {
  host: string;
  port: number;
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

function hostPart(host: string): string {
  // An IPv6 literal needs brackets in a Host header and in an origin.
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/**
 * The Host header values that name this server. Loopback names are always
 * accepted; a specific non-wildcard --host too. A DNS-rebinding page reaches
 * us under its own domain name, which is never in this set.
 */
export function allowedHosts(addr: ListenAddress): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  if (addr.host !== "0.0.0.0" && addr.host !== "::") {
    names.add(hostPart(addr.host).toLowerCase());
  }
  const out = new Set<string>();
  for (const name of names) {
    out.add(`${name}:${addr.port}`);
    // Browsers omit the default port from Host.
    if (addr.port === 80) out.add(name);
  }
  return out;
}

export function isAllowedHost(
  host: string | undefined,
  addr: ListenAddress,
): boolean {
  if (!host) return false;
  return allowedHosts(addr).has(host.toLowerCase());
}

/**
 * Whether a state-changing request (or a WebSocket upgrade) comes from our
 * own pages. A present Origin must be one of ours ("null" included as foreign).
 * Without Origin, only non-browser clients are let through: browsers send
 * Sec-Fetch-Site on every request, so its absence (curl, scripts) or
 * "same-origin" is fine, while "cross-site"/"same-site" is refused.
 */
export function isSameOriginWrite(
  origin: string | undefined,
  secFetchSite: string | undefined,
  addr: ListenAddress,
): boolean {
  if (origin !== undefined) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== "http:" || url.origin !== origin.toLowerCase()) {
      return false;
    }
    return allowedHosts(addr).has(url.host);
  }
  return secFetchSite === undefined || secFetchSite === "same-origin";
}

/** Longest error message sent: a backstop for messages that embed input unquoted. */
const ERROR_MESSAGE_LIMIT = 1000;

/** A JSON error response `{ error }`. */
export function jsonError(c: Context, status: number, message: string) {
  // deno-lint-ignore no-explicit-any
  return c.json({ error: clip(message, ERROR_MESSAGE_LIMIT) }, status as any);
}

/** Refuses foreign Host headers (403) and foreign-origin writes/upgrades (403). */
export function originGuard(addr: ListenAddress): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host");
    if (!isAllowedHost(host, addr)) {
      return jsonError(
        c,
        403,
        `Host ${
          quoteInput(host ?? "")
        } is not this server; open http://127.0.0.1:${addr.port}/`,
      );
    }
    const method = c.req.method;
    const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if ((method !== "GET" && method !== "HEAD") || isUpgrade) {
      const origin = c.req.header("origin");
      if (!isSameOriginWrite(origin, c.req.header("sec-fetch-site"), addr)) {
        return jsonError(
          c,
          403,
          origin === undefined
            ? "cross-site request refused"
            : `Origin ${quoteInput(origin)} is not allowed`,
        );
      }
    }
    await next();
  };
}

/**
 * Content-Security-Policy for every response. Scripts only from our own
 * files (no inline, no eval); Plotly sets inline styles, so styles allow
 * 'unsafe-inline'; images may be data:/blob: URLs (sample thumbnails, plot export).
 */
export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(addr: ListenAddress): MiddlewareHandler {
  return async (c, next) => {
    // Read the request before next(): after a WebSocket upgrade the request
    // object is closed and its headers can no longer be read.
    const given = c.req.header("host");
    await next();
    // A 101 (WebSocket) response belongs to the socket now: leave it alone.
    if (c.res.status === 101) return;
    // Echo the Host into connect-src only when it is one of ours (a refused
    // request's Host is attacker-chosen).
    const host = given !== undefined && isAllowedHost(given, addr)
      ? given.toLowerCase()
      : `127.0.0.1:${addr.port}`;
    const h = c.res.headers;
    try {
      h.set("Content-Security-Policy", contentSecurityPolicy(host));
      h.set("X-Content-Type-Options", "nosniff");
      h.set("Referrer-Policy", "no-referrer");
      h.set("X-Frame-Options", "DENY");
      h.set("Cross-Origin-Opener-Policy", "same-origin");
      h.set("Cross-Origin-Resource-Policy", "same-origin");
    } catch {
      // Immutable headers (e.g. a Response.error()); nothing to add.
    }
  };
}

/** Thrown by readJsonBody; carries the HTTP status for the route to return. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Reads a JSON object body with a byte cap that holds even without
 * Content-Length (chunked uploads are cut off as soon as they exceed it).
 * `optional` lets routes such as DELETE accept an empty body.
 */
export async function readJsonBody(
  c: Context,
  opts: { limit?: number; optional?: boolean } = {},
): Promise<Record<string, unknown> | undefined> {
  const limit = opts.limit ?? BODY_LIMITS.json;
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, `request body over ${limit} bytes`);
  }
  const body = c.req.raw.body;
  let bytes = new Uint8Array(0);
  if (body) {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new HttpError(413, `request body over ${limit} bytes`);
      }
      chunks.push(value);
    }
    bytes = new Uint8Array(total);
    let off = 0;
    for (const ch of chunks) {
      bytes.set(ch, off);
      off += ch.byteLength;
    }
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") {
    if (opts.optional) return undefined;
    throw new HttpError(400, "missing JSON body");
  }
  const type = c.req.header("content-type") ?? "";
  if (type !== "" && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(
      415,
      `expected Content-Type application/json, got ${type}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `malformed JSON body: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "JSON body must be an object");
  }
  return value as Record<string, unknown>;
}
