/**
 * The team's accounts as the server, the CLI and the tests use them, whatever
 * keeps them: SQLite beside labels.csv (lib/team/account_store.ts, the
 * default) or PostgreSQL for a team server (`--db postgres://…`,
 * lib/team/pg_store.ts). One interface, so routes and middleware never know
 * which.
 */

import {
  ACCOUNT_NAME_PATTERN,
  type AccountInfo,
  type Role,
  TEAM_LIMITS,
} from "../protocol/team.ts";

/** Every operation on accounts, invites and sessions. */
export interface Accounts {
  /** Whether any account exists (invited or active, not revoked). */
  hasAccounts(): Promise<boolean>;
  /**
   * Invites `name` as `role` (a new account, or with `reissue` a new link
   * for an existing one, ending its sessions); returns the one-time token.
   */
  invite(
    name: string,
    role: Role,
    opts?: { reissue?: boolean; now?: number },
  ): Promise<{ token: string; expires: number }>;
  /** The account an invite token is for, if it is valid now. */
  inviteFor(token: string, now?: number): Promise<Account | null>;
  /** Uses an invite: sets the password, spends the token, opens a session. */
  acceptInvite(
    token: string,
    password: string,
    now?: number,
  ): Promise<NewSession | null>;
  /** Signs in: a new session, or null. */
  login(
    name: string,
    password: string,
    now?: number,
  ): Promise<NewSession | null>;
  /** The account of a session token, if valid now. */
  session(token: string, now?: number): Promise<Account | null>;
  logout(token: string): Promise<void>;
  /** No sign-in, every session and invite gone, at once. */
  revoke(name: string): Promise<void>;
  setRole(name: string, role: Role): Promise<void>;
  list(): Promise<AccountInfo[]>;
  /** Drops expired sessions and invites. */
  prune(now?: number): Promise<void>;
  close(): Promise<void>;
}

/** A refused account operation: its message is for the user as it is. */
export class AccountError extends Error {
  override name = "AccountError";
}

/** A signed-in account. */
export interface Account {
  name: string;
  role: Role;
}

/** A new session: the token goes in the cookie, once. */
export interface NewSession {
  token: string;
  account: Account;
  expires: number;
}

/** Checks an account name, with the rule in the message. */
export function checkAccountName(name: string): string {
  if (!ACCOUNT_NAME_PATTERN.test(name)) {
    throw new AccountError(
      `account name ${
        JSON.stringify(name.slice(0, 60))
      }: expected 1-40 letters, digits, "_", "-" or "."`,
    );
  }
  return name;
}

/** Checks a new password's length, with the rule in the message. */
export function checkPassword(password: string): string {
  if (
    password.length < TEAM_LIMITS.passwordMin ||
    password.length > TEAM_LIMITS.passwordMax
  ) {
    throw new AccountError(
      `a password needs ${TEAM_LIMITS.passwordMin}-${TEAM_LIMITS.passwordMax} characters`,
    );
  }
  return password;
}
