/**
 * A team on one data set, as both sides and the CLI see it: the roles, what
 * each may do, the session cookie, the limits of names, passwords, invites
 * and logins, and the wire types of `/api/auth/*` and `/api/users`. The
 * server enforces these (lib/server/auth.ts), the page hides what a role
 * cannot do, `deno task users` takes the same names and roles. No imports,
 * so the browser bundle takes it as is.
 */

/** Every role an account can have. */
export const ROLES = ["owner", "annotator", "reviewer"] as const;

/** What an account may do, by its role. */
export type Role = typeof ROLES[number];

/**
 * What a request may need, one word per kind of work:
 * - `read`: see the data, the map, predictions, curves and labels;
 * - `label`: set, change or remove labels (an annotator only their own);
 * - `review`: the review queue and its resolutions, any image's label;
 * - `train`: start and stop training;
 * - `admin`: accounts, import and export, reverting a past batch, settings.
 */
export const PERMISSIONS = [
  "read",
  "label",
  "review",
  "train",
  "admin",
] as const;

/** One kind of work a route needs. */
export type Permission = typeof PERMISSIONS[number];

/** What each role may do. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: PERMISSIONS,
  annotator: ["read", "label"],
  reviewer: ["read", "review"],
};

/** Whether `role` may do `permission`. */
export function roleCan(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** True for one of ROLES. */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" &&
    (ROLES as readonly string[]).includes(value);
}

/**
 * The session cookie. HttpOnly and SameSite=Strict always, Secure when the
 * server is reached over TLS (`--public-url https://…`).
 */
export const SESSION_COOKIE = "ssvae_session";

/** The WebSocket close code of an event stream whose session ended. */
export const SESSION_ENDED_CODE = 4401;

/** An account name: what the label log records as the annotator. */
export const ACCOUNT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,40}$/;

/** The team's limits, defined once. */
export const TEAM_LIMITS = {
  /** Shortest password (NIST SP 800-63B: at least 8 characters). */
  passwordMin: 8,
  /** Longest password: a KDF over megabytes of input is a denial of service. */
  passwordMax: 256,
  /** How long an invite link works, and only once. */
  inviteMs: 7 * 24 * 3600_000,
  /** How long a session lasts from sign-in. */
  sessionMs: 7 * 24 * 3600_000,
  /** Failed sign-ins allowed per account name in `loginWindowMs`. */
  loginFailures: 5,
  /** … and per client address (a team may share one address). */
  loginFailuresPerAddress: 20,
  loginWindowMs: 15 * 60_000,
  /** A sign-in or invite form body. */
  formBytes: 4 * 1024,
} as const;

/** Who is signed in (`GET /api/auth/me`, and `me` of `/api/state`). */
export interface Me {
  name: string;
  role: Role;
  /** False on loopback without accounts: the one local user, who may do all. */
  team: boolean;
}

/** One account as `GET /api/users` and `deno task users list` show it. */
export interface AccountInfo {
  name: string;
  role: Role;
  /** ms since 1970. */
  created: number;
  /** False until the invite was used (a password set). */
  active: boolean;
  /** Revoked: cannot sign in, its sessions are gone. */
  revoked: boolean;
}

/** Answer of `POST /api/users` (an invite): the link is shown once. */
export interface InviteResult {
  name: string;
  role: Role;
  /** The path with the one-time token, to put after the server's address. */
  path: string;
  expires: number;
}

/** Agreement of one pair of annotators. */
export interface PairAgreement {
  a: string;
  b: string;
  /** Images both labelled. */
  shared: number;
  /** Share of them labelled alike. */
  observed: number;
  kappa: number;
  /** κ of each class against the rest (NaN where neither used it). */
  perClass: number[];
}

/** Everything the agreement panel and export show. */
export interface AgreementReport {
  /** Images with labels of two annotators or more. */
  items: number;
  alpha: number;
  pairs: PairAgreement[];
}

/** Where an annotator's label of an overlapped image stands (`--overlap K`). */
export interface OverlapPending {
  /** Annotations the image has (this one included). */
  have: number;
  /** K. */
  need: number;
  /** K reached, and they differ: waits for a reviewer. */
  disagreement: boolean;
}

/** An image whose K annotations differ, for the reviewer's queue. */
export interface Disagreement {
  index: number;
  /** Annotator → label. */
  labels: Record<string, number>;
}

/**
 * Body of `GET /api/agreement`. Figures without data (κ of a class nobody
 * used, α of fewer than two annotations) are null on the wire (NaN here).
 */
export interface AgreementResponse extends AgreementReport {
  overlap: number;
  disagreements: Disagreement[];
}
