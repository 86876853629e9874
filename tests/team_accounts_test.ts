/**
 * The team's building blocks without a server: Argon2id passwords, hashed
 * tokens, the account store (an invite works once and expires, sessions
 * expire, revocation and a role change hold at once, also from a second
 * connection as the CLI has), the sign-in limiter, the start-up rule for
 * hosts beyond loopback, and the label log's migration to annotators.
 */

import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  hashPassword,
  newToken,
  sameSecret,
  TOKEN_PATTERN,
  tokenDigest,
  verifyPassword,
} from "../lib/team/secrets.ts";
import { AccountStore } from "../lib/team/account_store.ts";
import { AccountError, type Accounts } from "../lib/team/accounts.ts";
import { openPgTeam } from "../lib/team/pg_store.ts";
import { postgresBin, startPostgres } from "../support/postgres.ts";
import { LoginLimiter } from "../lib/team/login_limiter.ts";
import {
  isLoopbackHost,
  NoAccountsError,
  openTeam,
} from "../lib/team/open_team.ts";
import { TEAM_LIMITS } from "../lib/protocol/team.ts";
import { LabelHistory } from "../lib/labels/label_history.ts";
import { withTempDir } from "../support/temp_dir.ts";

Deno.test("passwords: Argon2id, salted, verified in constant time, malformed never matches", async () => {
  const a = await hashPassword("correct horse");
  const b = await hashPassword("correct horse");
  assert(a.startsWith("argon2id$m=19456,t=2,p=1$"), a);
  assert(a !== b, "two hashes of one password share a salt");
  assert(!a.includes("correct horse"));
  assert(await verifyPassword("correct horse", a));
  assert(!(await verifyPassword("correct horsE", a)));
  assert(!(await verifyPassword("correct horse", "plain")));
  assert(!(await verifyPassword("", a)));
});

Deno.test("tokens: 256 random bits, stored as SHA-256, compared in constant time", () => {
  const t = newToken();
  assert(TOKEN_PATTERN.test(t), t);
  assert(newToken() !== t);
  assertEquals(tokenDigest(t).length, 64);
  assert(!tokenDigest(t).includes(t));
  assert(sameSecret(t, t));
  assert(!sameSecret(t, t.slice(0, -1) + (t.endsWith("A") ? "B" : "A")));
  assert(!sameSecret(t, t + "x"));
});

/**
 * The rules every accounts store keeps, checked on `store` with a second
 * connection `cli` to the same database (as `deno task users` has).
 */
async function checkAccounts(
  store: Accounts,
  cli: Accounts,
  secretIn: () => Promise<string>,
) {
  assert(!(await store.hasAccounts()));
  const now = Date.now();
  const { token, expires } = await store.invite("bob", "annotator", { now });
  assertEquals(expires, now + TEAM_LIMITS.inviteMs);
  assert(await store.hasAccounts(), "an invited account is an account");
  assertEquals((await store.list()).map((a) => [a.name, a.active]), [[
    "bob",
    false,
  ]]);
  await assertRejects(
    () => store.invite("bob", "owner"),
    AccountError,
    "exists",
  );
  await assertRejects(
    () => store.invite("bo b", "owner"),
    AccountError,
    "letters",
  );
  // Nothing of the token is stored.
  assert(!(await secretIn()).includes(token));

  await assertRejects(
    () => store.acceptInvite(token, "short"),
    AccountError,
    "8-256",
  );
  const s = await store.acceptInvite(token, "correct horse");
  assert(s, "invite refused");
  assertEquals(s.account, { name: "bob", role: "annotator" });
  assertEquals(await store.session(s.token), {
    name: "bob",
    role: "annotator",
  });
  assertEquals(await store.acceptInvite(token, "another one!"), null);

  // Expired invites and sessions.
  const late = await store.invite("carol", "reviewer", {
    now: now - TEAM_LIMITS.inviteMs - 1,
  });
  assertEquals(await store.inviteFor(late.token), null);
  assertEquals(await store.acceptInvite(late.token, "correct horse"), null);
  const old = await store.login(
    "bob",
    "correct horse",
    now - TEAM_LIMITS.sessionMs - 1,
  );
  assert(old);
  assertEquals(
    await store.session(old.token),
    null,
    "an expired session opens",
  );

  // Sign-in: wrong password, unknown name, a name not yet active.
  assertEquals(await store.login("bob", "wrong horse"), null);
  assertEquals(await store.login("nobody", "correct horse"), null);
  assertEquals(await store.login("carol", "correct horse"), null);
  const s2 = await store.login("bob", "correct horse");
  assert(s2);

  // The second connection changes the role and revokes: the first sees it
  // at the next lookup.
  await cli.setRole("bob", "reviewer");
  assertEquals((await store.session(s2.token))?.role, "reviewer");
  await store.logout(s2.token);
  assertEquals(await store.session(s2.token), null);
  const s3 = await store.login("bob", "correct horse");
  assert(s3);
  await cli.revoke("bob");
  assertEquals(await store.session(s3.token), null);
  assertEquals(await store.session(s.token), null);
  assertEquals(await store.login("bob", "correct horse"), null);
  await assertRejects(() => cli.revoke("nobody"), AccountError, "no account");
  // A reset gives a revoked account a new start, with a new password.
  const again = await cli.invite("bob", "annotator", { reissue: true });
  assert(await store.acceptInvite(again.token, "battery staple"));
  assert(await store.login("bob", "battery staple"));
  assertEquals(await store.login("bob", "correct horse"), null);
  // Malformed tokens are refused unread.
  assertEquals(await store.session("x"), null);
  assertEquals(await store.session("' OR 1=1 --"), null);
  await cli.close();
  await store.close();
}

Deno.test("accounts in SQLite: an invite works once and expires; sessions expire; revocation and roles hold at once", async () => {
  await withTempDir("team_test_", async (dir) => {
    const path = `${dir}/labels.team.sqlite`;
    await checkAccounts(
      AccountStore.open(path),
      AccountStore.open(path),
      async () => new TextDecoder().decode(await Deno.readFile(path)),
    );
  });
});

Deno.test({
  name: "accounts in PostgreSQL (a real server): the same rules",
  ignore: postgresBin() === null,
  async fn() {
    await using pg = await startPostgres();
    const dump = async () => {
      const { sql } = await openPgTeam(pg.url);
      const rows = [
        await sql`SELECT * FROM accounts`,
        await sql`SELECT * FROM invites`,
        await sql`SELECT * FROM sessions`,
      ];
      await sql.end();
      assert(rows[1].length > 0, "no invite stored");
      return JSON.stringify(rows);
    };
    await checkAccounts(
      (await openPgTeam(pg.url)).accounts,
      (await openPgTeam(pg.url)).accounts,
      dump,
    );
  },
});

Deno.test("sign-in limiter: failures per name and per address in a window, successes free", () => {
  const l = new LoginLimiter({ perName: 3, perAddress: 5, windowMs: 60_000 });
  const t = 1_000_000;
  for (let i = 0; i < 3; i++) {
    assertEquals(l.retryAfter("bob", "1.2.3.4", t + i), 0);
    l.fail("Bob", "1.2.3.4", t + i);
  }
  // The name is locked from every address, in any case.
  assertEquals(l.retryAfter("bob", "1.2.3.4", t + 10), 60);
  assert(l.retryAfter("BOB", "5.6.7.8", t + 10) > 0);
  // The address has tries left for other names, until its own limit.
  assertEquals(l.retryAfter("eve", "1.2.3.4", t + 10), 0);
  l.fail("eve", "1.2.3.4", t + 11);
  l.fail("ann", "1.2.3.4", t + 12);
  assert(l.retryAfter("zed", "1.2.3.4", t + 13) > 0);
  assertEquals(l.retryAfter("zed", "5.6.7.8", t + 13), 0);
  // The window passes.
  assertEquals(l.retryAfter("bob", "1.2.3.4", t + 60_013), 0);
});

Deno.test("beyond loopback a server needs accounts; loopback without them is the one local user", async () => {
  await withTempDir("team_test_", (dir) => check(dir));
  async function check(dir: string) {
    const dbPath = `${dir}/labels.team.sqlite`;
    const labelsPath = `${dir}/labels.csv`;
    for (const h of ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.1.1"]) {
      assert(isLoopbackHost(h), h);
    }
    for (const h of ["0.0.0.0", "::", "192.168.1.5", "example.org"]) {
      assert(!isLoopbackHost(h), h);
    }
    const log: string[] = [];
    assertEquals(
      await openTeam(
        { host: "127.0.0.1", dbPath, labelsPath },
        (l) => log.push(l),
      ),
      null,
    );
    const e = await assertRejects(
      () => openTeam({ host: "0.0.0.0", dbPath, labelsPath }, () => {}),
      NoAccountsError,
    );
    assert(e.message.includes("deno task users add NAME --role owner"));
    const store = AccountStore.open(dbPath);
    await store.invite("alice", "owner");
    await store.close();
    const team = await openTeam(
      { host: "0.0.0.0", dbPath, labelsPath },
      () => {},
    );
    assert(team);
    await team.close();
    // On loopback too: once accounts exist, everyone signs in.
    const local = await openTeam(
      { host: "127.0.0.1", dbPath, labelsPath },
      () => {},
    );
    assert(local);
    await local.close();
  }
});

Deno.test("label log: a version-1 log is migrated in place, its events kept, annotators recorded from then on", async () => {
  await withTempDir("team_test_", async (dir) => {
    const path = `${dir}/labels.history.sqlite`;
    // A log as version 1 wrote it.
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('schema', '1');
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,
        batch INTEGER NOT NULL, time INTEGER NOT NULL, serial INTEGER NOT NULL,
        old INTEGER, new INTEGER, source TEXT NOT NULL, client TEXT);
      INSERT INTO events (batch, time, serial, old, new, source, client)
        VALUES (1, 1000, 4, NULL, 7, 'key', 'web-a');
    `);
    db.close();
    const { history, warning } = LabelHistory.open(path);
    assertEquals(warning, undefined);
    history.append([{
      changes: [{ serial: 4, from: 7, to: 2 }],
      meta: { source: "review", annotator: "rita" },
    }]);
    const events = history.forSerial(4, 10);
    assertEquals(
      events.map((e) => [e.to, e.source, e.client, e.annotator]),
      [[2, "review", null, "rita"], [7, "key", "web-a", null]],
    );
    assertEquals(history.forSerial(4, 10, "rita").length, 1);
    assertEquals(history.lastBySerial().get(4)?.annotator, "rita");
    history.close();
    // Opened again: version 2 as it is.
    const again = LabelHistory.open(path);
    assertEquals(again.warning, undefined);
    assertEquals(again.history.size, 2);
    again.history.close();
  });
});
