/**
 * Failed sign-ins counted per account name and per client address, in a
 * sliding window: after `perName` failures for a name, or `perAddress` from
 * an address, sign-ins of that name or from that address are refused (429)
 * until the oldest failure leaves the window. A success does not count. The
 * address gets more tries than a name: a whole office may sit behind one
 * address. Hand-written rather than hono-rate-limiter: that limits every
 * request under one key, while guessing is stopped by counting failures
 * only, under two keys at once (one address trying many names, many
 * addresses trying one name).
 */

import { TEAM_LIMITS } from "../protocol/team.ts";

/** Failures of one key within the window, oldest first. */
class FailureWindow {
  readonly #failures = new Map<string, number[]>();
  constructor(readonly max: number, readonly windowMs: number) {}

  /** ms until `key` may try again; 0 = now. */
  wait(key: string, now: number): number {
    const times = this.#live(key, now);
    return times.length >= this.max ? times[0] + this.windowMs - now : 0;
  }

  fail(key: string, now: number): void {
    const times = this.#live(key, now);
    times.push(now);
    this.#failures.set(key, times);
    // Bounded memory under a flood of names: drop keys whose window passed.
    if (this.#failures.size > 10_000) {
      for (const k of [...this.#failures.keys()]) this.#live(k, now);
    }
  }

  #live(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) =>
      t > now - this.windowMs
    );
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }
}

export class LoginLimiter {
  readonly #names: FailureWindow;
  readonly #addresses: FailureWindow;

  constructor(
    limits: { perName: number; perAddress: number; windowMs: number } = {
      perName: TEAM_LIMITS.loginFailures,
      perAddress: TEAM_LIMITS.loginFailuresPerAddress,
      windowMs: TEAM_LIMITS.loginWindowMs,
    },
  ) {
    this.#names = new FailureWindow(limits.perName, limits.windowMs);
    this.#addresses = new FailureWindow(limits.perAddress, limits.windowMs);
  }

  /** Seconds until `name` may sign in from `address` again; 0 = now. */
  retryAfter(name: string, address: string, now = Date.now()): number {
    const ms = Math.max(
      this.#names.wait(name.toLowerCase(), now),
      this.#addresses.wait(address, now),
    );
    return Math.ceil(ms / 1000);
  }

  /** Counts one failed sign-in of `name` from `address`. */
  fail(name: string, address: string, now = Date.now()): void {
    this.#names.fail(name.toLowerCase(), now);
    this.#addresses.fail(address, now);
  }
}
