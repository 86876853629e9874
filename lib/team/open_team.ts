/**
 * Whether a server serves a team, decided once at start: the data set's
 * accounts (`--db`: a SQLite file, default `<labels>.team.sqlite`, or a
 * `postgres://` URL) with at least one account make every request need a
 * session. Without accounts a loopback server is the single-user dashboard
 * as before, and any other `--host` refuses to start and says how to make
 * the first account.
 */

import type { ServerOptions } from "../server/options.ts";
import { AccountStore } from "./account_store.ts";
import type { Accounts } from "./accounts.ts";
import { isPostgresUrl, openPgTeam } from "./pg_store.ts";

/** 127.0.0.0/8, ::1 and localhost: only this machine reaches them. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Serving beyond loopback without accounts: the message says what to do. */
export class NoAccountsError extends Error {
  override name = "NoAccountsError";
}

/** `--db` as the log shows it: a URL without its password. */
export function dbName(db: string): string {
  return isPostgresUrl(db)
    ? db.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")
    : db;
}

/**
 * The accounts `--db` names, created if need be (the CLI); a PostgreSQL
 * database gets its tables.
 */
export async function openAccounts(db: string): Promise<Accounts> {
  return isPostgresUrl(db)
    ? (await openPgTeam(db)).accounts
    : AccountStore.open(db);
}

/**
 * The accounts to check every request against, or null for the
 * single-user loopback dashboard. Throws NoAccountsError when `--host` is
 * not loopback and no account exists.
 */
export async function openTeam(
  options: Pick<ServerOptions, "host" | "dbPath" | "labelsPath">,
  log: (line: string) => void,
): Promise<Accounts | null> {
  const store = isPostgresUrl(options.dbPath)
    ? await openAccounts(options.dbPath)
    : AccountStore.openIfExists(options.dbPath);
  if (store && await store.hasAccounts()) {
    await store.prune();
    const n = (await store.list()).filter((a) => !a.revoked).length;
    log(
      `team server: ${n} account(s) in ${
        dbName(options.dbPath)
      }; sign in at /login`,
    );
    return store;
  }
  await store?.close();
  if (!isLoopbackHost(options.host)) {
    throw new NoAccountsError(
      `--host ${options.host} serves beyond this machine, and that needs accounts: none in ${
        dbName(options.dbPath)
      }. ` +
        `Make the first with: deno task users add NAME --role owner --labels ${options.labelsPath}`,
    );
  }
  return null;
}
