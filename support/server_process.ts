/**
 * The real dashboard (`deno run -A main.ts`) as a child process, for tests,
 * benchmarks and scripts alike: started on a free port with its labels and
 * checkpoint in a temp folder, ready once it prints its "listening on" line,
 * and stopped cleanly (every stream drained, the folder it made removed), so
 * a test can keep Deno's leak sanitizers on.
 *
 * Also runs the repo's other entry points (`cli/train.ts`, a `main.ts` that is
 * meant to fail) to completion, and reads the labels file the server writes.
 */

/** The repository's root folder (no trailing slash). */
export const ROOT: string = decodeURIComponent(
  new URL("../", import.meta.url).pathname,
).replace(/\/$/, "");

/** The environment every child gets: no update check, no colours to strip. */
const CHILD_ENV = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };

/** How to start the dashboard; the defaults are main.ts's own unless noted. */
export interface ServerOptions {
  /**
   * Folder of the labels file and checkpoint. Default: a new temp folder,
   * removed when the server stops (see `keepDir`).
   */
  dir?: string;
  /** Keep the temp folder made for `dir` after the server stops (a restart on it). */
  keepDir?: boolean;
  /** Default `<dir>/labels.csv`. */
  labelsPath?: string;
  /** Default `<dir>/ssvae.ckpt`. */
  weightsPath?: string;
  /** Only the first N images (`--limit`); absent or 0: the whole data set. */
  limit?: number;
  /** `--test-hooks`: fault injection, the labels-write counter, a new service worker. */
  testHooks?: boolean;
  /**
   * Run the label graph. Default off (`--no-graph`): its propagations bump
   * the prediction version at moments of their own, which tests of other
   * things count, and it costs a start-up minute on the full data set.
   */
  graph?: boolean;
  /** Bundle the client at start (main.ts's default); false passes `--no-build`. */
  build?: boolean;
  /** More flags for main.ts. */
  args?: string[];
  /** Deadline for the "listening on" line, in ms (default 120 s). */
  readyTimeoutMs?: number;
}

/** A running dashboard server. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  /** The WebSocket endpoint, `ws://127.0.0.1:<port>/api/ws`. */
  wsUrl: string;
  dir: string;
  labelsPath: string;
  weightsPath: string;
  child: Deno.ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (a graceful shutdown; SIGKILL if it hangs), then wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), then wait for the exit. */
  kill(): Promise<void>;
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A shutdown that takes longer than this is a hang: the server is killed. */
const STOP_GRACE_MS = 20_000;

/**
 * Starts main.ts on port 0 and resolves once it listens. Rejects with the
 * server's output when it exits first or stays silent past the deadline (the
 * child is then killed and waited for, so nothing is left running).
 */
export async function startServer(
  opts: ServerOptions = {},
): Promise<ServerProcess> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "ssvae_srv_" });
  const labelsPath = opts.labelsPath ?? `${dir}/labels.csv`;
  const weightsPath = opts.weightsPath ?? `${dir}/ssvae.ckpt`;
  const args = [
    "run",
    "-A",
    "main.ts",
    ...["--port", "0", "--labels", labelsPath, "--weights", weightsPath],
    ...(opts.limit ? ["--limit", String(opts.limit)] : []),
    ...(opts.build === false ? ["--no-build"] : []),
    ...(opts.graph ? [] : ["--no-graph"]),
    ...(opts.testHooks ? ["--test-hooks"] : []),
    ...(opts.args ?? []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: CHILD_ENV,
  }).spawn();

  let out = "";
  const listening = Promise.withResolvers<string>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      out += dec.decode(chunk, { stream: true });
      // The line main.ts prints, from its start: a file name in the start
      // report cannot pass for it (names are printed escaped, on one line).
      const m = out.match(
        /^SSVAE dashboard listening on (http:\/\/\S+?)\/?\s/m,
      );
      if (m) listening.resolve(m[1]);
    }
  };
  // Read both streams to their end, or the child blocks on a full pipe.
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);

  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<void> | null = null;
  const finish = (signal: Deno.Signal): Promise<void> =>
    stopping ??= (async () => {
      if (!exited) {
        try {
          child.kill(signal);
        } catch { /* exited meanwhile */ }
      }
      const grace = signal === "SIGKILL" ? undefined : setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }, STOP_GRACE_MS);
      await status;
      clearTimeout(grace);
      await pumps.catch(() => {});
      if (ownsDir && !opts.keepDir) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    })();

  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let url: string;
  try {
    url = await Promise.race([
      listening.promise,
      status.then((s) =>
        Promise.reject(new Error(`server exited (${s.code}) before listening`))
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`server not listening after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await finish("SIGKILL");
    // Only now, with both streams drained, is the output complete.
    throw new Error(`${(err as Error).message}:\n${out}`);
  } finally {
    clearTimeout(timer);
  }
  const port = Number(new URL(url).port);
  const stop = () => finish("SIGTERM");
  return {
    url,
    port,
    wsUrl: `ws://127.0.0.1:${port}/api/ws`,
    dir,
    labelsPath,
    weightsPath,
    child,
    output: () => out,
    stop,
    kill: () => finish("SIGKILL"),
    [Symbol.asyncDispose]: stop,
  };
}

/** What a finished child printed, and how it ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr. */
  output: string;
}

/**
 * Runs `deno run -A <args>` in the repo root to its end, e.g.
 * `runDeno(["cli/train.ts", "--limit", "600"])` or a `main.ts` that must fail.
 */
export async function runDeno(args: string[]): Promise<RunResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: ROOT,
    stdin: "null",
    env: CHILD_ENV,
  }).output();
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  return { code: out.code, stdout, stderr, output: stdout + stderr };
}

/**
 * Runs the dashboard (`main.ts --port 0 --no-build` with `args`) on a new
 * temp folder that must stay empty, for a start that must fail: its result,
 * and what the failed start left in the folder (the folder is removed).
 */
export async function runRefusedStart(
  args: string[],
): Promise<RunResult & { left: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_refused_" });
  try {
    const r = await runDeno([
      "main.ts",
      ...["--port", "0", "--no-build"],
      ...["--labels", `${dir}/labels.csv`, "--weights", `${dir}/ssvae.ckpt`],
      ...args,
    ]);
    return { ...r, left: [...Deno.readDirSync(dir)].map((e) => e.name) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The labels file as a map index → label, checking its format on the way. */
export async function readLabelsCsv(
  path: string,
): Promise<Map<number, number>> {
  const text = await Deno.readTextFile(path);
  const lines = text.trim().split(/\r?\n/);
  if (lines[0] !== "Serial,label") {
    throw new Error(`bad header ${JSON.stringify(lines[0])}`);
  }
  const labels = new Map<number, number>();
  for (const line of lines.slice(1)) {
    const m = line.match(/^(\d+),(\d)$/);
    if (!m) throw new Error(`bad CSV row ${JSON.stringify(line)}`);
    labels.set(Number(m[1]), Number(m[2]));
  }
  return labels;
}
