/**
 * An error as one line for a message to the main thread: the error's class
 * name is kept when it says something ("TrainingError: loss is NaN"), since
 * the reader sees only the text.
 */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
  }
  return String(e);
}
