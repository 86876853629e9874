/**
 * The tests' one assertion style, after @std/assert's names (JSR cannot be
 * reached here), on node:assert: a failed equality shows node's diff.
 */
import nodeAssert from "node:assert/strict";

/** Asserts `cond` is truthy. */
export function assert(cond: unknown, message?: string): asserts cond {
  nodeAssert.ok(cond, message ?? "assertion failed");
}

/** Runs `check` and puts `message` before the message of what it throws. */
function withMessage(check: () => void, message?: string): void {
  try {
    check();
  } catch (err) {
    if (message && err instanceof Error) {
      err.message = `${message}\n${err.message}`;
    }
    throw err;
  }
}

/** Deep, strict equality (typed arrays element by element, Maps and Sets by content). */
export function assertEquals<T>(
  actual: T,
  expected: T,
  message?: string,
): void {
  withMessage(() => nodeAssert.deepStrictEqual(actual, expected), message);
}

/** The opposite of {@linkcode assertEquals}. */
export function assertNotEquals<T>(
  actual: T,
  expected: T,
  message?: string,
): void {
  withMessage(() => nodeAssert.notDeepStrictEqual(actual, expected), message);
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

/** Asserts `actual` matches `re`. */
export function assertMatch(
  actual: string,
  re: RegExp,
  message?: string,
): void {
  nodeAssert.ok(
    re.test(actual),
    `${message ? message + ": " : ""}${
      JSON.stringify(actual.slice(0, 300))
    } does not match ${re}`,
  );
}

/** An error class, for {@linkcode assertThrows} and {@linkcode assertRejects}. */
type ErrorClass<E extends Error> = new (...args: never[]) => E;

/**
 * Checks a caught value: an instance of `errorClass` (default Error) whose
 * message includes or matches `msg`.
 */
function expectError<E extends Error>(
  err: unknown,
  errorClass: ErrorClass<E> = Error as unknown as ErrorClass<E>,
  msg?: string | RegExp,
): E {
  nodeAssert.ok(
    err instanceof errorClass,
    `expected ${errorClass.name}, got ${err}`,
  );
  const text = (err as Error).message;
  if (typeof msg === "string") {
    nodeAssert.ok(text.includes(msg), `"${text}" lacks "${msg}"`);
  } else if (msg) {
    nodeAssert.ok(msg.test(text), `"${text}" does not match ${msg}`);
  }
  return err as E;
}

/** The failure of a call expected to throw that returned. */
function notThrown(errorClass?: ErrorClass<Error>): never {
  throw new nodeAssert.AssertionError({
    message: `expected ${errorClass?.name ?? "an error"} to be thrown`,
  });
}

/**
 * Asserts that `fn` throws an instance of `errorClass` (default Error) whose
 * message includes `msg` (a string) or matches it (a RegExp); returns the error.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<E>,
  msg?: string | RegExp,
): E {
  try {
    fn();
  } catch (err) {
    return expectError(err, errorClass, msg);
  }
  notThrown(errorClass);
}

/** {@linkcode assertThrows} for a promise-returning `fn`: asserts it rejects. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  errorClass?: ErrorClass<E>,
  msg?: string | RegExp,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return expectError(err, errorClass, msg);
  }
  notThrown(errorClass);
}
