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

/**
 * Control characters that would rewrite a terminal line or a log: C0 and C1
 * controls, DEL, and the Unicode line and bidirectional-override marks.
 */
const CONTROL =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A file name as it may be printed: every control character escaped
 * (`\n`, `\t`, `\x1b`, `\u202e`), so a name with a newline cannot forge a
 * line of the start report and an escape sequence cannot restyle the terminal.
 * Backslashes are doubled only when something was escaped, so an ordinary
 * name prints as it is.
 */
export function printable(name: string): string {
  if (name.search(CONTROL) < 0) return name;
  return name.replace(/\\/g, "\\\\").replace(CONTROL, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
