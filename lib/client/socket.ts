/**
 * One WebSocket to `/api/ws` that reconnects with exponential backoff and
 * jitter. The server greets every (re)connection with a `hello` carrying the
 * full state, so nothing is lost across a reconnect: the store reconciles.
 */
import type { ServerMessage } from "../protocol/api.ts";
import { SESSION_ENDED_CODE } from "../protocol/team.ts";

export type SocketStatus = "connecting" | "open" | "reconnecting";

export interface LiveSocketOptions {
  url: string;
  onMessage(msg: ServerMessage): void;
  onStatus?(status: SocketStatus): void;
  /** First retry delay, ms. */
  minDelay?: number;
  /** Retry delay cap, ms. */
  maxDelay?: number;
  random?: () => number;
  /** The server closed the socket because the session ended. */
  onSessionEnded?(): void;
  /** For tests in Deno; defaults to the global WebSocket. */
  WebSocketImpl?: typeof WebSocket;
}

/**
 * Delay before retry number `attempt` (0-based): min·2^attempt capped at max,
 * with "equal jitter" (between half and all of it) so that several tabs do not
 * reconnect in lockstep after a server restart.
 */
export function backoffDelay(
  attempt: number,
  min = 500,
  max = 10_000,
  random: () => number = Math.random,
): number {
  const full = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(full / 2 + random() * full / 2);
}

export class LiveSocket {
  #opts: LiveSocketOptions;
  #ws: WebSocket | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #status: SocketStatus = "connecting";

  constructor(opts: LiveSocketOptions) {
    this.#opts = opts;
  }

  get status(): SocketStatus {
    return this.#status;
  }

  /** Number of failed attempts since the last successful open. */
  get attempt(): number {
    return this.#attempt;
  }

  start() {
    this.#stopped = false;
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onclose =
        ws.onerror =
        ws.onmessage =
        ws.onopen =
          null;
      ws.close();
    }
  }

  /** Reconnects now (e.g. the browser came back online), skipping the wait. */
  kick() {
    if (this.#stopped || this.#ws) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#connect();
  }

  #setStatus(s: SocketStatus) {
    if (s === this.#status) return;
    this.#status = s;
    this.#opts.onStatus?.(s);
  }

  #connect() {
    if (this.#stopped) return;
    const Impl = this.#opts.WebSocketImpl ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Impl(this.#opts.url);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      this.#setStatus("open");
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      let msg: ServerMessage;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg && typeof msg.type === "string") this.#opts.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      // The server ended this session (sign-out, revocation): the page asks
      // to sign in; retrying keeps the badge honest once that is done.
      if (ev.code === SESSION_ENDED_CODE) this.#opts.onSessionEnded?.();
      this.#scheduleRetry();
    };
    // An error is always followed by close; nothing to do here.
    ws.onerror = () => {};
  }

  #scheduleRetry() {
    if (this.#stopped) return;
    this.#setStatus("reconnecting");
    const delay = backoffDelay(
      this.#attempt++,
      this.#opts.minDelay,
      this.#opts.maxDelay,
      this.#opts.random,
    );
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect();
    }, delay);
  }
}

/** ws:// URL of the socket for the current page. */
export function socketUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/api/ws`;
}
