/**
 * The Hono application: security middleware first, then the API route
 * modules (routes/api/*), static files and the server-rendered page. Routes
 * only call the services in `ctx` (lib/server/context.ts); the composition
 * root (server.ts) builds those and hands them in.
 */

import { Hono } from "hono";
import type { ServerContext } from "../lib/server/context.ts";
import { DanglingLinkError, ReadOnlyFileError } from "../lib/atomic_file.ts";
import { apiState } from "../lib/server/context.ts";
import { originGuard } from "../lib/server/guards.ts";
import { authGuard } from "../lib/server/auth.ts";
import { authRoutes } from "./auth.ts";
import { usersRoutes } from "./api/users.ts";
import { agreementRoutes } from "./api/agreement.ts";
import { securityHeaders } from "../lib/server/headers.ts";
import { jsonError } from "../lib/server/http.ts";
import { HTTPException } from "hono/http-exception";
import { etag as revalidate } from "hono/etag";
import { stateRoutes } from "./api/state.ts";
import { latentRoutes } from "./api/latent.ts";
import { samplesRoutes } from "./api/samples.ts";
import { labelsRoutes } from "./api/labels.ts";
import { labelsBulkRoutes } from "./api/labels_bulk.ts";
import { probsRoutes } from "./api/probs.ts";
import { evaluationsRoutes } from "./api/evaluations.ts";
import { reviewRoutes } from "./api/review.ts";
import { thumbnailsRoutes } from "./api/thumbnails.ts";
import { trainingRoutes } from "./api/training.ts";
import { wsRoutes } from "./api/ws.ts";
import { imagesRoutes } from "./api/images.ts";
import { pwaRoutes } from "./pwa.ts";
import { testHookRoutes } from "./api/test_hooks.ts";
import { renderPage } from "./page.tsx";

/**
 * The API, mount point → route module, in matching order: the batch, export
 * and import routes come before the per-index ones, so "/export" never
 * reaches "/:i".
 */
const API_ROUTES: Array<[string, (ctx: ServerContext) => Hono]> = [
  ["/api/state", stateRoutes],
  ["/api/latent", latentRoutes],
  ["/api/samples", samplesRoutes],
  ["/api/labels", labelsBulkRoutes],
  ["/api/labels", labelsRoutes],
  ["/api/probs", probsRoutes],
  ["/api/evaluations", evaluationsRoutes],
  ["/api/review", reviewRoutes],
  ["/api/thumbnails", thumbnailsRoutes],
  ["/api/training", trainingRoutes],
  ["/api/ws", wsRoutes],
  ["/api/images", imagesRoutes],
  ["/api/users", usersRoutes],
  ["/api/agreement", agreementRoutes],
];

export function createApp(ctx: ServerContext): Hono {
  const app = new Hono();

  app.use("*", securityHeaders(ctx.addr));
  app.use("*", originGuard(ctx.addr));
  // Who asks, and whether their role may (every route: lib/server/auth.ts).
  app.use("*", authGuard(ctx.accounts));

  // Sign-in, invite and sign-out pages, and /api/auth/*.
  app.route("/", authRoutes(ctx));
  for (const [path, routes] of API_ROUTES) app.route(path, routes(ctx));
  // Service worker and offline shell at the root scope (PWA).
  app.route("/", pwaRoutes(ctx));

  if (ctx.options.testHooks) app.route("/api/_test", testHookRoutes(ctx));

  app.get("/static/*", revalidate(), async (c) => {
    const rel = c.req.path.slice("/static/".length);
    const res = await ctx.staticFiles.serve(c.req.raw, rel);
    // No path in the answer: a long or odd one is not echoed back.
    if (res === null) return jsonError(c, 404, "no such static file");
    return res;
  });

  app.get("/", (c) => {
    const html = renderPage({ state: { ...apiState(ctx), me: c.get("me") } });
    c.header("Cache-Control", "no-cache");
    return c.html(html);
  });

  app.notFound((c) =>
    jsonError(c, 404, `no route ${c.req.method} ${c.req.path}`)
  );

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      return jsonError(c, err.status, err.message);
    }
    // A label write to a read-only labels.csv: nothing was saved, say why.
    if (err instanceof ReadOnlyFileError || err instanceof DanglingLinkError) {
      return jsonError(c, 409, err.message);
    }
    ctx.log(
      `error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`,
    );
    // The message may hold file paths of this machine: the terminal has it.
    return jsonError(
      c,
      500,
      "internal error (the server's terminal says more)",
    );
  });

  return app;
}
