/**
 * A client of the dashboard's HTTP API and WebSocket, for tests and
 * benchmarks: JSON requests, raw HTTP/1.1 (for headers fetch() will not send)
 * and a socket that keeps every message and waits on the ones expected.
 */

/** A JSON answer: the status, the parsed body (or `{ text }`), the headers. */
export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/**
 * `method path` with `body` as JSON (a string is sent as it is); reads the
 * whole answer, so no response body is left open.
 */
export async function json(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
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
 * fetch() for an answer that must succeed: the parsed JSON of a 2xx, else an
 * error naming the path, the status and the server's message.
 */
// deno-lint-ignore no-explicit-any
export async function fetchJson<T = any>(
  url: string,
  init?: RequestInit,
): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** `init` of a JSON request with `body` (for {@linkcode fetchJson}). */
export function jsonBody(method: string, body: unknown): RequestInit {
  return {
    method,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
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

/** One server → client message (`{ seq, type, ... }`). */
export type WsMessage = Record<string, unknown>;

/** An open socket to `/api/ws` that records every message. */
export interface WsClient {
  socket: WebSocket;
  /** Every message so far, in order. */
  messages: WsMessage[];
  /**
   * Resolves with the first message, already received or still to come,
   * matching `pred`; rejects after `timeoutMs` (default 60 s) as a deadline.
   */
  waitFor(
    pred: (m: WsMessage) => boolean,
    timeoutMs?: number,
  ): Promise<WsMessage>;
  /** The seq of the last message so far (0 before any). */
  lastSeq(): number;
  /** Closes the socket and waits until it is closed. */
  close(): Promise<void>;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Opens a WebSocket (with extra handshake `headers`, which Deno allows and a
 * browser would not, e.g. a forged Origin) and resolves once it is open.
 */
export function connectWs(
  url: string,
  headers?: Record<string, string>,
): Promise<WsClient> {
  const socket = headers
    ? new WebSocket(url, { headers } as unknown as string[])
    : new WebSocket(url);
  const messages: WsMessage[] = [];
  const waiters = new Set<{
    pred: (m: WsMessage) => boolean;
    resolve: (m: WsMessage) => void;
    reject: (e: Error) => void;
  }>();
  const closed = new Promise<void>((r) =>
    socket.addEventListener("close", () => {
      // Nothing more can come: a wait still open fails now, its timer with it.
      for (const w of waiters) w.reject(new Error("the WebSocket closed"));
      waiters.clear();
      r();
    })
  );
  socket.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data)) as WsMessage;
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  };
  const close = async () => {
    if (socket.readyState < WebSocket.CLOSING) socket.close();
    await closed;
  };
  const client: WsClient = {
    socket,
    messages,
    waitFor(pred, timeoutMs = 60_000) {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (m: WsMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `no matching WebSocket message in ${timeoutMs} ms; got types ${
                messages.map((x) => x.type).join(",")
              }`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
      });
    },
    lastSeq: () => (messages.at(-1)?.seq as number | undefined) ?? 0,
    close,
    [Symbol.asyncDispose]: close,
  };
  return new Promise((resolve, reject) => {
    socket.onerror = (ev) =>
      reject(new Error((ev as ErrorEvent).message ?? "websocket error"));
    socket.onopen = () => resolve(client);
  });
}
