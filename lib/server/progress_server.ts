/**
 * While the first start decodes an image folder (a minute for 60k images),
 * the dashboard cannot serve yet; this small server takes its address
 * meanwhile and shows a page with the progress bar. The page polls
 * `/api/progress`; once the dashboard has taken over (a 404 or a failure
 * there), it reloads into the dashboard.
 */

import { Hono } from "hono";
import type { DecodeProgress } from "../images/prepare.ts";
import { progressLine } from "../images/progress_bar.ts";
import { type ListenAddress, originGuard } from "./guards.ts";
import { securityHeaders } from "./headers.ts";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Decoding images… — SSVAE dashboard</title>
<style>
body{font:15px system-ui,sans-serif;color:#101828;background:#f5f7fa;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;border-radius:12px;box-shadow:0 1px 3px #1018281a;padding:28px 32px;width:min(560px,90vw)}
h1{font-size:18px;margin:0 0 14px}progress{width:100%;height:14px}
p{color:#475467;margin:10px 0 0;font-variant-numeric:tabular-nums}
</style></head><body><main>
<h1>Decoding the images for the first time</h1>
<progress id="bar" max="1" value="0"></progress>
<p id="text">starting…</p>
<p>The dashboard opens here by itself when they are ready; later starts read them from the cache.</p>
</main><script src="/progress.js"></script></body></html>`;

/** The page's script: a file of its own, as the app's CSP allows no inline script. */
const SCRIPT =
  `const fmt = (s) => s >= 60 ? Math.floor(s / 60) + " min " + String(Math.round(s % 60)).padStart(2, "0") + " s" : Math.round(s) + " s";
async function poll() {
  try {
    const r = await fetch("/api/progress", { cache: "no-store" });
    if (!r.ok) return location.reload();
    const p = await r.json();
    document.getElementById("bar").max = Math.max(1, p.total);
    document.getElementById("bar").value = p.done;
    document.getElementById("text").textContent = p.done.toLocaleString("en-US") + " of " +
      p.total.toLocaleString("en-US") + " images" + (p.failed ? " · " + p.failed + " unreadable" : "") +
      " · " + fmt(p.seconds) + (p.etaSeconds != null && p.done < p.total ? " · about " + fmt(p.etaSeconds) + " left" : "");
  } catch { setTimeout(() => location.reload(), 1000); return; }
  setTimeout(poll, 500);
}
poll();
`;

/** The temporary server of the progress page. */
export class ProgressServer {
  #progress: DecodeProgress = {
    done: 0,
    total: 0,
    failed: 0,
    seconds: 0,
    etaSeconds: null,
  };
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** The port it listens on (the OS's pick for port 0). */
  readonly port: number;

  constructor(host: string, port: number, log: (line: string) => void) {
    // The same guards and headers as the dashboard: this page answers on
    // the dashboard's address, so a rebinding page must not read it either.
    const addr: ListenAddress = { host, port };
    const app = new Hono();
    app.use("*", securityHeaders(addr));
    app.use("*", originGuard(addr));
    app.use("*", async (c, next) => {
      await next();
      c.header("Cache-Control", "no-store");
    });
    app.get(
      "/api/progress",
      (c) => c.json({ ...this.#progress, line: progressLine(this.#progress) }),
    );
    app.get("/progress.js", (c) => {
      c.header("Content-Type", "text/javascript; charset=utf-8");
      return c.body(SCRIPT);
    });
    app.get("/", (c) => c.html(PAGE));
    app.all("*", (c) => c.text("decoding images, back soon\n", 503));
    this.#server = Deno.serve({
      hostname: host,
      port,
      onListen: () => {},
    }, app.fetch);
    addr.port = this.#server.addr.port;
    this.port = this.#server.addr.port;
    const shown = host.includes(":") ? `[${host}]` : host;
    log(
      `decoding images: progress page at http://${shown}:${this.port}/ (the dashboard follows there)`,
    );
  }

  /** The latest progress, for the page. */
  update(p: DecodeProgress): void {
    this.#progress = p;
  }

  /** Stops listening so the dashboard can take the port. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
