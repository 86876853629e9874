/**
 * Fan-out of server events to every connected browser. Each message carries a
 * server-wide sequence number, so events can be put in order against the
 * `hello` a socket starts with. Nothing is replayed: a client that lost its
 * connection gets a fresh `hello` with the whole state when it reconnects.
 */

import { SESSION_ENDED_CODE } from "../protocol/team.ts";

/** Minimal socket surface (Deno's WebSocket satisfies it). */
export interface HubSocket {
  readonly readyState: number;
  readonly bufferedAmount?: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface HubMessage {
  seq: number;
  type: string;
  [key: string]: unknown;
}

const OPEN = 1;
/** A client this far behind (bytes queued) is too slow to keep: drop it, it reconnects. */
const MAX_BUFFERED = 8 * 1024 * 1024;

export class WsHub {
  #clients = new Set<HubSocket>();
  /** The session token each socket was opened with (team servers only). */
  #sessions = new Map<HubSocket, string>();
  #seq = 0;
  /** Recent events, for debugging and for tests that attach late. */
  readonly recent: HubMessage[] = [];
  #recentMax = 200;

  get size(): number {
    return this.#clients.size;
  }

  get seq(): number {
    return this.#seq;
  }

  /**
   * Adds a socket and sends it `hello` first. The hello is built and sent in
   * the same synchronous step as the registration, so no broadcast can slip
   * between them and every later event has a higher seq than the hello.
   */
  add(
    socket: HubSocket,
    hello: () => Record<string, unknown>,
    session?: string,
  ): void {
    this.#clients.add(socket);
    if (session !== undefined) this.#sessions.set(socket, session);
    const msg = { seq: ++this.#seq, type: "hello", ...hello() };
    this.#send(socket, JSON.stringify(msg));
  }

  remove(socket: HubSocket): void {
    this.#clients.delete(socket);
    this.#sessions.delete(socket);
  }

  /** The session tokens of the open event streams (team servers). */
  sessions(): string[] {
    return [...new Set(this.#sessions.values())];
  }

  /**
   * Closes (4401) every socket whose session is no longer `valid`: a
   * sign-out or a revocation reaches the event stream too. Returns how many.
   */
  closeEnded(valid: (session: string) => boolean): number {
    let n = 0;
    for (const [socket, session] of this.#sessions) {
      if (valid(session)) continue;
      this.remove(socket);
      n++;
      try {
        socket.close(SESSION_ENDED_CODE, "session ended: sign in again");
      } catch { /* already closing */ }
    }
    return n;
  }

  broadcast(type: string, payload: Record<string, unknown> = {}): HubMessage {
    const msg: HubMessage = { seq: ++this.#seq, type, ...payload };
    this.recent.push(msg);
    if (this.recent.length > this.#recentMax) this.recent.shift();
    const text = JSON.stringify(msg);
    for (const socket of this.#clients) this.#send(socket, text);
    return msg;
  }

  #send(socket: HubSocket, text: string) {
    if (socket.readyState !== OPEN) {
      if (socket.readyState > OPEN) this.#clients.delete(socket);
      return;
    }
    if ((socket.bufferedAmount ?? 0) > MAX_BUFFERED) {
      this.#clients.delete(socket);
      try {
        socket.close(1013, "client too slow");
      } catch { /* already closing */ }
      return;
    }
    try {
      socket.send(text);
    } catch {
      this.#clients.delete(socket);
    }
  }

  closeAll(code = 1001, reason = "server shutting down"): void {
    for (const s of this.#clients) {
      try {
        s.close(code, reason);
      } catch { /* ignore */ }
    }
    this.#clients.clear();
    this.#sessions.clear();
  }
}
