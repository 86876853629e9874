/** Small assertion helpers on node:assert (no @std/assert: JSR is unreachable). */
import nodeAssert from "node:assert/strict";

/** Asserts `cond` is truthy. */
export function assert(cond: unknown, message?: string): asserts cond {
  nodeAssert.ok(cond, message ?? "assertion failed");
}

/** Deep, strict equality (typed arrays compared element by element). */
export function assertEquals<T>(
  actual: T,
  expected: T,
  message?: string,
): void {
  nodeAssert.deepStrictEqual(actual, expected, message ?? "values differ");
}

/** |actual - expected| <= tolerance. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  message?: string,
): void {
  nodeAssert.ok(
    Math.abs(actual - expected) <= tolerance,
    message ?? `expected ${actual} to be within ${tolerance} of ${expected}`,
  );
}

/** Asserts that `fn` rejects with an instance of `errorClass` whose message includes `includes`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  errorClass: new (...args: never[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    nodeAssert.ok(
      err instanceof errorClass,
      `expected ${errorClass.name}, got ${err}`,
    );
    if (includes) {
      nodeAssert.ok(
        (err as Error).message.includes(includes),
        `"${(err as Error).message}" lacks "${includes}"`,
      );
    }
    return err as Error;
  }
  throw new nodeAssert.AssertionError({
    message: `expected ${errorClass.name} to be thrown`,
  });
}

/** Asserts that `fn` throws an instance of `errorClass` whose message includes `includes`. */
export function assertThrows(
  fn: () => unknown,
  errorClass: new (...args: never[]) => Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (err) {
    nodeAssert.ok(
      err instanceof errorClass,
      `expected ${errorClass.name}, got ${err}`,
    );
    if (includes) {
      nodeAssert.ok(
        err.message.includes(includes),
        `"${err.message}" lacks "${includes}"`,
      );
    }
    return err;
  }
  throw new nodeAssert.AssertionError({
    message: `expected ${errorClass.name} to be thrown`,
  });
}
