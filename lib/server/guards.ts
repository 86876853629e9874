/**
 * Request guards for a dashboard that listens on loopback but is reachable
 * from any page the user's browser opens: DNS rebinding (a foreign Host) and
 * cross-site writes or socket hijacking (a foreign Origin). Hand-written:
 * hono/csrf checks Origin on form posts only, not the Host header, JSON
 * writes or WebSocket upgrades.
 */

import type { MiddlewareHandler } from "hono";
import { quoteInput } from "../quote_input.ts";
import { jsonError } from "./http.ts";

/** Where the server actually listens; port is filled in once Deno.serve has bound. */
export interface ListenAddress {
  host: string;
  port: number;
  /** `--public-url`'s origin (e.g. https://labels.example.org), if given. */
  publicOrigin?: string;
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
  // The name the team opens, as a proxy in front passes it on.
  if (addr.publicOrigin) out.add(new URL(addr.publicOrigin).host);
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
    if (url.origin !== origin.toLowerCase()) return false;
    if (addr.publicOrigin && url.origin === addr.publicOrigin) return true;
    if (url.protocol !== "http:") return false;
    return allowedHosts(addr).has(url.host);
  }
  return secFetchSite === undefined || secFetchSite === "same-origin";
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
