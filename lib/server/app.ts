/**
 * The Hono application: security middleware first, then the API route
 * modules (routes/api/*), static files and the server-rendered page.
 */

import { Hono } from "hono";
import type { ServerContext } from "./context.ts";
import { ReadOnlyFileError } from "../atomic_file.ts";
import { apiState } from "./context.ts";
import {
  HttpError,
  jsonError,
  originGuard,
  readJsonBody,
  securityHeaders,
} from "./security.ts";
import { stateRoutes } from "../../routes/api/state.ts";
import { latentRoutes } from "../../routes/api/latent.ts";
import { samplesRoutes } from "../../routes/api/samples.ts";
import { labelsRoutes } from "../../routes/api/labels.ts";
import { labelsBulkRoutes } from "../../routes/api/labels_bulk.ts";
import { probsRoutes } from "../../routes/api/probs.ts";
import { evaluationsRoutes } from "../../routes/api/evaluations.ts";
import { thumbnailsRoutes } from "../../routes/api/thumbnails.ts";
import { trainingRoutes } from "../../routes/api/training.ts";
import { wsRoutes } from "../../routes/api/ws.ts";
import { imagesRoutes } from "../../routes/api/images.ts";
import { pwaRoutes } from "../../routes/pwa.ts";

/** Renders the full HTML document for `/` (routes/page.tsx's renderPage). */
export type PageRenderer = (props: {
  state?: ReturnType<typeof apiState> | null;
}) => string;

export function createApp(
  ctx: ServerContext,
  renderPage: PageRenderer,
): Hono {
  const app = new Hono();

  app.use("*", securityHeaders(ctx.addr));
  app.use("*", originGuard(ctx.addr));

  app.route("/api/state", stateRoutes(ctx));
  app.route("/api/latent", latentRoutes(ctx));
  app.route("/api/samples", samplesRoutes(ctx));
  // Batch, export and import first: "/export" must not reach "/:i".
  app.route("/api/labels", labelsBulkRoutes(ctx));
  app.route("/api/labels", labelsRoutes(ctx));
  app.route("/api/probs", probsRoutes(ctx));
  app.route("/api/evaluations", evaluationsRoutes(ctx));
  app.route("/api/thumbnails", thumbnailsRoutes(ctx));
  app.route("/api/training", trainingRoutes(ctx));
  app.route("/api/ws", wsRoutes(ctx));
  app.route("/api/images", imagesRoutes(ctx));
  // Service worker and offline shell at the root scope (PWA).
  app.route("/", pwaRoutes(ctx, renderPage));

  if (ctx.options.testHooks) {
    // Fault injection for the worker-death and training-error tests only.
    app.post("/api/_test/fault", async (c) => {
      const body = (await readJsonBody(c))!;
      if (
        body.fault !== "crash" && body.fault !== "epoch_error" &&
        body.fault !== "nan"
      ) {
        throw new HttpError(
          400,
          'fault must be "nan", "epoch_error" or "crash"',
        );
      }
      ctx.training.injectFault(body.fault);
      return c.json({ ok: true }, 202);
    });
  }

  app.get("/static/*", async (c) => {
    const rel = c.req.path.slice("/static/".length);
    const res = await ctx.staticFiles.serve(c.req.raw, rel);
    if (res === null) return jsonError(c, 404, `no static file ${c.req.path}`);
    return res;
  });

  app.get("/", (c) => {
    const html = renderPage({ state: apiState(ctx) });
    c.header("Cache-Control", "no-cache");
    return c.html(html);
  });

  app.notFound((c) =>
    jsonError(c, 404, `no route ${c.req.method} ${c.req.path}`)
  );

  app.onError((err, c) => {
    if (err instanceof HttpError) return jsonError(c, err.status, err.message);
    // A label write to a read-only labels.csv: nothing was saved, say why.
    if (err instanceof ReadOnlyFileError) {
      return jsonError(c, 409, err.message);
    }
    ctx.log(
      `error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`,
    );
    return jsonError(c, 500, `internal error: ${err.message}`);
  });

  return app;
}
