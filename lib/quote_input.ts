/**
 * Quoting rejected input back in error messages, cut short: a 400 must say
 * what was wrong without echoing a 400 KB value whole.
 */

/** The most characters of a rejected value an error message quotes. */
export const ECHO_LIMIT = 200;

/** `text` cut to `limit` characters, the cut marked with an ellipsis. */
export function clip(text: string, limit: number = ECHO_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** `value` as JSON (a string in quotes), cut to `limit` characters. */
export function quoteInput(value: unknown, limit: number = ECHO_LIMIT): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Not JSON-able (a BigInt, a cycle): its string form will do.
    text = String(value);
  }
  return clip(text, limit);
}
