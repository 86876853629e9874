/**
 * The team's accounts, for the owner (the same as `deno task users`):
 * - GET /api/users: every account (name, role, active, revoked);
 * - POST /api/users {name, role, reissue?}: an invite, whose link is in the
 *   answer once (`reissue`: a new link for an existing account);
 * - DELETE /api/users/:name: revokes the account and ends its sessions.
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ServerContext } from "../../lib/server/context.ts";
import { readJsonBody } from "../../lib/server/http.ts";
import { type InviteResult, isRole, ROLES } from "../../lib/protocol/team.ts";
import { AccountError, type Accounts } from "../../lib/team/accounts.ts";
import { rejectUnknown } from "../../lib/server/validation.ts";
import { closeEndedStreams } from "../../lib/server/auth.ts";

/** The path of an invite link (after the server's address). */
export function invitePath(token: string): string {
  return `/join?invite=${token}`;
}

export function usersRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const accounts = (): Accounts => {
    if (!ctx.accounts) {
      throw new HTTPException(409, {
        message:
          "this server has no accounts: make the first owner with deno task users add NAME --role owner, then restart",
      });
    }
    return ctx.accounts;
  };
  const refused = (e: unknown): never => {
    if (e instanceof AccountError) {
      throw new HTTPException(400, { message: e.message });
    }
    throw e;
  };

  app.get("/", async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ users: await accounts().list() });
  });

  app.post("/", async (c) => {
    const body = (await readJsonBody(c))!;
    rejectUnknown(body, ["name", "role", "reissue"]);
    const { name, role, reissue } = body;
    if (typeof name !== "string") {
      throw new HTTPException(400, { message: 'missing field "name"' });
    }
    if (!isRole(role)) {
      throw new HTTPException(400, {
        message: `field "role": expected one of ${ROLES.join(", ")}`,
      });
    }
    if (reissue !== undefined && typeof reissue !== "boolean") {
      throw new HTTPException(400, {
        message: 'field "reissue": expected true or false',
      });
    }
    try {
      const { token, expires } = await accounts().invite(name, role, {
        reissue: reissue === true,
      });
      ctx.log(`${c.get("me").name} invited ${name} as ${role}`);
      c.header("Cache-Control", "no-store");
      const out: InviteResult = {
        name,
        role,
        path: invitePath(token),
        expires,
      };
      return c.json(out);
    } catch (e) {
      return refused(e);
    }
  });

  app.delete("/:name", async (c) => {
    const name = c.req.param("name");
    if (name === c.get("me").name) {
      throw new HTTPException(409, {
        message: "you cannot revoke your own account",
      });
    }
    const store = accounts();
    try {
      await store.revoke(name);
    } catch (e) {
      return refused(e);
    }
    await closeEndedStreams(ctx.hub, store);
    ctx.log(`${c.get("me").name} revoked ${name}`);
    return c.json({ ok: true });
  });

  return app;
}
