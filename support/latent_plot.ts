/**
 * Driving the dashboard's latent map like a user, for the end-to-end tests,
 * the browser benchmarks and the screenshot scripts: wait for the points,
 * find a point's pixel, click it, zoom by dragging a box. The map's drawn
 * coordinates come from the plot element's `latentPoints` and Plotly's axes
 * (`_fullLayout`), as `islands/LatentPlot.tsx` exposes them.
 */
import type { Page } from "playwright-core";

/** Resolves with the number of points drawn once there are some (or exactly `count`). */
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

/**
 * Waits until the sample panel shows image `index`, or any image when
 * `index` is absent (the page selects one by itself once the map loads).
 */
export async function waitForSample(
  page: Page,
  index?: number,
  timeout = 30_000,
): Promise<void> {
  await page.waitForSelector(
    index === undefined
      ? ".sample[data-index]:not([data-index=''])"
      : `.sample[data-index="${index}"]`,
    { timeout },
  );
}

/** Page-space pixel of image `index` on the map (scrolled into the viewport). */
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
 * Up to `k` images whose points lie well inside the map with no other point
 * within `minGap` pixels, loneliest first: a click there hits exactly that
 * one. Candidates are every point on up to ~2,000 points, a spread sample of
 * 400 beyond (the check is quadratic).
 */
export function isolatedPoints(
  page: Page,
  k: number,
  minGap = 6,
): Promise<number[]> {
  return page.evaluate(([k, gap]) => {
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
    const stride = n <= 2000 ? 1 : Math.floor(n / 400);
    const scored: Array<[number, number]> = [];
    for (let i = 0; i < n; i += stride) {
      if (px[i] < 30 || px[i] > w - 30 || py[i] < 30 || py[i] > h - 30) {
        continue;
      }
      let d = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd = (px[j] - px[i]) ** 2 + (py[j] - py[i]) ** 2;
        if (dd < d) d = dd;
      }
      if (Math.sqrt(d) >= gap) scored.push([d, i]);
    }
    // Stable: of equally lonely points, the lower index first.
    scored.sort((a, b) => b[0] - a[0]);
    return scored.slice(0, k).map((s) => s[1]);
  }, [k, minGap] as const);
}

/** The loneliest clickable point (see {@linkcode isolatedPoints}), or -1. */
export async function isolatedPoint(page: Page, minGap = 6): Promise<number> {
  return (await isolatedPoints(page, 1, minGap))[0] ?? -1;
}

/**
 * Makes the map's next press a first one, never the second of a double-click.
 * Plotly counts two presses within its `doubleClickDelay` (500 ms) as a
 * double-click (a zoom reset), by the time of the plot's last press
 * (`_mouseDownTime`); forgetting that time is what a user's pause between
 * two clicks does, without the test waiting out the delay.
 */
export async function forgetLastPress(page: Page): Promise<void> {
  await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    (document.getElementById("latent-plot") as any)._mouseDownTime = 0;
  });
}

/** Clicks the map at image `index`'s pixel: one click (see {@linkcode forgetLastPress}). */
export async function clickPoint(page: Page, index: number): Promise<void> {
  const { x, y } = await pointPixel(page, index);
  await forgetLastPress(page);
  await page.mouse.move(x, y);
  await page.mouse.click(x, y);
}

/** The map's axis ranges, as Plotly holds them. */
export function plotRanges(
  page: Page,
): Promise<{ x: [number, number]; y: [number, number] }> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const fl = (document.getElementById("latent-plot") as any)._fullLayout;
    return { x: fl.xaxis.range.slice(), y: fl.yaxis.range.slice() };
  });
}

/**
 * Zooms in as a user does: drags a box on the map from `from` to `to`
 * (fractions of the plot area, from its top left), then waits until Plotly
 * has applied the new, narrower x range. Resolves with the ranges after.
 */
export async function zoomByDrag(
  page: Page,
  from: [number, number],
  to: [number, number],
): Promise<{ x: [number, number]; y: [number, number] }> {
  const before = await plotRanges(page);
  const box = (await page.locator("#latent-plot .nsewdrag").first()
    .boundingBox())!;
  await forgetLastPress(page);
  await page.mouse.move(
    box.x + box.width * from[0],
    box.y + box.height * from[1],
  );
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to[0], box.y + box.height * to[1], {
    steps: 5,
  });
  await page.mouse.up();
  await page.waitForFunction(
    (w) => {
      // deno-lint-ignore no-explicit-any
      const r = (document.getElementById("latent-plot") as any)._fullLayout
        .xaxis.range;
      return r[1] - r[0] < w;
    },
    before.x[1] - before.x[0],
  );
  return await plotRanges(page);
}

/**
 * Clicks image `index` on the map and resolves with the ms from the press to
 * the frame that paints its images (the page's `sample-drawn` mark, one
 * frame on), or NaN when no new sample is drawn within `timeout` (the same
 * point clicked twice). For the browser benchmarks.
 */
export async function timeClickToImages(
  page: Page,
  index: number,
  timeout = 20_000,
): Promise<number> {
  const { x, y } = await pointPixel(page, index);
  await page.mouse.move(x, y);
  await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const w = window as any;
    w.__benchResult = null;
    addEventListener("mousedown", (ev) => {
      const start = ev.timeStamp;
      const seen = performance.getEntriesByName("sample-drawn").length;
      const poll = () => {
        if (performance.getEntriesByName("sample-drawn").length > seen) {
          requestAnimationFrame(() =>
            w.__benchResult = performance.now() - start
          );
        } else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    }, { once: true, capture: true });
  });
  await forgetLastPress(page);
  await page.mouse.click(x, y);
  return await page.waitForFunction(
    // deno-lint-ignore no-explicit-any
    () => (window as any).__benchResult,
    null,
    { timeout },
  ).then((h) => h.jsonValue()).catch(() => NaN) as number;
}
