/**
 * Signing in and out, for a team (lib/team/, lib/server/auth.ts):
 * - GET /login, POST /login: the sign-in page and its form (plain HTML
 *   forms: no script, so they work before the app has loaded);
 * - GET /join?invite=T, POST /join: an invite link's page, where the
 *   invitee sets a password; the token works once and then is gone;
 * - POST /logout: ends the session at once;
 * - GET /api/auth/me, POST /api/auth/login {name, password},
 *   POST /api/auth/logout: the same for scripts and the page.
 * A session is an HttpOnly, SameSite=Strict cookie (Secure behind TLS);
 * failed sign-ins are limited per name and per address (429).
 */

import { type Context, Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { getConnInfo } from "hono/deno";
import type { ServerContext } from "../lib/server/context.ts";
import { jsonError, readFormBody, readJsonBody } from "../lib/server/http.ts";
import { sessionToken } from "../lib/server/auth.ts";
import { SESSION_COOKIE, TEAM_LIMITS } from "../lib/protocol/team.ts";
import { AccountError, type NewSession } from "../lib/team/accounts.ts";
import { assetManifest } from "../lib/build/asset_manifest.ts";
import { escapeHtml } from "./page.tsx";

/** The page around a sign-in or invite form. */
function formPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · SSVAE dashboard</title>
<link rel="icon" href="/static/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(assetManifest().css)}">
</head>
<body class="auth-page">
<main class="card auth-card">
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function errorLine(message: string | undefined): string {
  return message
    ? `<p class="auth-error" role="alert">${escapeHtml(message)}</p>`
    : "";
}

function loginPage(error?: string, name = ""): string {
  return formPage(
    "Sign in",
    `${errorLine(error)}
<form method="post" action="/login">
<label>Name <input name="name" autocomplete="username" required maxlength="40" value="${
      escapeHtml(name)
    }" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="${TEAM_LIMITS.passwordMax}"></label>
<button type="submit" class="btn btn-primary">Sign in</button>
</form>
<p class="muted">No account yet? The data set's owner makes one with
<code>deno task users add NAME --role annotator</code> and sends you its link.</p>`,
  );
}

function joinPage(
  token: string,
  account: { name: string; role: string },
  error?: string,
): string {
  return formPage(
    `Welcome, ${account.name}`,
    `<p>You are invited as <strong>${
      escapeHtml(account.role)
    }</strong>. Choose a password (at least ${TEAM_LIMITS.passwordMin} characters).</p>
${errorLine(error)}
<form method="post" action="/join">
<input type="hidden" name="invite" value="${escapeHtml(token)}">
<input type="hidden" name="name" autocomplete="username" value="${
      escapeHtml(account.name)
    }">
<label>Password <input name="password" type="password" autocomplete="new-password" required minlength="${TEAM_LIMITS.passwordMin}" maxlength="${TEAM_LIMITS.passwordMax}" autofocus></label>
<label>Again <input name="confirm" type="password" autocomplete="new-password" required></label>
<button type="submit" class="btn btn-primary">Set password and sign in</button>
</form>`,
  );
}

const DEAD_INVITE =
  "This invite link has been used or has expired. Ask the owner for a new one " +
  "(deno task users reset NAME).";

export function authRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  const secure = ctx.options.publicUrl?.startsWith("https:") === true;

  const startSession = (c: Context, s: NewSession) => {
    setCookie(c, SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: "Strict",
      secure,
      path: "/",
      expires: new Date(s.expires),
    });
  };
  const endSession = async (c: Context) => {
    const token = sessionToken(c);
    if (token && ctx.accounts) {
      await ctx.accounts.logout(token);
      // Its event stream ends with it.
      ctx.hub.closeEnded((s) => s !== token);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure });
  };
  const address = (c: Context): string => {
    try {
      return getConnInfo(c).remote.address ?? "unknown";
    } catch {
      return "unknown";
    }
  };
  /**
   * Checks a name and password against the limiter and the accounts:
   * a session, or why not, with the status to send.
   */
  const signIn = async (
    c: Context,
    name: string,
    password: string,
  ): Promise<NewSession | { status: 401 | 409 | 429; message: string }> => {
    if (!ctx.accounts) {
      return {
        status: 409,
        message:
          "this server has no accounts: everyone on it is the local user",
      };
    }
    const from = address(c);
    const wait = ctx.logins.retryAfter(name, from);
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      return {
        status: 429,
        message: `too many failed sign-ins: try again in ${
          Math.ceil(wait / 60)
        } min`,
      };
    }
    const session = await ctx.accounts.login(name, password);
    if (!session) {
      ctx.logins.fail(name, from);
      return { status: 401, message: "wrong name or password" };
    }
    return session;
  };

  app.get("/login", (c) => {
    c.header("Cache-Control", "no-store");
    return c.html(loginPage());
  });

  app.post("/login", async (c) => {
    const form = await readFormBody(c, TEAM_LIMITS.formBytes);
    const name = form.name ?? "";
    const result = await signIn(c, name, form.password ?? "");
    if ("token" in result) {
      startSession(c, result);
      return c.redirect("/", 303);
    }
    return c.html(loginPage(result.message, name), result.status);
  });

  app.get("/join", async (c) => {
    c.header("Cache-Control", "no-store");
    const token = c.req.query("invite") ?? "";
    const account = await ctx.accounts?.inviteFor(token) ?? null;
    if (!account) {
      return c.html(formPage("Invite", errorLine(DEAD_INVITE)), 410);
    }
    return c.html(joinPage(token, account));
  });

  app.post("/join", async (c) => {
    const form = await readFormBody(c, TEAM_LIMITS.formBytes);
    const token = form.invite ?? "";
    const account = await ctx.accounts?.inviteFor(token) ?? null;
    if (!account || !ctx.accounts) {
      return c.html(formPage("Invite", errorLine(DEAD_INVITE)), 410);
    }
    if ((form.password ?? "") !== (form.confirm ?? "")) {
      return c.html(joinPage(token, account, "the two passwords differ"), 400);
    }
    try {
      const session = await ctx.accounts.acceptInvite(
        token,
        form.password ?? "",
      );
      if (!session) {
        return c.html(formPage("Invite", errorLine(DEAD_INVITE)), 410);
      }
      ctx.log(`${session.account.name} joined as ${session.account.role}`);
      startSession(c, session);
      return c.redirect("/", 303);
    } catch (e) {
      if (e instanceof AccountError) {
        return c.html(joinPage(token, account, e.message), 400);
      }
      throw e;
    }
  });

  app.post("/logout", async (c) => {
    await endSession(c);
    return c.redirect("/login", 303);
  });

  app.get("/api/auth/me", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ me: c.get("me") ?? null });
  });

  app.post("/api/auth/login", async (c) => {
    const body = (await readJsonBody(c, { limit: TEAM_LIMITS.formBytes }))!;
    const { name, password } = body;
    if (typeof name !== "string" || typeof password !== "string") {
      return jsonError(c, 400, 'expected {"name": string, "password": string}');
    }
    const result = await signIn(c, name, password);
    if (!("token" in result)) {
      return jsonError(c, result.status, result.message);
    }
    startSession(c, result);
    return c.json({ me: { ...result.account, team: true } });
  });

  app.post("/api/auth/logout", async (c) => {
    await endSession(c);
    return c.json({ ok: true });
  });

  return app;
}
