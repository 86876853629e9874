/**
 * Offline-mode benchmark: `deno task bench:pwa`.
 *
 * Starts the real server on the full 60k training set and, in fresh
 * Chromium profiles, compares the first online load with the PWA on
 * (service worker, precache, background image download) and off (service
 * workers blocked, image chunks refused). Prints:
 * - navigation → all points drawn, PWA on vs off: what the warm-up costs the
 *   first load (target: ≤ 0.5 s);
 * - click → both images shown, 300 ms after the first draw (while the
 *   warm-up runs, PWA on) vs the same click with the PWA off;
 * - warm-up: first draw → offline-ready (worker, copies, every image cached);
 * - offline storage (navigator.storage.estimate, target ≤ 120 MB) and what
 *   each cache holds;
 * - an offline reload: navigation → all points drawn from the cache.
 *
 * Flags: --limit N (default 60000), --runs N (default 3), --json.
 */
import { parseArgs } from "node:util";
import type { BrowserContext, Page } from "playwright-core";
import { chromiumAvailable, launchProfile } from "../support/browser.ts";
import {
  isolatedPoint,
  timeClickToImages,
  waitForPoints,
} from "../support/latent_plot.ts";
import { startServer } from "../support/server_process.ts";
import { describeMs, median } from "../support/timings.ts";
import { sleep } from "../support/wait.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    limit: { type: "string", default: "60000" },
    runs: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
});
const LIMIT = Number(flags.limit);
const RUNS = Math.max(1, Number(flags.runs));
const TARGETS = { slowdownMs: 500, storageMB: 120 };

if (!chromiumAvailable()) {
  console.error(
    "bench:pwa needs /usr/bin/chromium (apt-get install -y chromium)",
  );
  Deno.exit(2);
}

type Arm = "pwa" | "plain";

async function openProfile(arm: Arm): Promise<{
  ctx: BrowserContext;
  page: Page;
  close(): Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-pwa-bench-" });
  const ctx = await launchProfile(dir, {
    viewport: { width: 1440, height: 900 },
    serviceWorkers: arm === "pwa" ? "allow" : "block",
  });
  // Both arms intercept the same requests (same overhead); only "plain"
  // refuses the image chunks, so it never downloads them.
  await ctx.route(
    "**/api/images/**",
    (route) => arm === "pwa" ? route.continue() : route.abort(),
  );
  const page = ctx.pages()[0] ?? await ctx.newPage();
  return {
    ctx,
    page,
    async close() {
      await ctx.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** ms from navigation start to the first full draw, painted. */
async function paintedAt(page: Page): Promise<number> {
  await waitForPoints(page, LIMIT, 120_000);
  const h = await page.waitForFunction(
    () => performance.getEntriesByName("latent-painted")[0]?.startTime,
    null,
    { timeout: 20_000 },
  );
  return await h.jsonValue() as number;
}

interface Storage {
  usageMB: number;
  cachesMB: number;
  indexedDBMB: number;
  /** Bytes of the response bodies per cache. */
  bodiesMB: Record<string, number>;
}

function storage(page: Page): Promise<Storage> {
  return page.evaluate(async () => {
    const mb = (n: number) => Number((n / 2 ** 20).toFixed(1));
    const bodiesMB: Record<string, number> = {};
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      let sum = 0;
      for (const req of await c.keys()) {
        const r = await c.match(req);
        sum += r ? (await r.arrayBuffer()).byteLength : 0;
      }
      bodiesMB[name.replace(/-http.*$/, "")] = mb(sum);
    }
    const est = await navigator.storage.estimate();
    // deno-lint-ignore no-explicit-any
    const d = (est as any).usageDetails ?? {};
    return {
      usageMB: mb(est.usage ?? 0),
      cachesMB: mb(d.caches ?? 0),
      indexedDBMB: mb(d.indexedDB ?? 0),
      bodiesMB,
    };
  });
}

async function run() {
  const t0 = performance.now();
  const server = await startServer({ limit: LIMIT, readyTimeoutMs: 300_000 });
  const serverReadyS = (performance.now() - t0) / 1000;
  const r = {
    points: LIMIT,
    serverReadySeconds: Number(serverReadyS.toFixed(1)),
    loadMs: { pwa: [] as number[], plain: [] as number[] },
    clickEarlyMs: { pwa: [] as number[], plain: [] as number[] },
    warmupMs: [] as number[],
    offlineReloadMs: [] as number[],
    storage: null as Storage | null,
  };
  let target = -1;
  try {
    for (let i = 0; i < RUNS; i++) {
      // Alternate the order so that neither arm always goes first.
      const arms: Arm[] = i % 2 === 0 ? ["plain", "pwa"] : ["pwa", "plain"];
      for (const arm of arms) {
        const prof = await openProfile(arm);
        try {
          const page = prof.page;
          await page.goto(`${server.url}/`);
          const painted = await paintedAt(page);
          r.loadMs[arm].push(painted);
          if (target < 0) target = await isolatedPoint(page, 3);
          await page.waitForFunction(
            (t) => performance.now() >= t + 300,
            painted,
          );
          r.clickEarlyMs[arm].push(
            await timeClickToImages(page, target >= 0 ? target : 0),
          );
          if (arm === "plain") continue;
          await page.waitForSelector('[data-offline-ready="true"]', {
            state: "attached",
            timeout: 300_000,
          });
          const ready = await page.evaluate(() => performance.now());
          r.warmupMs.push(ready - painted);
          await sleep(1000); // the page's debounced snapshot copy
          r.storage = await storage(page);
          await prof.ctx.setOffline(true);
          await page.reload();
          r.offlineReloadMs.push(await paintedAt(page));
        } finally {
          await prof.close();
        }
      }
    }
  } finally {
    await server.stop();
  }
  return r;
}

const r = await run();
if (flags.json) {
  console.log(JSON.stringify(r, null, 2));
} else {
  const fmt = describeMs;
  const slow = median(r.loadMs.pwa) - median(r.loadMs.plain);
  const s = r.storage;
  console.log(
    `PWA benchmark: ${r.points} points, Chromium headless, fresh profile per run, ` +
      `server ready in ${r.serverReadySeconds} s`,
  );
  console.log(
    `     first load → all points drawn, PWA off:  ${fmt(r.loadMs.plain)}`,
  );
  console.log(
    `     first load → all points drawn, PWA on:   ${fmt(r.loadMs.pwa)}`,
  );
  console.log(
    `${
      slow <= TARGETS.slowdownMs ? "OK  " : "SLOW"
    } warm-up cost to the first load:        ${
      slow.toFixed(0)
    } ms (median difference)  [target ≤ ${TARGETS.slowdownMs}]`,
  );
  console.log(
    `     click → images, 300 ms after the draw, PWA off: ${
      fmt(r.clickEarlyMs.plain)
    }`,
  );
  console.log(
    `     click → images, 300 ms after the draw, PWA on:  ${
      fmt(r.clickEarlyMs.pwa)
    }`,
  );
  console.log(
    `     warm-up in the background (draw → offline-ready): ${fmt(r.warmupMs)}`,
  );
  console.log(
    `     offline reload → all points drawn (from cache):   ${
      fmt(r.offlineReloadMs)
    }`,
  );
  if (s) {
    console.log(
      `${
        s.usageMB <= TARGETS.storageMB ? "OK  " : "BIG "
      } offline storage: ${s.usageMB} MB (Cache Storage ${s.cachesMB} MB, ` +
        `IndexedDB ${s.indexedDBMB} MB)  [target ≤ ${TARGETS.storageMB}]`,
    );
    console.log(
      `       response bodies per cache (MB): ${JSON.stringify(s.bodiesMB)}` +
        `; the rest is Chromium's code cache of the precached scripts`,
    );
  }
}
