/**
 * Shared by the end-to-end tests and bench/browser_bench.ts: start the real
 * dashboard server (main.ts) on a free port with temp labels and checkpoint,
 * launch the system Chromium through playwright-core, and drive the latent
 * plot like a user (click a point at its pixel position).
 */
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname)
  .replace(/\/$/, "");

export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export interface DashboardServer {
  url: string;
  dir: string;
  labelsPath: string;
  weightsPath: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  limit?: number;
  testHooks?: boolean;
  /** Extra flags for main.ts. */
  args?: string[];
  /** Seconds to wait for the "listening on" line. */
  timeout?: number;
  /** Run the label graph (default off, see tests/server_helpers.ts). */
  graph?: boolean;
}

/** Starts `deno run -A main.ts --port 0 ...` and waits until it listens. */
export async function startDashboard(
  opts: ServerOptions = {},
): Promise<DashboardServer> {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-e2e-" });
  const labelsPath = `${dir}/labels.csv`;
  const weightsPath = `${dir}/ssvae.ckpt`;
  const args = [
    "run",
    "-A",
    "main.ts",
    "--port",
    "0",
    "--labels",
    labelsPath,
    "--weights",
    weightsPath,
  ];
  if (opts.limit !== undefined) args.push("--limit", String(opts.limit));
  if (opts.testHooks) args.push("--test-hooks");
  if (!opts.graph) args.push("--no-graph");
  args.push(...(opts.args ?? []));
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();
  let out = "";
  let resolveUrl: (u: string) => void;
  const urlPromise = new Promise<string>((r) => resolveUrl = r);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      out += dec.decode(chunk, { stream: true });
      const m = out.match(/listening on (http:\/\/\S+?)\/?\s/);
      if (m) resolveUrl(m[1]);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timeoutMs = (opts.timeout ?? 120) * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    urlPromise,
    child.status.then((s) => {
      throw new Error(`server exited (${s.code}) before listening:\n${out}`);
    }),
    new Promise<never>((_, rej) =>
      timer = setTimeout(
        () =>
          rej(new Error(`server not listening after ${timeoutMs} ms:\n${out}`)),
        timeoutMs,
      )
    ),
  ]).finally(() => clearTimeout(timer));
  let stopped = false;
  return {
    url,
    dir,
    labelsPath,
    weightsPath,
    output: () => out,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const t = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await child.status;
      clearTimeout(t);
      await pumps.catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Waits until the latent plot has drawn `count` points (optionally a version). */
export async function waitForPoints(
  page: Page,
  count?: number,
  timeout = 60_000,
): Promise<number> {
  const handle = await page.waitForFunction(
    (want) => {
      const el = document.getElementById("latent-plot");
      const n = Number(el?.dataset.points ?? 0);
      return n > 0 && (want === null || n === want) ? n : false;
    },
    count ?? null,
    { timeout, polling: 50 },
  );
  return await handle.jsonValue() as number;
}

/** Page-space pixel of sample `index` in the latent plot. */
export function pointPixel(
  page: Page,
  index: number,
): Promise<{ x: number; y: number }> {
  return page.evaluate((i) => {
    // deno-lint-ignore no-explicit-any
    const el = document.getElementById("latent-plot") as any;
    const fl = el._fullLayout;
    const trace = el.latentPoints;
    // Mouse events only land inside the viewport: bring the point into it.
    const px = fl.xaxis._offset + fl.xaxis.l2p(trace.x[i]);
    const py = fl.yaxis._offset + fl.yaxis.l2p(trace.y[i]);
    const r0 = el.getBoundingClientRect();
    if (r0.top + py < 80 || r0.top + py > innerHeight - 20) {
      scrollBy(0, r0.top + py - innerHeight / 2);
    }
    const r = el.getBoundingClientRect();
    return { x: r.left + px, y: r.top + py };
  }, index);
}

/**
 * An index whose point is well inside the plot and has no other point within
 * `minGap` pixels, so a click there selects exactly it.
 */
export function isolatedPoint(page: Page, minGap = 6): Promise<number> {
  return page.evaluate((gap) => {
    // deno-lint-ignore no-explicit-any
    const el = document.getElementById("latent-plot") as any;
    const fl = el._fullLayout;
    const { x, y } = el.latentPoints;
    const n = el.latentPoints.count;
    const px = new Float32Array(n);
    const py = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      px[i] = fl.xaxis.l2p(x[i]);
      py[i] = fl.yaxis.l2p(y[i]);
    }
    const w = fl.xaxis._length;
    const h = fl.yaxis._length;
    let best = -1;
    let bestD = 0;
    const step = Math.max(1, Math.floor(n / 400));
    for (let i = 0; i < n; i += step) {
      if (px[i] < 30 || px[i] > w - 30 || py[i] < 30 || py[i] > h - 30) {
        continue;
      }
      let d = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dx = px[j] - px[i];
        const dy = py[j] - py[i];
        const dd = dx * dx + dy * dy;
        if (dd < d) d = dd;
      }
      if (d > bestD) {
        bestD = d;
        best = i;
      }
    }
    return Math.sqrt(bestD) >= gap ? best : -1;
  }, minGap);
}

/** Clicks the plot at sample `index`'s pixel. */
export async function clickPoint(page: Page, index: number) {
  const { x, y } = await pointPixel(page, index);
  await page.mouse.move(x, y);
  await page.mouse.click(x, y);
}

/** Plotly treats clicks < 500 ms apart as a double-click (autorange). */
export const CLICK_GAP_MS = 650;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
