/**
 * The response headers of every answer: a strict Content-Security-Policy and
 * the usual hardening. Hand-written rather than hono/secure-headers because
 * connect-src names the WebSocket origin the request came in on (known only
 * per request), and a 101 WebSocket answer must be left untouched.
 */

import type { MiddlewareHandler } from "hono";
import { isAllowedHost, type ListenAddress } from "./guards.ts";

/**
 * Content-Security-Policy for every response. Scripts only from our own
 * files (no inline, no eval); Plotly sets inline styles, so styles allow
 * 'unsafe-inline'; images may be data:/blob: URLs (sample thumbnails, plot export).
 */
export function contentSecurityPolicy(host: string, tls = false): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${tls ? "wss" : "ws"}://${host}`,
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
    const tls = addr.publicOrigin?.startsWith("https:") === true &&
      host === new URL(addr.publicOrigin).host;
    try {
      h.set("Content-Security-Policy", contentSecurityPolicy(host, tls));
      // Behind TLS: browsers keep to https for this name from now on.
      if (tls) h.set("Strict-Transport-Security", "max-age=31536000");
      h.set("X-Content-Type-Options", "nosniff");
      // No referrer to other sites; same-origin, because with "no-referrer"
      // Chromium sends `Origin: null` on our own form posts (sign-in,
      // sign-out), which the Origin check must refuse.
      h.set("Referrer-Policy", "same-origin");
      h.set("X-Frame-Options", "DENY");
      h.set("Cross-Origin-Opener-Policy", "same-origin");
      h.set("Cross-Origin-Resource-Policy", "same-origin");
    } catch {
      // Immutable headers (e.g. a Response.error()); nothing to add.
    }
  };
}
