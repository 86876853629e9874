import { backoffDelay, LiveSocket, socketUrl } from "../lib/client/socket.ts";
import type { ServerMessage } from "../lib/protocol/api.ts";
import { assertEquals } from "./assert.ts";
import { waitUntil } from "../support/wait.ts";

Deno.test("backoffDelay doubles up to the cap, with jitter in [half, full]", () => {
  const lo = () => 0;
  const hi = () => 1;
  assertEquals(backoffDelay(0, 500, 10_000, lo), 250);
  assertEquals(backoffDelay(0, 500, 10_000, hi), 500);
  assertEquals(backoffDelay(3, 500, 10_000, hi), 4000);
  assertEquals(backoffDelay(10, 500, 10_000, hi), 10_000);
  assertEquals(backoffDelay(1000, 500, 10_000, lo), 5000);
});

Deno.test("socketUrl follows the page's scheme and host", () => {
  assertEquals(
    socketUrl({ protocol: "http:", host: "127.0.0.1:8000" }),
    "ws://127.0.0.1:8000/api/ws",
  );
  assertEquals(
    socketUrl({ protocol: "https:", host: "x.test" }),
    "wss://x.test/api/ws",
  );
});

/** A real WebSocket server that greets with `hello` and can be restarted. */
function wsServer(port = 0) {
  const sockets = new Set<WebSocket>();
  let n = 0;
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", onListen() {} },
    (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => {
        sockets.add(socket);
        socket.send(
          JSON.stringify({ seq: ++n, type: "hello", latentVersion: n }),
        );
      };
      socket.onclose = () => sockets.delete(socket);
      return response;
    },
  );
  return {
    port: server.addr.port,
    broadcast(msg: object) {
      for (const s of sockets) s.send(JSON.stringify(msg));
    },
    async close() {
      for (const s of sockets) s.close();
      await server.shutdown();
    },
  };
}

Deno.test("LiveSocket delivers messages and reconnects after the server restarts", async () => {
  let srv = wsServer();
  const port = srv.port;
  const got: ServerMessage[] = [];
  const statuses: string[] = [];
  const sock = new LiveSocket({
    url: `ws://127.0.0.1:${port}/api/ws`,
    onMessage: (m) => got.push(m),
    onStatus: (s) => statuses.push(s),
    minDelay: 20,
    maxDelay: 100,
  });
  sock.start();
  try {
    await waitUntil("hello", () => got.length === 1);
    assertEquals(got[0].type, "hello");
    srv.broadcast({ seq: 2, type: "latent_updated", version: 5 });
    await waitUntil("the broadcast", () => got.length === 2);
    assertEquals(got[1], { seq: 2, type: "latent_updated", version: 5 });

    await srv.close();
    await waitUntil("reconnecting", () => sock.status === "reconnecting");
    // Let a couple of retries fail, then bring the server back on the same port.
    await waitUntil("two failed retries", () => sock.attempt >= 2);
    srv = wsServer(port);
    await waitUntil("hello again", () => got.length === 3);
    assertEquals(got[2].type, "hello");
    assertEquals(sock.status, "open");
    assertEquals(sock.attempt, 0, "backoff resets after a successful open");
    assertEquals(statuses.filter((s) => s === "open").length, 2);
  } finally {
    sock.stop();
    await srv.close();
  }
});
