/**
 * SSVAE active-learning dashboard: `deno task start [--port N] [--labels PATH] ...`
 * Flags and SSVAE_* environment variables: lib/server/options.ts.
 */

import { printable } from "./lib/quote_input.ts";
import { OptionsError, parseOptions, USAGE } from "./lib/server/options.ts";
import { startServer } from "./server.ts";

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(Deno.args);
  } catch (e) {
    if (e instanceof OptionsError) {
      console.error(`error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  let running;
  try {
    running = await startServer(options);
  } catch (e) {
    const err = e as Error;
    const text = err.name && err.name !== "Error"
      ? `${err.name}: ${err.message}`
      : err.message;
    const hint = /CheckpointError/.test(text)
      ? "\n(move the file away to start from a fresh model, or pass --weights PATH)"
      : /LabelError/.test(text)
      ? "\n(fix or move the labels file, or pass --labels PATH)"
      : "";
    // One line, whatever file names the message holds (lib/quote_input.ts).
    console.error(
      `error: the dashboard could not start: ${printable(text)}${hint}`,
    );
    return 1;
  }
  const stop = async (signal: string) => {
    console.log(`${signal}: shutting down`);
    const timer = setTimeout(() => Deno.exit(0), 3000);
    await running.shutdown().catch(() => {});
    clearTimeout(timer);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await running.server.finished;
  return 0;
}

if (import.meta.main) {
  const code = await main();
  if (code !== 0) Deno.exit(code);
}
