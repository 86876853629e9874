/**
 * Browser benchmark of the dashboard page: `deno task bench:browser`.
 *
 * Starts the real server on the full 60k training set (temp labels and
 * checkpoint, fresh model) and drives headless Chromium. Prints:
 * - navigation → all points drawn, cold (new browser context: empty HTTP
 *   cache) and warm (reload: Plotly and the bundle from cache);
 * - click on a point → original and reconstruction shown;
 * - colour-mode switch → recoloured plot;
 * - label key → the point drawn with its label, in each colour mode;
 * - label key → the whole map's predictions updated by the label graph
 *   (server propagation, both snapshots refetched, plot redrawn);
 * - JS heap after load.
 * Times are measured inside the page (event timestamps and performance marks,
 * up to the next animation frame), so Playwright's own latency is not counted.
 *
 * Flags: --limit N (default 60000), --runs N (default 3), --json, --url URL
 * (use a running server instead of starting one), --no-graph (the server
 * without its label graph). With the graph, measuring starts once it is built.
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { chromiumAvailable, launchBrowser } from "../support/browser.ts";
import {
  isolatedPoint,
  timeClickToImages,
  waitForPoints,
} from "../support/latent_plot.ts";
import { type ServerProcess, startServer } from "../support/server_process.ts";
import { describeMs, median } from "../support/timings.ts";
import { sleep } from "../support/wait.ts";

/** Plotly takes two clicks < 500 ms apart for a double-click (a zoom reset). */
const CLICK_GAP_MS = 650;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    limit: { type: "string", default: "60000" },
    runs: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
    url: { type: "string" },
    "no-graph": { type: "boolean", default: false },
  },
});
const GRAPH = !flags["no-graph"];
const LIMIT = Number(flags.limit);
const RUNS = Math.max(1, Number(flags.runs));

const TARGETS = {
  coldMs: 2000,
  warmMs: 1000,
  clickMs: 150,
  modeMs: 150,
  labelMs: 30,
};

if (!chromiumAvailable()) {
  console.error(
    "bench:browser needs /usr/bin/chromium (apt-get install -y chromium)",
  );
  Deno.exit(2);
}

/** ms from navigation start to the first full draw of the latent plot, and to its paint. */
async function loadTime(
  page: Page,
): Promise<{ drawn: number; painted: number; plotlyReady: number }> {
  await waitForPoints(page, LIMIT, 120_000);
  const h = await page.waitForFunction(
    () => {
      const at = (n: string) => performance.getEntriesByName(n)[0]?.startTime;
      const painted = at("latent-painted");
      return painted === undefined ? false : {
        drawn: at("latent-drawn"),
        painted,
        plotlyReady: at("plotly-ready") ?? NaN,
      };
    },
    null,
    { timeout: 10_000 },
  );
  return await h.jsonValue() as {
    drawn: number;
    painted: number;
    plotlyReady: number;
  };
}

/**
 * ms from pressing `key` until the plot is redrawn: "redraw" = the first
 * animation frame after the draw (the frame that paints it); "snapshot" = the first draw after a new latent
 * snapshot was loaded (the label graph's propagation), by the marks' own
 * timestamps, since a poll may wake up after both.
 */
async function timeKey(
  page: Page,
  key: string,
  until: "redraw" | "snapshot",
): Promise<number> {
  await page.evaluate((until) => {
    // deno-lint-ignore no-explicit-any
    const w = window as any;
    w.__benchResult = null;
    addEventListener("keydown", (ev) => {
      const start = ev.timeStamp;
      const seen = performance.getEntriesByName("latent-draw").length;
      const after = (name: string, t: number) =>
        performance.getEntriesByName(name).find((e) => e.startTime > t);
      const poll = () => {
        if (until === "redraw") {
          // This animation frame is the one that paints the draw: its
          // callbacks run right before the frame is rendered.
          if (performance.getEntriesByName("latent-draw").length > seen) {
            w.__benchResult = performance.now() - start;
            return;
          }
        } else {
          const loaded = after("latent-loaded", start);
          const drawn = loaded && after("latent-draw", loaded.startTime);
          if (drawn) {
            w.__benchResult = drawn.startTime - start;
            return;
          }
        }
        requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    }, { once: true, capture: true });
  }, until);
  await page.keyboard.press(key);
  return await page.waitForFunction(
    // deno-lint-ignore no-explicit-any
    () => (window as any).__benchResult,
    null,
    { timeout: 20_000 },
  ).then((h) => h.jsonValue()) as number;
}

async function run() {
  let server: ServerProcess | null = null;
  let url = flags.url;
  const t0 = performance.now();
  if (!url) {
    server = await startServer({
      limit: LIMIT,
      readyTimeoutMs: 300_000,
      graph: GRAPH,
    });
    url = server.url;
  }
  const serverReadyS = (performance.now() - t0) / 1000;
  // The graph builds after the server listens (about a minute at 60k the
  // first time): measure the page once it is ready, not while it competes.
  let graphReadyS = NaN;
  if (GRAPH) {
    for (let i = 0; i < 600; i++) {
      const s = await (await fetch(`${url}/api/state`)).json();
      if (s.graph?.status === "ready" && s.graph.revision >= 0) {
        graphReadyS = (performance.now() - t0) / 1000;
        break;
      }
      if (s.graph?.status === "error" || s.graph?.status === "off") break;
      await sleep(500);
    }
  }
  const browser = await launchBrowser();
  const results = {
    points: LIMIT,
    serverReadySeconds: Number(serverReadyS.toFixed(1)),
    coldMs: [] as number[],
    /** Of which: until Plotly (5 MB) had been parsed and run. */
    coldPlotlyMs: [] as number[],
    warmMs: [] as number[],
    clickMs: [] as number[],
    modeMs: {} as Record<string, number[]>,
    /** Label key (3, then Delete) → plot redrawn with the new colour. */
    labelMs: {} as Record<string, number[]>,
    /** Label key → the label graph's new predictions drawn (predicted mode). */
    propagateMs: [] as number[],
    graphReadySeconds: 0,
    heapMB: 0,
    latentKB: 0,
  };
  try {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
    });
    // Cold: a fresh context each time (empty HTTP cache).
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({
        viewport: { width: 1440, height: 900 },
      });
      const p = await ctx.newPage();
      await p.goto(`${url}/`);
      const t = await loadTime(p);
      results.coldMs.push(t.painted);
      results.coldPlotlyMs.push(t.plotlyReady);
      await ctx.close();
    }
    // Warm: one context, first visit fills the cache, then reloads.
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await loadTime(page);
    for (let i = 0; i < RUNS; i++) {
      await page.reload();
      results.warmMs.push((await loadTime(page)).painted);
    }
    results.latentKB = await page.evaluate(() => {
      const e = performance.getEntriesByType("resource").find((r) =>
        r.name.endsWith("/api/latent")
      ) as PerformanceResourceTiming | undefined;
      return Math.round((e?.decodedBodySize ?? 0) / 1024);
    });
    await sleep(1500); // let the auto-selected sample settle

    // Click → both images.
    const candidates: number[] = [];
    for (let k = 0; k < RUNS + 2; k++) {
      const i = await page.evaluate(
        ([k, n]) => Math.floor(((k + 1) * 7919 * 13) % n),
        [k, LIMIT],
      );
      candidates.push(i);
    }
    const iso = await isolatedPoint(page, 3);
    if (iso >= 0) candidates.unshift(iso);
    for (const idx of candidates.slice(0, RUNS + 2)) {
      const ms = await timeClickToImages(page, idx, 10_000);
      // The same point twice in a row shows no new sample: skip those.
      if (Number.isFinite(ms)) results.clickMs.push(ms);
      await sleep(CLICK_GAP_MS);
    }

    // Colour-mode switch.
    for (let r = 0; r < RUNS; r++) {
      for (const mode of ["predicted", "certainty", "labels"]) {
        await page.evaluate((mode) => {
          // deno-lint-ignore no-explicit-any
          const w = window as any;
          w.__benchResult = null;
          const btn = document.querySelector(
            `.segmented button[data-mode="${mode}"]`,
          )!;
          btn.addEventListener("click", (ev) => {
            const start = ev.timeStamp;
            const el = document.getElementById("latent-plot")!;
            const poll = () => {
              if (el.dataset.mode === mode) {
                requestAnimationFrame(() =>
                  w.__benchResult = performance.now() - start
                );
              } else requestAnimationFrame(poll);
            };
            requestAnimationFrame(poll);
          }, { once: true, capture: true });
        }, mode);
        await page.click(`.segmented button[data-mode="${mode}"]`);
        const ms = await page.waitForFunction(
          // deno-lint-ignore no-explicit-any
          () => (window as any).__benchResult,
          null,
          { timeout: 20_000 },
        ).then((h) => h.jsonValue()) as number;
        (results.modeMs[mode] ??= []).push(ms);
        await sleep(300);
      }
    }

    // Label key → the point drawn with its label, in every colour mode
    // (only the labelled layer changes).
    await page.locator("#latent-title").click();
    for (const mode of ["labels", "predicted", "certainty"]) {
      await page.click(`.segmented button[data-mode="${mode}"]`);
      await page.waitForSelector(`#latent-plot[data-mode="${mode}"]`);
      await page.locator("#latent-title").click();
      for (let r = 0; r < RUNS; r++) {
        for (const key of ["3", "Delete"]) {
          (results.labelMs[mode] ??= []).push(
            await timeKey(page, key, "redraw"),
          );
          await sleep(300);
        }
      }
    }

    // Label key → every point's predicted class redrawn from the label
    // graph's new propagation (predicted-class mode).
    if (GRAPH) {
      results.graphReadySeconds = Number(graphReadyS.toFixed(1));
      await page.click('.segmented button[data-mode="predicted"]');
      await sleep(500);
      for (let r = 0; r < RUNS; r++) {
        for (const key of ["7", "Delete"]) {
          const ms = await timeKey(page, key, "snapshot").catch(() => NaN);
          if (Number.isFinite(ms)) results.propagateMs.push(ms);
          await sleep(1500);
        }
      }
    }

    // Heap after load (after a GC, so it is what the page keeps).
    const cdp = await context.newCDPSession(page);
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = await cdp.send("Runtime.getHeapUsage");
    results.heapMB = Number((heap.usedSize / 2 ** 20).toFixed(1));
    await cdp.detach();
    await context.close();
  } finally {
    await browser.close();
    await server?.stop();
  }
  return results;
}

const r = await run();
if (flags.json) {
  console.log(JSON.stringify(r, null, 2));
} else {
  const fmt = describeMs;
  const ok = (xs: number[], target: number) =>
    xs.length > 0 && median(xs) <= target ? "OK  " : "SLOW";
  const allMode = Object.values(r.modeMs).flat();
  console.log(
    `Browser benchmark: ${r.points} points, Chromium headless (SwiftShader WebGL), ` +
      `server ready in ${r.serverReadySeconds} s, latent snapshot ${r.latentKB} kB`,
  );
  console.log(
    `${ok(r.coldMs, TARGETS.coldMs)} navigation → all points drawn, cold: ${
      fmt(r.coldMs)
    }  [target ≤ ${TARGETS.coldMs}]`,
  );
  console.log(
    `       of which Plotly loaded and parsed:   ${fmt(r.coldPlotlyMs)}`,
  );
  console.log(
    `${ok(r.warmMs, TARGETS.warmMs)} navigation → all points drawn, warm: ${
      fmt(r.warmMs)
    }  [target ≤ ${TARGETS.warmMs}]`,
  );
  console.log(
    `${ok(r.clickMs, TARGETS.clickMs)} click → both images shown:          ${
      fmt(r.clickMs)
    }  [target ≤ ${TARGETS.clickMs}]`,
  );
  for (const [mode, xs] of Object.entries(r.modeMs)) {
    console.log(
      `${ok(xs, TARGETS.modeMs)} colour mode → ${mode.padEnd(10)}          ${
        fmt(xs)
      }  [target ≤ ${TARGETS.modeMs}]`,
    );
  }
  for (const [mode, xs] of Object.entries(r.labelMs)) {
    console.log(
      `${ok(xs, TARGETS.labelMs)} label key → drawn (${mode.padEnd(9)})    ${
        fmt(xs)
      }  [target ≤ ${TARGETS.labelMs}]`,
    );
  }
  if (GRAPH) {
    console.log(
      `${ok(r.propagateMs, 1000)} label key → map's predictions updated: ${
        fmt(r.propagateMs)
      }  [target ≤ 1000; graph ready ${r.graphReadySeconds} s after start]`,
    );
  }
  console.log(`     colour-mode switch, all:            ${fmt(allMode)}`);
  console.log(`     JS heap after load (after GC):      ${r.heapMB} MB`);
}
