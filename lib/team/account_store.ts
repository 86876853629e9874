// SQLite answers synchronously; the methods are async only for the
// interface they share with PostgreSQL (lib/team/accounts.ts).
// deno-lint-ignore-file require-await
/**
 * The team's accounts, invites and sessions of one data set, in SQLite
 * (Deno's built-in `node:sqlite`, WAL mode) beside labels.csv
 * (`<labels>.team.sqlite`, or `--db FILE`). Nothing secret is stored in the
 * clear: passwords as Argon2id hashes, invite and session tokens as their
 * SHA-256 (lib/team/secrets.ts).
 *
 * The methods are async for the interface it shares with PostgreSQL
 * (lib/team/accounts.ts); SQLite itself answers at once.
 *
 * Every check reads the database, not a copy in memory, so a revocation
 * made by `deno task users revoke` in another process holds at the next
 * request of the running server.
 */

import { DatabaseSync } from "node:sqlite";
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
import {
  hashPassword,
  newToken,
  NO_ACCOUNT_HASH,
  TOKEN_PATTERN,
  tokenDigest,
  verifyPassword,
} from "./secrets.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  created INTEGER NOT NULL,
  password TEXT,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS invites (
  digest TEXT PRIMARY KEY,
  name TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
  expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  digest TEXT PRIMARY KEY,
  name TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name);
`;

/** Where the accounts of `labelsPath` are kept unless `--db` says otherwise. */
export function teamDbPath(labelsPath: string): string {
  return labelsPath.replace(/\.csv$/i, "") + ".team.sqlite";
}

/** The accounts of one data set, in SQLite (the embedded default). */
export class AccountStore implements Accounts {
  readonly path: string;
  readonly #db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** Opens (or creates) the database at `path`. */
  static open(path: string): AccountStore {
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
      // Another process (the CLI) may hold the write lock for a moment.
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec(SCHEMA);
    } catch (e) {
      db.close();
      throw new Error(`accounts ${path}: ${(e as Error).message}`);
    }
    return new AccountStore(path, db);
  }

  /** Opens the database only when it exists: no file, no accounts. */
  static openIfExists(path: string): AccountStore | null {
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    return AccountStore.open(path);
  }

  /** Whether any account exists (invited or active, not revoked). */
  async hasAccounts(): Promise<boolean> {
    return this.#db.prepare(
      "SELECT 1 FROM accounts WHERE revoked = 0 LIMIT 1",
    ).get() !== undefined;
  }

  /**
   * Invites `name` as `role`: a new account, or a new link for an account
   * that has none in use (`reissue`: a forgotten password). Older links of
   * the account stop working. Returns the one-time token.
   */
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
    this.#tx(() => {
      const had = this.#row(name);
      if (had && !opts.reissue) {
        throw new AccountError(
          `account ${name} exists: use "reset ${name}" for a new invite link`,
        );
      }
      if (had) {
        this.#db.prepare(
          "UPDATE accounts SET role = ?, revoked = 0 WHERE name = ?",
        ).run(role, name);
        this.#db.prepare("DELETE FROM sessions WHERE name = ?").run(name);
      } else {
        this.#db.prepare(
          "INSERT INTO accounts (name, role, created) VALUES (?, ?, ?)",
        ).run(name, role, now);
      }
      this.#db.prepare("DELETE FROM invites WHERE name = ?").run(name);
      this.#db.prepare(
        "INSERT INTO invites (digest, name, expires) VALUES (?, ?, ?)",
      ).run(tokenDigest(token), name, expires);
    });
    return { token, expires };
  }

  /** The account an invite token is for, if the token is valid now. */
  async inviteFor(token: string, now = Date.now()): Promise<Account | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const row = this.#db.prepare(
      `SELECT a.name, a.role FROM invites i JOIN accounts a ON a.name = i.name
       WHERE i.digest = ? AND i.expires > ? AND a.revoked = 0`,
    ).get(tokenDigest(token), now) as
      | { name: string; role: string }
      | undefined;
    return row && isRole(row.role) ? { name: row.name, role: row.role } : null;
  }

  /**
   * Uses an invite: sets the password, spends the token and opens a
   * session. Null when the token is unknown, used or expired.
   */
  async acceptInvite(
    token: string,
    password: string,
    now = Date.now(),
  ): Promise<NewSession | null> {
    checkPassword(password);
    const account = await this.inviteFor(token, now);
    if (!account) return null;
    const hash = await hashPassword(password);
    // Spent in the same transaction as the password is set: a token used
    // twice at once sets one password.
    const spent = this.#tx(() => {
      const gone = this.#db.prepare("DELETE FROM invites WHERE digest = ?")
        .run(tokenDigest(token));
      if (gone.changes !== 1) return false;
      this.#db.prepare("UPDATE accounts SET password = ? WHERE name = ?").run(
        hash,
        account.name,
      );
      return true;
    });
    return spent ? this.#openSession(account, now) : null;
  }

  /**
   * Signs in with a name and password: a new session, or null. An unknown
   * name costs the same hash as a known one.
   */
  async login(
    name: string,
    password: string,
    now = Date.now(),
  ): Promise<NewSession | null> {
    const row = ACCOUNT_NAME_PATTERN.test(name) ? this.#row(name) : undefined;
    const usable = row && row.revoked === 0 && row.password !== null;
    const ok = await verifyPassword(
      password.slice(0, TEAM_LIMITS.passwordMax),
      usable ? row.password! : NO_ACCOUNT_HASH,
    );
    if (!ok || !usable || !isRole(row.role)) return null;
    return this.#openSession({ name: row.name, role: row.role }, now);
  }

  /** The account of a session token, if it is valid now. */
  async session(token: string, now = Date.now()): Promise<Account | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const row = this.#db.prepare(
      `SELECT a.name, a.role FROM sessions s JOIN accounts a ON a.name = s.name
       WHERE s.digest = ? AND s.expires > ? AND a.revoked = 0`,
    ).get(tokenDigest(token), now) as
      | { name: string; role: string }
      | undefined;
    return row && isRole(row.role) ? { name: row.name, role: row.role } : null;
  }

  /** Ends one session (sign out). */
  async logout(token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return;
    this.#db.prepare("DELETE FROM sessions WHERE digest = ?").run(
      tokenDigest(token),
    );
  }

  /** Revokes an account: no sign-in, every session and invite gone, at once. */
  async revoke(name: string): Promise<void> {
    this.#tx(() => {
      const r = this.#db.prepare(
        "UPDATE accounts SET revoked = 1 WHERE name = ?",
      ).run(name);
      if (r.changes !== 1) throw new AccountError(`no account ${name}`);
      this.#db.prepare("DELETE FROM sessions WHERE name = ?").run(name);
      this.#db.prepare("DELETE FROM invites WHERE name = ?").run(name);
    });
  }

  /** Gives an account another role; its sessions carry the new one at once. */
  async setRole(name: string, role: Role): Promise<void> {
    if (!isRole(role)) throw new AccountError(`unknown role ${role}`);
    const r = this.#db.prepare("UPDATE accounts SET role = ? WHERE name = ?")
      .run(role, name);
    if (r.changes !== 1) throw new AccountError(`no account ${name}`);
  }

  /** Every account, oldest first. */
  async list(): Promise<AccountInfo[]> {
    const rows = this.#db.prepare(
      "SELECT name, role, created, password, revoked FROM accounts ORDER BY created, name",
    ).all() as unknown as AccountRow[];
    return rows.filter((r) => isRole(r.role)).map((r) => ({
      name: r.name,
      role: r.role as Role,
      created: r.created,
      active: r.password !== null,
      revoked: r.revoked !== 0,
    }));
  }

  /** Drops expired sessions and invites (at start; lookups ignore them anyway). */
  async prune(now = Date.now()): Promise<void> {
    this.#db.prepare("DELETE FROM sessions WHERE expires <= ?").run(now);
    this.#db.prepare("DELETE FROM invites WHERE expires <= ?").run(now);
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #openSession(account: Account, now: number): NewSession {
    const token = newToken();
    const expires = now + TEAM_LIMITS.sessionMs;
    this.#db.prepare(
      "INSERT INTO sessions (digest, name, created, expires) VALUES (?, ?, ?, ?)",
    ).run(tokenDigest(token), account.name, now, expires);
    return { token, account, expires };
  }

  #row(name: string): AccountRow | undefined {
    return this.#db.prepare(
      "SELECT name, role, created, password, revoked FROM accounts WHERE name = ?",
    ).get(name) as AccountRow | undefined;
  }

  #tx<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const out = body();
      this.#db.exec("COMMIT");
      return out;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }
}

interface AccountRow {
  name: string;
  role: string;
  created: number;
  password: string | null;
  revoked: number;
}
