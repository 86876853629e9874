/**
 * Test helpers: run the real dashboard (`deno run -A main.ts`) as a
 * subprocess on an ephemeral port, talk to it over HTTP and WebSocket.
 */

const ROOT = new URL("../", import.meta.url);

export interface ServerProcess {
  port: number;
  base: string;
  wsUrl: string;
  dir: string;
  labelsPath: string;
  weightsPath: string;
  child: Deno.ChildProcess;
  /** Everything the server printed (stdout and stderr). */
  output: () => string;
  /** SIGTERM and wait (graceful). */
  stop: () => Promise<void>;
  /** SIGKILL and wait (crash). */
  kill: () => Promise<void>;
}

export interface StartOptions {
  dir?: string;
  /** Images to load (default 2000; 0 = the full data set). */
  limit?: number;
  labelsPath?: string;
  weightsPath?: string;
  testHooks?: boolean;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** Let the server bundle the client at start (default: skipped, --no-build). */
  build?: boolean;
  /**
   * Run the label graph (default off: its propagations bump the prediction
   * version at moments of their own, which tests of other things count).
   */
  graph?: boolean;
}

/** Starts main.ts and resolves once it prints its "listening on" line. */
export async function startServer(
  opts: StartOptions = {},
): Promise<ServerProcess> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "ssvae_srv_" });
  const labelsPath = opts.labelsPath ?? `${dir}/labels.csv`;
  const weightsPath = opts.weightsPath ?? `${dir}/ssvae.ckpt`;
  const args = [
    "run",
    "-A",
    "main.ts",
    "--port",
    "0",
    ...(opts.limit === 0 ? [] : ["--limit", String(opts.limit ?? 2000)]),
    "--labels",
    labelsPath,
    "--weights",
    weightsPath,
    ...(opts.build ? [] : ["--no-build"]),
    ...(opts.graph ? [] : ["--no-graph"]),
    ...(opts.testHooks ? ["--test-hooks"] : []),
    ...(opts.extraArgs ?? []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();
  let out = "";
  let resolvePort!: (p: number) => void;
  const portFound = new Promise<number>((r) => (resolvePort = r));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      out += dec.decode(chunk, { stream: true });
      const m = out.match(/listening on http:\/\/[^\s]+:(\d+)\//);
      if (m) resolvePort(Number(m[1]));
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const port = await Promise.race([
    portFound,
    child.status.then((s) => {
      throw new Error(`server exited (${s.code}) before listening:\n${out}`);
    }),
    new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new Error(`server not ready in ${timeoutMs} ms:\n${out}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  let done = false;
  const finish = async (signal: Deno.Signal) => {
    if (!done) {
      done = true;
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    await child.status;
    await pumps.catch(() => {});
  };
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/ws`,
    dir,
    labelsPath,
    weightsPath,
    child,
    output: () => out,
    stop: () => finish("SIGTERM"),
    kill: () => finish("SIGKILL"),
  };
}

export async function json(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<
  { status: number; body: Record<string, unknown>; headers: Headers }
> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined
      ? headers
      : { "content-type": "application/json", ...headers },
    body: body === undefined
      ? undefined
      : typeof body === "string"
      ? body
      : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { text };
    }
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * A raw HTTP/1.1 request over TCP: fetch() will not send a forged Host header,
 * and the DNS-rebinding test needs exactly that.
 */
export async function rawRequest(
  port: number,
  lines: string[],
  body = "",
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = [...lines, "Connection: close", "", ""].join("\r\n");
    await conn.write(new TextEncoder().encode(head + body));
    let text = "";
    const buf = new Uint8Array(65536);
    const dec = new TextDecoder();
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
    }
    const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    return { status, text };
  } finally {
    try {
      conn.close();
    } catch { /* closed by peer */ }
  }
}

export interface WsClient {
  socket: WebSocket;
  messages: Array<Record<string, unknown>>;
  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor: (
    pred: (m: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ) => Promise<Record<string, unknown>>;
  close: () => Promise<void>;
}

export function connectWs(
  url: string,
  headers?: Record<string, string>,
): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    // Deno accepts extra handshake headers (a browser would not let a page set Origin).
    const socket = headers
      ? new WebSocket(url, { headers } as unknown as string[])
      : new WebSocket(url);
    const messages: Array<Record<string, unknown>> = [];
    const waiters: Array<{
      pred: (m: Record<string, unknown>) => boolean;
      resolve: (m: Record<string, unknown>) => void;
    }> = [];
    const closed = new Promise<void>((r) =>
      socket.addEventListener("close", () => r())
    );
    socket.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data));
      messages.push(m);
      for (const w of [...waiters]) {
        if (w.pred(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    socket.onerror = (ev) =>
      reject(new Error((ev as ErrorEvent).message ?? "websocket error"));
    socket.onopen = () =>
      resolve({
        socket,
        messages,
        waitFor(pred, timeoutMs = 60_000) {
          const hit = messages.find(pred);
          if (hit) return Promise.resolve(hit);
          return new Promise((res, rej) => {
            const w = {
              pred,
              resolve: (m: Record<string, unknown>) => {
                clearTimeout(timer);
                res(m);
              },
            };
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(w), 1);
              rej(
                new Error(
                  `no matching WebSocket message in ${timeoutMs} ms; got types ${
                    messages.map((x) => x.type).join(",")
                  }`,
                ),
              );
            }, timeoutMs);
            waiters.push(w);
          });
        },
        async close() {
          if (socket.readyState < WebSocket.CLOSING) socket.close();
          await closed;
        },
      });
  });
}

export async function readLabelsCsv(
  path: string,
): Promise<Map<number, number>> {
  const text = await Deno.readTextFile(path);
  const lines = text.trim().split(/\r?\n/);
  if (lines[0] !== "Serial,label") {
    throw new Error(`bad header ${JSON.stringify(lines[0])}`);
  }
  const out = new Map<number, number>();
  for (const line of lines.slice(1)) {
    const m = line.match(/^(\d+),(\d)$/);
    if (!m) throw new Error(`bad CSV row ${JSON.stringify(line)}`);
    out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}
