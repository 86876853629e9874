/**
 * A team server, for real: accounts made with `deno task users`, a
 * dashboard child process that checks them, and every route of the app
 * (read from the app itself, so a new route cannot be missed) called with
 * no session, an expired session, a forged cookie and each role, against a
 * table of who may do what written here, apart from the server's own. No
 * refused request writes anything. Then the rules of labels between
 * annotators, the invite and sign-in forms, the sign-in limit, sign-out and
 * revocation (the event stream too), and a host beyond loopback without
 * accounts.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json, rawRequest } from "../support/api_client.ts";
import {
  runDeno,
  runRefusedStart,
  type ServerProcess,
  startServer,
} from "../support/server_process.ts";
import { createApp } from "../routes/app.ts";
import type { ServerContext } from "../lib/server/context.ts";
import { AccountStore } from "../lib/team/account_store.ts";
import {
  type Role,
  SESSION_COOKIE,
  TEAM_LIMITS,
} from "../lib/protocol/team.ts";
import { newToken } from "../lib/team/secrets.ts";
import { DatabaseSync } from "node:sqlite";

/** Who may use each route, by this test: "public", or the roles allowed. */
const EXPECTED: Record<string, "public" | Role[]> = {
  "GET /": ["owner", "annotator", "reviewer"],
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
  "GET /api/state": ["owner", "annotator", "reviewer"],
  "GET /api/latent": ["owner", "annotator", "reviewer"],
  "GET /api/samples/:i": ["owner", "annotator", "reviewer"],
  "GET /api/probs": ["owner", "annotator", "reviewer"],
  "GET /api/evaluations": ["owner", "annotator", "reviewer"],
  "GET /api/thumbnails": ["owner", "annotator", "reviewer"],
  "GET /api/images": ["owner", "annotator", "reviewer"],
  "GET /api/images/:id/:k": ["owner", "annotator", "reviewer"],
  "GET /api/ws": ["owner", "annotator", "reviewer"],
  "GET /api/labels/sources": ["owner", "annotator", "reviewer"],
  "GET /api/labels/:i": ["owner", "annotator", "reviewer"],
  "GET /api/labels/:i/history": ["owner", "annotator", "reviewer"],
  "PUT /api/labels/:i": ["owner", "annotator", "reviewer"],
  "DELETE /api/labels/:i": ["owner", "annotator", "reviewer"],
  "PUT /api/labels": ["owner", "annotator", "reviewer"],
  "POST /api/labels/sync": ["owner", "annotator", "reviewer"],
  "GET /api/labels/export": ["owner"],
  "POST /api/labels/import": ["owner"],
  "POST /api/labels/batches/:id/revert": ["owner"],
  "GET /api/review": ["owner", "reviewer"],
  "GET /api/agreement": ["owner", "reviewer"],
  "GET /api/agreement/export": ["owner", "reviewer"],
  "POST /api/review/:i/confirm": ["owner", "reviewer"],
  "POST /api/training/start": ["owner"],
  "POST /api/training/stop": ["owner"],
  "GET /api/users": ["owner"],
  "POST /api/users": ["owner"],
  "DELETE /api/users/:name": ["owner"],
  "POST /api/_test/fault": ["owner"],
  "POST /api/_test/sw-version": ["owner"],
};

/** A concrete request of each route: its path and a body that would be valid. */
const SAMPLE: Record<string, { path: string; body?: unknown }> = {
  "GET /static/*": { path: "/static/icon.svg" },
  "GET /join": { path: "/join?invite=" + "A".repeat(43) },
  "GET /api/samples/:i": { path: "/api/samples/1" },
  "GET /api/thumbnails": { path: "/api/thumbnails?indices=1,2" },
  "GET /api/images/:id/:k": { path: "/api/images/x/0" },
  "GET /api/labels/:i": { path: "/api/labels/1" },
  "GET /api/labels/:i/history": { path: "/api/labels/1/history" },
  "PUT /api/labels/:i": { path: "/api/labels/1", body: { label: 4 } },
  "DELETE /api/labels/:i": { path: "/api/labels/20" },
  "PUT /api/labels": {
    path: "/api/labels",
    body: { changes: [{ index: 2, label: 5 }] },
  },
  "POST /api/labels/sync": {
    path: "/api/labels/sync",
    body: { ops: [{ index: 3, label: 6, clientTime: 1 }] },
  },
  "POST /api/labels/import": {
    path: "/api/labels/import",
    body: { csv: "Serial,label\n9,9\n" },
  },
  "POST /api/labels/batches/:id/revert": {
    path: "/api/labels/batches/1/revert",
  },
  "POST /api/review/:i/confirm": {
    path: "/api/review/20/confirm",
    body: { label: 1 },
  },
  "POST /api/training/start": {
    path: "/api/training/start",
    body: { epochs: 1 },
  },
  "POST /api/users": {
    path: "/api/users",
    body: { name: "mallory", role: "owner" },
  },
  "DELETE /api/users/:name": { path: "/api/users/bob" },
  "POST /api/_test/fault": {
    path: "/api/_test/fault",
    body: { kind: "none" },
  },
  "POST /api/_test/sw-version": {
    path: "/api/_test/sw-version",
    body: { salt: "x" },
  },
};

const PASSWORD = "correct horse battery";
const PUBLIC = "https://labels.example.org";

/** Every route the app registers (handlers, not middleware). */
function appRoutes(): string[] {
  const app = createApp({
    options: { testHooks: true },
    addr: { host: "127.0.0.1", port: 1 },
    accounts: null,
  } as unknown as ServerContext);
  return [
    ...new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) =>
        `${r.method} ${r.path}`
      ),
    ),
  ];
}

function cookie(token: string): Record<string, string> {
  return { cookie: `${SESSION_COOKIE}=${token}` };
}

async function call(
  srv: ServerProcess,
  route: string,
  headers: Record<string, string>,
): Promise<number> {
  const [method, pattern] = route.split(" ");
  const sample = SAMPLE[route] ?? { path: pattern };
  const res = await fetch(srv.url + sample.path, {
    method,
    redirect: "manual",
    headers: sample.body === undefined
      ? headers
      : { "content-type": "application/json", ...headers },
    body: sample.body === undefined ? undefined : JSON.stringify(sample.body),
  });
  await res.body?.cancel();
  return res.status;
}

/** Everything a refused request might have written. */
async function snapshot(srv: ServerProcess, dbPath: string) {
  const csv = await Deno.readTextFile(srv.labelsPath).catch(() => "");
  const db = new DatabaseSync(
    srv.labelsPath.replace(/\.csv$/, ".history.sqlite"),
  );
  const events = (db.prepare("SELECT COUNT(*) AS n FROM events").get() as {
    n: number;
  }).n;
  db.close();
  const store = AccountStore.open(dbPath);
  const accounts = JSON.stringify(store.list());
  store.close();
  return { csv, events, accounts };
}

Deno.test("team server: every route against every role, labels between annotators, invites, sign-in limits, revocation", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_team_" });
  const labelsPath = `${dir}/labels.csv`;
  const dbPath = `${dir}/labels.team.sqlite`;
  try {
    // The owner's first account, as a user makes it.
    const added = await runDeno([
      "cli/users.ts",
      "add",
      "alice",
      "--role",
      "owner",
      "--labels",
      labelsPath,
    ]);
    assertEquals(added.code, 0, added.output);
    const invite = added.stdout.match(/\/join\?invite=([\w-]{43})/)?.[1];
    assert(invite, added.output);

    // The rest straight in the store (the CLI and the forms are tested below).
    const store = AccountStore.open(dbPath);
    const sessions: Record<string, string> = {};
    for (
      const [name, role] of [
        ["bob", "annotator"],
        ["carol", "annotator"],
        ["rita", "reviewer"],
      ] as const
    ) {
      const s = await store.acceptInvite(
        (await store.invite(name, role)).token,
        PASSWORD,
      );
      sessions[name] = s!.token;
    }
    const expired = (await store.login(
      "bob",
      PASSWORD,
      Date.now() - TEAM_LIMITS.sessionMs - 60_000,
    ))!.token;
    store.close();

    await using srv = await startServer({
      dir,
      limit: 300,
      testHooks: true,
      args: ["--public-url", PUBLIC],
    });
    assertMatch(srv.output(), /team server: 4 account\(s\)/);

    await t.step(
      "the invite link sets a password once and signs in (Secure cookie behind TLS)",
      async () => {
        const page = await fetch(`${srv.url}/join?invite=${invite}`);
        assertEquals(page.status, 200);
        assertMatch(await page.text(), /Welcome, alice/);
        const form = (fields: Record<string, string>) =>
          fetch(`${srv.url}/join`, {
            method: "POST",
            redirect: "manual",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              origin: srv.url,
            },
            body: new URLSearchParams(fields),
          });
        const differ = await form({
          invite,
          password: PASSWORD,
          confirm: "something else",
        });
        assertEquals(differ.status, 400);
        assertMatch(await differ.text(), /differ/);
        const ok = await form({
          invite,
          password: PASSWORD,
          confirm: PASSWORD,
        });
        await ok.body?.cancel();
        assertEquals(ok.status, 303);
        const set = ok.headers.get("set-cookie") ?? "";
        assertMatch(set, new RegExp(`^${SESSION_COOKIE}=[\\w-]{43};`));
        for (
          const attr of ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"]
        ) {
          assert(set.includes(attr), `${attr} missing: ${set}`);
        }
        sessions.alice = set.match(/=([\w-]{43});/)![1];
        const again = await form({
          invite,
          password: PASSWORD,
          confirm: PASSWORD,
        });
        assertEquals(again.status, 410);
        await again.body?.cancel();
        const me = await json(
          srv.url,
          "GET",
          "/api/auth/me",
          undefined,
          cookie(sessions.alice),
        );
        assertEquals(me.body.me, { name: "alice", role: "owner", team: true });
      },
    );

    const routes = appRoutes();

    await t.step("the test's table names every route the app has", () => {
      const missing = routes.filter((r) => !(r in EXPECTED));
      assertEquals(missing, [], "routes without an expectation");
      const gone = Object.keys(EXPECTED).filter((r) => !routes.includes(r));
      assertEquals(gone, [], "expectations of routes that do not exist");
    });

    await t.step(
      "no session, an expired one, a forged cookie, a wrong role: 401/403, nothing written",
      async () => {
        const before = await snapshot(srv, dbPath);
        const forged = newToken();
        const strangers: Array<[string, Record<string, string>]> = [
          ["no session", {}],
          ["expired session", cookie(expired)],
          ["forged cookie", cookie(forged)],
          ["tampered cookie", cookie(sessions.bob.slice(0, -2) + "zz")],
          ["junk cookie", { cookie: `${SESSION_COOKIE}=' OR 1=1 --` }],
        ];
        const roleOf: Record<string, Role> = {
          alice: "owner",
          bob: "annotator",
          rita: "reviewer",
        };
        const wrong: string[] = [];
        for (const route of routes) {
          const expected = EXPECTED[route];
          if (expected === "public") continue;
          for (const [who, headers] of strangers) {
            const status = await call(srv, route, headers);
            const want = route === "GET /" ? 302 : 401;
            if (status !== want) wrong.push(`${route} ${who}: ${status}`);
          }
          for (const [name, role] of Object.entries(roleOf)) {
            if (expected.includes(role)) continue;
            const status = await call(srv, route, cookie(sessions[name]));
            if (status !== 403) wrong.push(`${route} ${role}: ${status}`);
          }
        }
        assertEquals(wrong, []);
        assertEquals(
          await snapshot(srv, dbPath),
          before,
          "a refused request wrote",
        );
        // The page without a session goes to the sign-in page.
        const page = await fetch(srv.url + "/", { redirect: "manual" });
        await page.body?.cancel();
        assertEquals(page.headers.get("location"), "/login");
      },
    );

    await t.step("the roles allowed to read get through", async () => {
      const wrong: string[] = [];
      for (const route of routes) {
        const expected = EXPECTED[route];
        if (!route.startsWith("GET ") || route === "GET /api/ws") continue;
        const who = expected === "public"
          ? [["nobody", {}] as const]
          : (["alice", "bob", "rita"] as const).filter((n) =>
            expected.includes(
              ({ alice: "owner", bob: "annotator", rita: "reviewer" } as const)[
                n
              ],
            )
          ).map((n) => [n, cookie(sessions[n])] as const);
        for (const [name, headers] of who) {
          const status = await call(srv, route, headers);
          if (status === 401 || status === 403 || status >= 500) {
            wrong.push(`${route} ${name}: ${status}`);
          }
        }
      }
      assertEquals(wrong, []);
    });

    await t.step(
      "the event stream: refused without a session, open with one",
      async () => {
        let refused = false;
        try {
          const ws = await connectWs(srv.wsUrl);
          await ws.close();
        } catch {
          refused = true;
        }
        assert(refused, "a socket opened without a session");
        const expiredWs = await connectWs(srv.wsUrl, cookie(expired)).then(
          (ws) => ws.close().then(() => false),
          () => true,
        );
        assert(expiredWs, "a socket opened with an expired session");
        // Its one client message, ping, answers every role that may read.
        for (const name of ["alice", "bob", "rita"]) {
          const ws = await connectWs(srv.wsUrl, cookie(sessions[name]));
          await ws.waitFor((m) => m.type === "hello");
          ws.socket.send(JSON.stringify({ type: "ping" }));
          await ws.waitFor((m) => m.type === "pong");
          await ws.close();
        }
      },
    );

    const put = (name: string, i: number, label: number) =>
      json(
        srv.url,
        "PUT",
        `/api/labels/${i}`,
        { label, source: "key" },
        cookie(sessions[name]),
      );

    await t.step(
      "annotators label unlabelled images and change only their own; a reviewer resolves any",
      async () => {
        assertEquals((await put("bob", 40, 7)).status, 200);
        const other = await put("carol", 40, 1);
        assertEquals(other.status, 403);
        assertMatch(String(other.body.error), /labelled by bob/);
        const del = await json(
          srv.url,
          "DELETE",
          "/api/labels/40",
          undefined,
          cookie(sessions.carol),
        );
        assertEquals(del.status, 403);
        const batch = await json(srv.url, "PUT", "/api/labels", {
          changes: [{ index: 41, label: 2 }, { index: 40, label: 2 }],
        }, cookie(sessions.carol));
        assertEquals(
          batch.status,
          403,
          "a batch with one foreign label went in",
        );
        assertEquals(
          (await json(
            srv.url,
            "GET",
            "/api/labels/41",
            undefined,
            cookie(sessions.carol),
          )).body.label,
          null,
        );
        // Offline sync: the foreign change alone is refused, the rest applies.
        const sync = await json(srv.url, "POST", "/api/labels/sync", {
          ops: [
            { index: 40, label: 3, clientTime: Date.now() },
            { index: 42, label: 3, clientTime: Date.now() },
          ],
        }, cookie(sessions.carol));
        assertEquals(sync.status, 200);
        const results = sync.body.results as Array<
          { applied: boolean; error?: string }
        >;
        assertEquals(results.map((r) => r.applied), [false, true]);
        assertMatch(results[0].error!, /labelled by bob/);
        // Bob undoes his own; the reviewer changes anyone's.
        assertEquals((await put("bob", 40, 8)).status, 200);
        assertEquals((await put("rita", 42, 5)).status, 200);
        assertEquals((await put("carol", 42, 1)).status, 403);
        const history = await json(
          srv.url,
          "GET",
          "/api/labels/42/history",
          undefined,
          cookie(sessions.carol),
        );
        const mine = history.body.events as Array<{ annotator: string }>;
        assertEquals(
          mine.map((e) => e.annotator),
          ["carol"],
          "an annotator saw others' history",
        );
        const all = await json(
          srv.url,
          "GET",
          "/api/labels/42/history",
          undefined,
          cookie(sessions.rita),
        );
        assertEquals(
          (all.body.events as Array<{ annotator: string; to: number }>).map((
            e,
          ) => [e.annotator, e.to]),
          [["rita", 5], ["carol", 3]],
        );
        const csv =
          await (await fetch(`${srv.url}/api/labels/export?annotator=1`, {
            headers: cookie(sessions.alice),
          })).text();
        assertEquals(csv, "Serial,label,annotator\n40,8,bob\n42,5,rita\n");
        // labels.csv stays the two-column file the original tools read.
        assertEquals(
          await Deno.readTextFile(srv.labelsPath),
          "Serial,label\n40,8\n42,5\n",
        );
      },
    );

    await t.step(
      "behind the public URL: its Host and Origin are ours, the policy says wss",
      async () => {
        const port = new URL(srv.url).port;
        const res = await rawRequest(Number(port), [
          "POST /api/auth/login HTTP/1.1",
          "Host: labels.example.org",
          `Origin: ${PUBLIC}`,
          "Content-Type: application/json",
          `Content-Length: ${
            JSON.stringify({ name: "bob", password: PASSWORD }).length
          }`,
        ], JSON.stringify({ name: "bob", password: PASSWORD }));
        assertEquals(res.status, 200, res.text);
        assertMatch(
          res.text,
          /connect-src 'self' wss:\/\/labels\.example\.org/,
        );
        assertMatch(res.text, /Strict-Transport-Security/);
        const foreign = await json(srv.url, "POST", "/api/auth/login", {
          name: "bob",
          password: PASSWORD,
        }, {
          origin: "https://evil.example",
        });
        assertEquals(foreign.status, 403);
      },
    );

    await t.step(
      "sign-in: wrong passwords are limited per name, 429 with Retry-After",
      async () => {
        const login = (password: string, name = "carol") =>
          json(srv.url, "POST", "/api/auth/login", { name, password });
        for (let i = 0; i < TEAM_LIMITS.loginFailures; i++) {
          assertEquals((await login("wrong password")).status, 401);
        }
        const limited = await login(PASSWORD);
        assertEquals(
          limited.status,
          429,
          "the right password got through the limit",
        );
        assert(Number(limited.headers.get("retry-after")) > 0);
        // Another name from the same address still may try.
        assertEquals((await login("wrong password", "rita")).status, 401);
      },
    );

    await t.step(
      "sign-out and revocation end sessions and event streams at once",
      async () => {
        const ws = await connectWs(srv.wsUrl, cookie(sessions.bob));
        await ws.waitFor((m) => m.type === "hello");
        const closed = new Promise<number>((r) =>
          ws.socket.addEventListener("close", (e) => r(e.code))
        );
        const revoke = await runDeno([
          "cli/users.ts",
          "revoke",
          "bob",
          "--labels",
          labelsPath,
        ]);
        assertEquals(revoke.code, 0, revoke.output);
        assertEquals((await put("bob", 50, 1)).status, 401);
        assertEquals(await closed, 4401);
        // Sign out through the API: the cookie no longer opens anything.
        const out = await json(
          srv.url,
          "POST",
          "/api/auth/logout",
          undefined,
          cookie(sessions.rita),
        );
        assertEquals(out.status, 200);
        assertEquals(
          (await json(
            srv.url,
            "GET",
            "/api/state",
            undefined,
            cookie(sessions.rita),
          )).status,
          401,
        );
        // The owner's revocation through the API; nobody revokes themself.
        const self = await json(
          srv.url,
          "DELETE",
          "/api/users/alice",
          undefined,
          cookie(sessions.alice),
        );
        assertEquals(self.status, 409);
        const carol = await json(
          srv.url,
          "DELETE",
          "/api/users/carol",
          undefined,
          cookie(sessions.alice),
        );
        assertEquals(carol.status, 200);
        assertEquals(
          (await json(
            srv.url,
            "GET",
            "/api/state",
            undefined,
            cookie(sessions.carol),
          )).status,
          401,
        );
        const list = await json(
          srv.url,
          "GET",
          "/api/users",
          undefined,
          cookie(sessions.alice),
        );
        assertEquals(
          (list.body.users as Array<{ name: string; revoked: boolean }>).map((
            u,
          ) => [u.name, u.revoked]),
          [["alice", false], ["bob", true], ["carol", true], ["rita", false]],
        );
        // The log keeps who made each label.
        const history = await runDeno([
          "cli/labels.ts",
          "--history",
          "40",
          "--labels",
          labelsPath,
          "--limit",
          "300",
        ]);
        assertEquals(history.code, 0, history.output);
        assertMatch(history.stdout, /7 -> 8 {2}key {2}annotator bob/);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a host beyond loopback without accounts refuses to start and says how to make one", async () => {
  const r = await runRefusedStart(["--host", "0.0.0.0"]);
  assertEquals(r.code, 1, r.output);
  assertMatch(r.output, /needs accounts/);
  assertMatch(r.output, /deno task users add NAME --role owner/);
  // Nothing was made but what the message names.
  assertEquals(r.left, []);
});
