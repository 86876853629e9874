/**
 * A refresh that runs one request at a time: called while one is running,
 * it runs once more when that one ends (however often it was called), so
 * the last answer is never older than the last call.
 */
export function oneAtATime(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const call = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  return call;
}
