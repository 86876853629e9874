/**
 * Who a request comes from and whether they may do what it asks: one
 * middleware after the Host/Origin guards (routes/app.ts).
 *
 * On loopback without accounts there is one local user who may do
 * everything, exactly as before accounts existed. Once the data set has
 * accounts (or the server listens beyond loopback, which needs them) every
 * request needs a session cookie, and every route needs one of the
 * permissions of `ROUTE_PERMISSIONS`. A route missing from the table is
 * owner-only: a new route is closed until someone says who may use it
 * (tests/server_team_test.ts walks every route of the app against this
 * table).
 */

import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { matchedRoutes } from "hono/route";
import { HTTPException } from "hono/http-exception";
import {
  type Me,
  type Permission,
  roleCan,
  SESSION_COOKIE,
} from "../protocol/team.ts";
import type { Accounts } from "../team/accounts.ts";
import type { WsHub } from "./ws_hub.ts";
import { jsonError } from "./http.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The signed-in account (or the local user), set by `authGuard`. */
    me: Me;
  }
}

/** Anyone, signed in or not: the sign-in pages and the data-free app shell. */
export type Access = Permission | "public";

/**
 * What each route needs, by `METHOD path` as the app registers it; a list
 * means any one of them. Labels may be written by annotators (their own) and
 * by reviewers (resolving); everything that changes the data set as a whole
 * is the owner's.
 */
export const ROUTE_PERMISSIONS: Readonly<
  Record<string, Access | readonly Permission[]>
> = {
  "GET /": "read",
  "GET /app-shell": "public",
  "GET /sw.js": "public",
  "GET /static/*": "public",
  "GET /login": "public",
  "POST /login": "public",
  "GET /join": "public",
  "POST /join": "public",
  "POST /logout": "public",
  "GET /api/auth/me": "public",
  "POST /api/auth/login": "public",
  "POST /api/auth/logout": "public",
  "GET /api/state": "read",
  "GET /api/latent": "read",
  "GET /api/samples/:i": "read",
  "GET /api/probs": "read",
  "GET /api/evaluations": "read",
  "GET /api/thumbnails": "read",
  "GET /api/images": "read",
  "GET /api/images/:id/:k": "read",
  "GET /api/ws": "read",
  "GET /api/labels/sources": "read",
  "GET /api/labels/:i": "read",
  "GET /api/labels/:i/history": "read",
  "PUT /api/labels/:i": ["label", "review"],
  "DELETE /api/labels/:i": ["label", "review"],
  "PUT /api/labels": ["label", "review"],
  "POST /api/labels/sync": ["label", "review"],
  "GET /api/labels/export": "admin",
  "POST /api/labels/import": "admin",
  "POST /api/labels/batches/:id/revert": "admin",
  "GET /api/review": "review",
  "GET /api/agreement": "review",
  "GET /api/agreement/export": "review",
  "POST /api/review/:i/confirm": "review",
  "POST /api/training/start": "train",
  "POST /api/training/stop": "train",
  "GET /api/users": "admin",
  "POST /api/users": "admin",
  "DELETE /api/users/:name": "admin",
  "POST /api/_test/fault": "admin",
  "POST /api/_test/sw-version": "admin",
};

/** The one user of a loopback server without accounts. */
export const LOCAL_USER: Me = { name: "local", role: "owner", team: false };

/** The route a request matched (`METHOD path`), or null for none (a 404). */
export function matchedRoute(c: Context): string | null {
  // Middleware is registered for every method ("ALL"); the first route of a
  // real method is the handler the request goes to.
  const route = matchedRoutes(c).find((r) => r.method !== "ALL");
  return route ? `${route.method} ${route.path}` : null;
}

/** The session token the request carries, if any. */
export function sessionToken(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/**
 * Resolves `c.var.me` and refuses what the caller may not do: 401 without a
 * valid session (the page is sent to /login instead), 403 when the role
 * lacks the route's permission. `accounts` null = single-user loopback.
 */
export function authGuard(accounts: Accounts | null): MiddlewareHandler {
  return async (c, next) => {
    if (accounts === null) {
      c.set("me", LOCAL_USER);
      return await next();
    }
    const route = matchedRoute(c);
    // An unknown route is a 404 for those signed in and a 401 for others:
    // it says nothing about which routes exist.
    const need = route === null ? "read" : ROUTE_PERMISSIONS[route] ?? "admin";
    const token = sessionToken(c);
    const account = token ? await accounts.session(token) : null;
    if (account) c.set("me", { ...account, team: true });
    if (need === "public") return await next();
    if (!account) {
      if (c.req.method === "GET" && route === "GET /") {
        return c.redirect("/login", 302);
      }
      return jsonError(
        c,
        401,
        token
          ? "your session has ended: sign in again at /login"
          : "sign in first (/login)",
      );
    }
    const allowed = (typeof need === "string" ? [need] : need).some((p) =>
      roleCan(account.role, p as Permission)
    );
    if (!allowed) {
      return jsonError(
        c,
        403,
        `${account.role} ${account.name} may not do this (${route})`,
      );
    }
    await next();
  };
}

/**
 * Whether `me` may change the label of an image whose current label was
 * made by `owner` (null: unlabelled or made before accounts). Annotators
 * change their own labels and unlabelled images; reviewers and owners any.
 */
export function mayChangeLabel(
  me: Me,
  current: number | null,
  owner: string | null,
): boolean {
  if (!me.team || me.role !== "annotator") return true;
  return current === null || owner === me.name;
}

/** 403 unless `me` may change every one of `indices` (one message, the first refused). */
export function assertMayChange(
  me: Me,
  indices: Iterable<number>,
  current: (i: number) => number | null,
  owner: (i: number) => string | null,
): void {
  for (const i of indices) {
    const who = owner(i);
    if (!mayChangeLabel(me, current(i), who)) {
      throw new HTTPException(403, {
        message: `image ${i} was labelled by ${
          who ?? "someone before accounts"
        }: an annotator changes only their own labels (a reviewer can change it)`,
      });
    }
  }
}

/** Whether `me` is a team server's annotator (whose labels may be overlapped). */
export function isAnnotator(me: Me | undefined): me is Me {
  return me?.team === true && me.role === "annotator";
}

/**
 * Closes the event streams whose session ended (a sign-out, a revocation,
 * made here or by `deno task users` elsewhere).
 */
export async function closeEndedStreams(
  hub: WsHub,
  accounts: Accounts,
): Promise<void> {
  const alive = new Set<string>();
  for (const s of hub.sessions()) {
    if (await accounts.session(s)) alive.add(s);
  }
  hub.closeEnded((s) => alive.has(s));
}

/** The annotator a write is recorded under: null for the local user. */
export function annotatorOf(me: Me | undefined): string | null {
  return me?.team ? me.name : null;
}
