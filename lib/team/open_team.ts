/**
 * Whether a server serves a team, decided once at start: the data set's
 * accounts database (`--db`, default `<labels>.team.sqlite`) with at least
 * one account makes every request need a session. Without accounts a
 * loopback server is the single-user dashboard as before, and any other
 * `--host` refuses to start and says how to make the first account.
 */

import type { ServerOptions } from "../server/options.ts";
import { AccountStore } from "./account_store.ts";

/** 127.0.0.0/8, ::1 and localhost: only this machine reaches them. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Serving beyond loopback without accounts: the message says what to do. */
export class NoAccountsError extends Error {
  override name = "NoAccountsError";
}

/**
 * The accounts to check every request against, or null for the
 * single-user loopback dashboard. Throws NoAccountsError when `--host` is
 * not loopback and no account exists.
 */
export function openTeam(
  options: Pick<ServerOptions, "host" | "dbPath" | "labelsPath">,
  log: (line: string) => void,
): AccountStore | null {
  const store = AccountStore.openIfExists(options.dbPath);
  if (store?.hasAccounts()) {
    store.prune();
    const n = store.list().filter((a) => !a.revoked).length;
    log(`team server: ${n} account(s) in ${options.dbPath}; sign in at /login`);
    return store;
  }
  store?.close();
  if (!isLoopbackHost(options.host)) {
    throw new NoAccountsError(
      `--host ${options.host} serves beyond this machine, and that needs accounts: none in ${options.dbPath}. ` +
        `Make the first with: deno task users add NAME --role owner --labels ${options.labelsPath}`,
    );
  }
  return null;
}
