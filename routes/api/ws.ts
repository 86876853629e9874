/**
 * GET /api/ws: the event stream. The first message is `hello` with the full
 * status; then every hub event, each with a sequence number.
 */

import { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { apiState, type ServerContext } from "../../lib/server/context.ts";
import { jsonError } from "../../lib/server/http.ts";
import { sessionToken } from "../../lib/server/auth.ts";

export function wsRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get(
    "/",
    upgradeWebSocket((c) => {
      // Read before the upgrade: the request is closed once it is a socket.
      const session = ctx.accounts ? sessionToken(c) : undefined;
      return {
        onOpen(_ev, ws) {
          const socket = ws.raw as WebSocket;
          ctx.hub.add(socket, () => {
            const s = apiState(ctx);
            return {
              status: s.training,
              training: s.training,
              graph: s.graph,
              history: s.history,
              latentVersion: s.latentVersion,
              config: s.config,
              notices: s.notices,
              counts: {
                count: s.count,
                labelled: s.labelled,
                countsPerClass: s.countsPerClass,
              },
            };
          }, session);
        },
        onMessage(ev, ws) {
          // Clients may ping to keep proxies and their own timers happy.
          if (typeof ev.data === "string" && ev.data.length < 1024) {
            try {
              const msg = JSON.parse(ev.data);
              if (msg?.type === "ping") {
                ws.send(JSON.stringify({ type: "pong", seq: ctx.hub.seq }));
              }
            } catch { /* ignore junk */ }
          }
        },
        onClose(_ev, ws) {
          ctx.hub.remove(ws.raw as WebSocket);
        },
        onError(_ev, ws) {
          ctx.hub.remove(ws.raw as WebSocket);
        },
      };
    }),
    // Reached only when the request was not a WebSocket upgrade.
    (c) =>
      jsonError(
        c,
        426,
        "this endpoint is a WebSocket: connect with Upgrade: websocket",
      ),
  );
  return app;
}
