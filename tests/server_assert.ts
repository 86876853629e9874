/** Small assertion helpers (no @std/assert here: JSR is unreachable), on node:assert. */
import nodeAssert from "node:assert/strict";

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

/** Deep, strict equality (typed arrays compared element by element). */
export function assertEquals<T>(actual: T, expected: T, msg = ""): void {
  if (msg) nodeAssert.deepStrictEqual(actual, expected, msg);
  else nodeAssert.deepStrictEqual(actual, expected);
}

export function assertMatch(actual: string, re: RegExp, msg = ""): void {
  if (!re.test(actual)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}${
        JSON.stringify(actual.slice(0, 300))
      } does not match ${re}`,
    );
  }
}
