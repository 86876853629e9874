/**
 * What makes the dashboard an installable, offline-capable app, served from
 * the root scope:
 * - GET /sw.js: the service worker (static/build/sw.js, built by
 *   lib/build/client_bundle.ts), `no-cache` so every update check sees a
 *   new build at once;
 * - GET /app-shell: the page rendered without data, precached by the service
 *   worker and shown for `/` when the server cannot be reached (the page then
 *   reads its data from the runtime caches).
 * The manifest and icons are plain static files (static/manifest.webmanifest,
 * static/icons/).
 */

import { Hono } from "hono";
import { etag as revalidate } from "hono/etag";
import type { ServerContext } from "../lib/server/context.ts";
import { jsonError, readJsonBody } from "../lib/server/http.ts";
import { HTTPException } from "hono/http-exception";
import { renderPage } from "./page.tsx";

export function pwaRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  /** Test hook: a different service-worker build (same assets) = an update. */
  let testSalt = "";

  app.get("/sw.js", revalidate(), async (c) => {
    const res = await ctx.staticFiles.serve(c.req.raw, "build/sw.js");
    if (res === null) {
      return jsonError(c, 404, "no service worker built (static/build/sw.js)");
    }
    res.headers.set("Cache-Control", "no-cache");
    res.headers.set("Service-Worker-Allowed", "/");
    if (testSalt === "") return res;
    const body = new Uint8Array(await res.arrayBuffer());
    const tail = new TextEncoder().encode(`\n// test build ${testSalt}\n`);
    const out = new Uint8Array(body.length + tail.length);
    out.set(body);
    out.set(tail, body.length);
    // Other bytes than the file's: another ETag, so no 304 for the old one.
    res.headers.set("ETag", `"salt-${testSalt}"`);
    res.headers.set("Content-Length", String(out.length));
    return new Response(out, { status: 200, headers: res.headers });
  });

  app.get("/app-shell", (c) => {
    c.header("Cache-Control", "no-cache");
    return c.html(renderPage({ state: null }));
  });

  if (ctx.options.testHooks) {
    app.post("/api/_test/sw-version", async (c) => {
      const body = (await readJsonBody(c))!;
      if (typeof body.salt !== "string" || !/^[\w-]{0,40}$/.test(body.salt)) {
        throw new HTTPException(400, { message: "salt must be a short word" });
      }
      testSalt = body.salt;
      return c.json({ ok: true });
    });
  }

  return app;
}
