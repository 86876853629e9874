/**
 * Waiting on a condition: the one polling loop of the tests, benches and
 * scripts. A test waits on what it expects to happen (a file's content, an
 * HTTP answer, a counter), with a deadline that only turns a hang into a
 * failure: how long something takes is the benchmarks' business.
 */

/** Options of {@linkcode waitUntil}. */
export interface WaitOptions {
  /** Deadline in ms after which the wait fails (default 30 s). */
  timeoutMs?: number;
  /** Pause between two checks, in ms (default 50). */
  intervalMs?: number;
}

/**
 * Resolves with the first truthy value `check` returns, checking again after
 * each pause; rejects with `what` in the message once the deadline passes
 * (after one last check, so a slow machine is not failed by the clock alone).
 */
export async function waitUntil<T>(
  what: string,
  check: () =>
    | T
    | false
    | null
    | undefined
    | Promise<T | false | null | undefined>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const expired = performance.now() >= deadline;
    const value = await check();
    if (value) return value;
    if (expired) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * A fixed pause. For benchmarks and scripts that pace a user's actions or let
 * a measurement run; a test waits on an event instead ({@linkcode waitUntil},
 * a WebSocket message, a DOM state).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
