/**
 * A team server on PostgreSQL (`--db postgres://…`): the accounts, invites
 * and sessions (the same tables and rules as lib/team/account_store.ts),
 * and the shared label log that keeps several dashboard processes on one
 * data set in step (lib/team/pg_label_feed.ts). The client is the
 * `postgres` package (pinned in deno.json): pure JavaScript, pooled, with
 * LISTEN/NOTIFY.
 */

import postgres from "postgres";
import {
  ACCOUNT_NAME_PATTERN,
  type AccountInfo,
  isRole,
  type Role,
  TEAM_LIMITS,
} from "../protocol/team.ts";
import {
  type Account,
  AccountError,
  type Accounts,
  checkAccountName,
  checkPassword,
  type NewSession,
} from "./accounts.ts";
import type { Annotation, Annotations } from "./annotation_store.ts";
import {
  hashPassword,
  newToken,
  NO_ACCOUNT_HASH,
  TOKEN_PATTERN,
  tokenDigest,
  verifyPassword,
} from "./secrets.ts";

/** The client's connection pool. */
export type Sql = postgres.Sql;

/** Whether `--db` names a PostgreSQL database. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    created BIGINT NOT NULL,
    password TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE)`,
  `CREATE TABLE IF NOT EXISTS invites (
    digest TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    expires BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name)`,
  // The shared label log: every label event of every process, in one order.
  `CREATE TABLE IF NOT EXISTS label_events (
    id BIGSERIAL PRIMARY KEY,
    origin TEXT NOT NULL,
    time BIGINT NOT NULL,
    serial INTEGER NOT NULL,
    old INTEGER,
    new INTEGER,
    source TEXT NOT NULL,
    client TEXT,
    annotator TEXT)`,
  `CREATE INDEX IF NOT EXISTS label_events_serial ON label_events (serial, id)`,
  // Overlap's annotations (lib/team/annotation_store.ts has the same table).
  `CREATE TABLE IF NOT EXISTS annotations (
    serial INTEGER NOT NULL,
    annotator TEXT NOT NULL,
    label INTEGER NOT NULL,
    time BIGINT NOT NULL,
    PRIMARY KEY (serial, annotator))`,
  `CREATE INDEX IF NOT EXISTS annotations_annotator ON annotations (annotator)`,
];

/** A pool on `url`, with the team's tables made if need be. */
export async function openPgTeam(
  url: string,
): Promise<{ sql: Sql; accounts: PgAccounts }> {
  const sql = postgres(url, {
    max: 8,
    // A database that is not there is an error at start, not a long hang.
    connect_timeout: 10,
    onnotice: () => {},
    // Big integers (BIGINT times, BIGSERIAL ids) as numbers: all fit in 2^53.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number) => String(x),
        parse: (x: string) => Number(x),
      },
    },
  });
  try {
    // One creator at a time: two servers starting at once on a new database.
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(4242)`;
      for (const stmt of SCHEMA) await tx.unsafe(stmt);
    });
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw new Error(
      `--db ${url.replace(/:[^:@/]*@/, ":***@")}: ${(e as Error).message}`,
    );
  }
  return { sql, accounts: new PgAccounts(sql) };
}

/** Overlap's annotations in PostgreSQL, shared by every process on the database. */
export class PgAnnotations implements Annotations {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async put(serial: number, annotator: string, label: number): Promise<void> {
    await this.#sql`
      INSERT INTO annotations (serial, annotator, label, time)
      VALUES (${serial}, ${annotator}, ${label}, ${Date.now()})
      ON CONFLICT (serial, annotator)
      DO UPDATE SET label = EXCLUDED.label, time = EXCLUDED.time`;
  }

  async remove(serial: number, annotator: string): Promise<boolean> {
    const r = await this.#sql`
      DELETE FROM annotations WHERE serial = ${serial} AND annotator = ${annotator}`;
    return r.count > 0;
  }

  async forSerial(serial: number): Promise<Map<string, number>> {
    const rows = await this.#sql<{ annotator: string; label: number }[]>`
      SELECT annotator, label FROM annotations WHERE serial = ${serial} ORDER BY time`;
    return new Map(rows.map((r) => [r.annotator, r.label]));
  }

  async mine(annotator: string): Promise<Map<number, number>> {
    const rows = await this.#sql<{ serial: number; label: number }[]>`
      SELECT serial, label FROM annotations WHERE annotator = ${annotator}`;
    return new Map(rows.map((r) => [r.serial, r.label]));
  }

  async all(): Promise<Annotation[]> {
    const rows = await this.#sql<Annotation[]>`
      SELECT serial, annotator, label, time FROM annotations ORDER BY serial, time`;
    return rows.map((r) => ({ ...r }));
  }

  /** The pool is the accounts' and closes with them. */
  async close(): Promise<void> {}
}

interface AccountRow {
  name: string;
  role: string;
  created: number;
  password: string | null;
  revoked: boolean;
}

/** Accounts in PostgreSQL: lib/team/account_store.ts's rules, row for row. */
export class PgAccounts implements Accounts {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** The pool, shared with the label feed (lib/team/pg_label_feed.ts). */
  get sql(): Sql {
    return this.#sql;
  }

  async hasAccounts(): Promise<boolean> {
    const rows = await this
      .#sql`SELECT 1 FROM accounts WHERE NOT revoked LIMIT 1`;
    return rows.length > 0;
  }

  async invite(
    name: string,
    role: Role,
    opts: { reissue?: boolean; now?: number } = {},
  ): Promise<{ token: string; expires: number }> {
    checkAccountName(name);
    if (!isRole(role)) throw new AccountError(`unknown role ${role}`);
    const now = opts.now ?? Date.now();
    const token = newToken();
    const expires = now + TEAM_LIMITS.inviteMs;
    await this.#sql.begin(async (tx) => {
      const had =
        await tx`SELECT name FROM accounts WHERE name = ${name} FOR UPDATE`;
      if (had.length > 0 && !opts.reissue) {
        throw new AccountError(
          `account ${name} exists: use "reset ${name}" for a new invite link`,
        );
      }
      if (had.length > 0) {
        await tx`UPDATE accounts SET role = ${role}, revoked = FALSE WHERE name = ${name}`;
        await tx`DELETE FROM sessions WHERE name = ${name}`;
      } else {
        await tx`INSERT INTO accounts (name, role, created) VALUES (${name}, ${role}, ${now})`;
      }
      await tx`DELETE FROM invites WHERE name = ${name}`;
      await tx`INSERT INTO invites (digest, name, expires) VALUES (${
        tokenDigest(token)
      }, ${name}, ${expires})`;
    });
    return { token, expires };
  }

  async inviteFor(token: string, now = Date.now()): Promise<Account | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const [row] = await this.#sql<{ name: string; role: string }[]>`
      SELECT a.name, a.role FROM invites i JOIN accounts a ON a.name = i.name
      WHERE i.digest = ${
      tokenDigest(token)
    } AND i.expires > ${now} AND NOT a.revoked`;
    return row && isRole(row.role) ? { name: row.name, role: row.role } : null;
  }

  async acceptInvite(
    token: string,
    password: string,
    now = Date.now(),
  ): Promise<NewSession | null> {
    checkPassword(password);
    const account = await this.inviteFor(token, now);
    if (!account) return null;
    const hash = await hashPassword(password);
    const spent = await this.#sql.begin(async (tx) => {
      const gone = await tx`DELETE FROM invites WHERE digest = ${
        tokenDigest(token)
      }`;
      if (gone.count !== 1) return false;
      await tx`UPDATE accounts SET password = ${hash} WHERE name = ${account.name}`;
      return true;
    });
    return spent ? await this.#openSession(account, now) : null;
  }

  async login(
    name: string,
    password: string,
    now = Date.now(),
  ): Promise<NewSession | null> {
    const [row] = ACCOUNT_NAME_PATTERN.test(name)
      ? await this.#sql<
        AccountRow[]
      >`SELECT * FROM accounts WHERE name = ${name}`
      : [];
    const usable = row && !row.revoked && row.password !== null;
    const ok = await verifyPassword(
      password.slice(0, TEAM_LIMITS.passwordMax),
      usable ? row.password! : NO_ACCOUNT_HASH,
    );
    if (!ok || !usable || !isRole(row.role)) return null;
    return await this.#openSession({ name: row.name, role: row.role }, now);
  }

  async session(token: string, now = Date.now()): Promise<Account | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const [row] = await this.#sql<{ name: string; role: string }[]>`
      SELECT a.name, a.role FROM sessions s JOIN accounts a ON a.name = s.name
      WHERE s.digest = ${
      tokenDigest(token)
    } AND s.expires > ${now} AND NOT a.revoked`;
    return row && isRole(row.role) ? { name: row.name, role: row.role } : null;
  }

  async logout(token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return;
    await this.#sql`DELETE FROM sessions WHERE digest = ${tokenDigest(token)}`;
  }

  async revoke(name: string): Promise<void> {
    await this.#sql.begin(async (tx) => {
      const r =
        await tx`UPDATE accounts SET revoked = TRUE WHERE name = ${name}`;
      if (r.count !== 1) throw new AccountError(`no account ${name}`);
      await tx`DELETE FROM sessions WHERE name = ${name}`;
      await tx`DELETE FROM invites WHERE name = ${name}`;
    });
  }

  async setRole(name: string, role: Role): Promise<void> {
    if (!isRole(role)) throw new AccountError(`unknown role ${role}`);
    const r = await this
      .#sql`UPDATE accounts SET role = ${role} WHERE name = ${name}`;
    if (r.count !== 1) throw new AccountError(`no account ${name}`);
  }

  async list(): Promise<AccountInfo[]> {
    const rows = await this.#sql<AccountRow[]>`
      SELECT * FROM accounts ORDER BY created, name`;
    return rows.filter((r) => isRole(r.role)).map((r) => ({
      name: r.name,
      role: r.role as Role,
      created: r.created,
      active: r.password !== null,
      revoked: r.revoked,
    }));
  }

  async prune(now = Date.now()): Promise<void> {
    await this.#sql`DELETE FROM sessions WHERE expires <= ${now}`;
    await this.#sql`DELETE FROM invites WHERE expires <= ${now}`;
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 2 });
  }

  async #openSession(account: Account, now: number): Promise<NewSession> {
    const token = newToken();
    const expires = now + TEAM_LIMITS.sessionMs;
    await this.#sql`INSERT INTO sessions (digest, name, created, expires)
      VALUES (${tokenDigest(token)}, ${account.name}, ${now}, ${expires})`;
    return { token, account, expires };
  }
}
