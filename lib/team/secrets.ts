/**
 * The team's secrets: passwords hashed with Argon2id (hash-wasm, a
 * well-kept WebAssembly build of the reference code: memory-hard, no native
 * build step), and random tokens (invites, sessions) that are stored only as
 * their SHA-256 and compared in constant time.
 */

import { argon2id } from "hash-wasm";
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane): ~65 ms a hash on
 * this project's 2-core machine, which also bounds how fast a stolen
 * database can be guessed at.
 */
const ARGON2 = { memorySize: 19_456, iterations: 2, parallelism: 1 } as const;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

/** base64url without padding: safe in a cookie, a path and a terminal. */
function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const raw = atob(b64 + "=".repeat((4 - b64.length % 4) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** A new random token: 32 bytes (256 bits) from the system's CSPRNG. */
export function newToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** What is stored of a token: its SHA-256, hex. A leaked table opens no session. */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A token's shape (43 base64url characters): anything else is refused unread. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Constant-time equality of two strings (false for different lengths). */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A password's stored form: `argon2id$m=…,t=…,p=…$<salt>$<hash>`, the
 * parameters kept so they can be raised later without breaking old hashes.
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, ARGON2);
  return `argon2id$m=${ARGON2.memorySize},t=${ARGON2.iterations},p=${ARGON2.parallelism}$${
    base64url(salt)
  }$${base64url(hash)}`;
}

async function derive(
  password: string,
  salt: Uint8Array,
  p: { memorySize: number; iterations: number; parallelism: number },
): Promise<Uint8Array> {
  return await argon2id({
    password,
    salt,
    ...p,
    hashLength: HASH_BYTES,
    outputType: "binary",
  });
}

/**
 * Whether `password` matches `stored` (hashPassword's form). The derived
 * hash is compared in constant time; a malformed stored value never matches.
 */
export async function verifyPassword(
  password: string,
  stored: string,
): Promise<boolean> {
  const m = /^argon2id\$m=(\d+),t=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(
    stored,
  );
  // No password is empty (hash-wasm refuses one): nothing to compare.
  if (!m || password === "") return false;
  const expected = fromBase64url(m[5]);
  const got = await derive(password, fromBase64url(m[4]), {
    memorySize: Number(m[1]),
    iterations: Number(m[2]),
    parallelism: Number(m[3]),
  });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * A password hash no password matches: checked against when the account
 * does not exist, so a sign-in takes as long for an unknown name as for a
 * known one and does not tell which names exist.
 */
export const NO_ACCOUNT_HASH =
  "argon2id$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
