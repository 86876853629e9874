/**
 * Failed sign-ins counted per account name and per client address, in a
 * sliding window: after TEAM_LIMITS.loginFailures failures either key is
 * refused (429) until its oldest failure leaves the window. A success does
 * not count. Hand-written rather than hono-rate-limiter: that limits every
 * request by one key, while guessing is stopped by counting failures only,
 * under two keys at once (one address trying many names, many addresses
 * trying one name).
 */

import { TEAM_LIMITS } from "../protocol/team.ts";

export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #max: number;
  readonly #windowMs: number;

  constructor(
    max: number = TEAM_LIMITS.loginFailures,
    windowMs: number = TEAM_LIMITS.loginWindowMs,
  ) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Seconds until `keys` may try again; 0 = now. */
  retryAfter(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const times = this.#live(key, now);
      if (times.length >= this.#max) {
        wait = Math.max(wait, times[0] + this.#windowMs - now);
      }
    }
    return Math.ceil(wait / 1000);
  }

  /** Counts one failure against every key. */
  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const times = this.#live(key, now);
      times.push(now);
      this.#failures.set(key, times);
    }
    // Bounded memory under a flood of names: drop keys whose window passed.
    if (this.#failures.size > 10_000) {
      for (const key of [...this.#failures.keys()]) {
        if (this.#live(key, now).length === 0) this.#failures.delete(key);
      }
    }
  }

  #live(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) =>
      t > now - this.#windowMs
    );
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }
}
