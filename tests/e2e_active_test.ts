/**
 * End-to-end: the active-learning tools in Chromium against the real server
 * (2000 images, temp labels and checkpoint, test hooks for the write counter):
 * the evaluation plots after a 1-epoch run, the suggestion queue (N selects
 * the top suggestion, Space the next), a box selection labelling several
 * points in one write, and undo/redo restoring the CSV.
 */
import type { Page } from "playwright-core";
import { assert, assertEquals } from "./assert.ts";
import {
  canvasGrey,
  chromiumAvailable,
  openDashboard,
  waitForToast,
} from "../support/browser.ts";
import {
  clickPoint,
  isolatedPoint,
  waitForPoints,
} from "../support/latent_plot.ts";
import { waitUntil } from "../support/wait.ts";
import { rankAll, topUnlabelled } from "../lib/client/suggestions.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";

const LIMIT = 2000;
const HAVE_CHROMIUM = chromiumAvailable();
if (!HAVE_CHROMIUM) {
  console.warn("e2e_active_test: /usr/bin/chromium is missing: skipped");
}

function selectedIndex(page: Page): Promise<string> {
  return page.evaluate(() =>
    document.getElementById("latent-plot")!.dataset.selected ?? ""
  );
}

/** Drags a box selection over `box` (page pixels); resolves with its panel. */
async function selectBox(
  page: Page,
  box: { x0: number; y0: number; x1: number; y1: number },
) {
  await page.mouse.move(box.x0, box.y0);
  await page.mouse.down();
  await page.mouse.move(box.x1, box.y1, { steps: 6 });
  await page.mouse.up();
  const panel = page.locator("#selection-panel");
  await panel.waitFor({ timeout: 5000 });
  return panel;
}

function topList(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    (document.getElementById("suggestion-list")?.dataset.top ?? "")
      .split(",").filter((s) => s !== "").map(Number)
  );
}

/**
 * A square of `2·half` pixels around some point of the plot holding between
 * `min` and `max` points, with no point near its edge: its page-space corners.
 */
function findBox(
  page: Page,
  half: number,
  min: number,
  max: number,
  /** Also hold at least one image with an index below this (labelled). */
  labelledBelow = 0,
) {
  return page.evaluate(([half, min, max, labelledBelow]) => {
    // deno-lint-ignore no-explicit-any
    const el = document.getElementById("latent-plot") as any;
    const fl = el._fullLayout;
    const { x, y } = el.latentPoints;
    const n = el.latentPoints.count;
    const px = new Float32Array(n), py = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      px[i] = fl.xaxis.l2p(x[i]);
      py[i] = fl.yaxis.l2p(y[i]);
    }
    const w = fl.xaxis._length, h = fl.yaxis._length;
    for (let c = 0; c < n; c += 3) {
      const cx = px[c], cy = py[c];
      if (cx < 40 || cx > w - 40 || cy < 40 || cy > h - 60) continue;
      // No point within 2 px of the edge: pixel rounding of the drag then
      // cannot move a point in or out (the trained map is dense).
      let k = 0, edge = 0, old = 0;
      for (let i = 0; i < n; i++) {
        const dx = Math.abs(px[i] - cx), dy = Math.abs(py[i] - cy);
        if (dx < half && dy < half) {
          k++;
          if (i < labelledBelow) old++;
        }
        if (
          dx < half + 2 && dy < half + 2 &&
          (dx > half - 2 || dy > half - 2)
        ) edge++;
      }
      const mixed = labelledBelow === 0 || (old > 0 && old < k);
      if (k >= min && k <= max && edge === 0 && mixed) {
        const r = el.getBoundingClientRect();
        const ox = r.left + fl.xaxis._offset, oy = r.top + fl.yaxis._offset;
        return {
          x0: ox + cx - half,
          y0: oy + cy - half,
          x1: ox + cx + half,
          y1: oy + cy + half,
          inside: k,
        };
      }
    }
    return null;
  }, [half, min, max, labelledBelow] as const);
}

Deno.test({
  name: "active learning tools end to end (real server, Chromium)",
  ignore: !HAVE_CHROMIUM,
  async fn(t) {
    await using dash = await openDashboard({ limit: LIMIT, testHooks: true });
    const { server: srv, page, pageErrors } = dash;
    const get = async (path: string) => {
      const res = await fetch(`${srv.url}${path}`);
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return res;
    };
    const writes = async () =>
      (await (await get("/api/state")).json()).labelsWrites as number;
    const csv = () => Deno.readTextFile(srv.labelsPath);
    /**
     * Until the map shows the server's latest snapshot: a refetch landing
     * after a box is drawn redraws the plot, and Plotly's deselect then
     * clears the selection (a label key would label one image instead).
     */
    const settled = async () => {
      const v = (await (await get("/api/state")).json()).latentVersion;
      await page.waitForFunction(
        (v) =>
          (document.getElementById("latent-meta")?.textContent ?? "")
            .endsWith(`· v${v}`),
        v,
      );
    };

    // The steps are one user's session, in order: the queue follows the
    // run's predictions, undo walks back the labels of the steps before.

    await t.step("the page opens with the new cards", async () => {
      await page.goto(`${srv.url}/`);
      assertEquals(await waitForPoints(page), LIMIT);
      await page.waitForSelector('[data-connection="open"]');
      await page.waitForSelector("#evaluation-placeholder");
      await page.waitForFunction(() =>
        (document.getElementById("suggestion-list")?.dataset.top ?? "") !==
          ""
      );
    });

    await t.step(
      "a 1-epoch run: the accuracy plot and confusion matrix appear",
      async () => {
        // Some true labels first (one batch), so the model learns a little.
        const idx = Array.from({ length: 200 }, (_, i) => i);
        const { labels } = await loadTrainImages({ limit: 200 });
        const res = await fetch(`${srv.url}/api/labels`, {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            changes: idx.map((i) => ({ index: i, label: labels[i] })),
          }),
        });
        assertEquals(res.status, 200);
        await res.body?.cancel();
        await page.fill("#epochs", "1");
        await page.click("#start-training");
        await page.waitForSelector('#accuracy-plot[data-runs="1"]', {
          timeout: 60_000,
        });
        await page.waitForSelector('#confusion-plot[data-run="1"]');
        assertEquals(
          await page.locator("#evaluation-placeholder").count(),
          0,
        );
        const plots = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const acc = document.getElementById("accuracy-plot") as any;
          // deno-lint-ignore no-explicit-any
          const conf = document.getElementById("confusion-plot") as any;
          return {
            x: Array.from(acc.data[0].x as number[]),
            y: Array.from(acc.data[0].y as number[]),
            type: conf.data[0].type as string,
            rows: conf.data[0].z.length as number,
          };
        });
        const { runs } = await (await get("/api/evaluations")).json();
        assertEquals(plots.x, [200]);
        assertEquals(plots.y, [
          Math.round(runs[0].accuracy.overall * 10000) / 100,
        ]);
        assertEquals([plots.type, plots.rows], ["heatmap", 10]);
        assert(
          (await page.textContent("#evaluation-meta"))!.includes(
            "after run 1 · 200 labels",
          ),
        );
        await page.waitForSelector("#start-training:not([disabled])", {
          timeout: 60_000,
        });
      },
    );

    /** The image labelled from the queue (undone at the end). */
    let queued = -1;
    await t.step(
      "the queue: N selects the top suggestion, Space the next",
      async () => {
        // The queue follows the new predictions (version 2).
        await page.waitForFunction(
          () =>
            /· v2$/.test(
              document.getElementById("queue-meta")?.textContent ?? "",
            ),
          null,
          { timeout: 20_000 },
        );
        const probs = decodeProbs(
          await (await get("/api/probs")).arrayBuffer(),
        );
        assertEquals(probs.version, 2);
        const ul = new Int8Array(LIMIT).fill(-1);
        for (let i = 0; i < 200; i++) ul[i] = 0;
        const want = topUnlabelled(rankAll(probs, "auto"), ul, 3);
        assertEquals((await topList(page)).slice(0, 3), [...want]);
        // Rings on the plot: up to 20 (one of two close suggestions gets
        // none), the first on the top suggestion.
        const ring = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const el = document.getElementById("latent-plot") as any;
          const s = el._fullLayout.shapes.filter((
            s: { type: string; line: { color: string } },
          ) => s.type === "circle" && s.line.color !== "#ffffff");
          return {
            n: s.length >= 5 && s.length <= 20,
            x: s[0].xanchor,
            y: s[0].yanchor,
          };
        });
        const at = await page.evaluate((i) => {
          // deno-lint-ignore no-explicit-any
          const el = document.getElementById("latent-plot") as any;
          return { x: el.latentPoints.x[i], y: el.latentPoints.y[i] };
        }, want[0]);
        assertEquals(ring, { n: true, ...at });

        // Select something else, then N → the top suggestion.
        const other = await isolatedPoint(page);
        assert(other >= 0 && !want.includes(other));
        await clickPoint(page, other);
        await page.waitForSelector(`.sample[data-index="${other}"]`);
        await page.locator("#latent-title").click();
        await page.keyboard.press("n");
        await page.waitForSelector(`.sample[data-index="${want[0]}"]`);
        // Label it: the queue moves on, and N goes to the new top.
        await page.keyboard.press("5");
        queued = want[0];
        await waitUntil(
          "CSV row",
          async () => (await csv()).includes(`\n${want[0]},5\n`),
        );
        await page.waitForFunction(
          (w) =>
            document.getElementById("suggestion-list")?.dataset.top
              ?.split(",")[0] === String(w),
          want[1],
        );
        await page.keyboard.press("N");
        await page.waitForSelector(`.sample[data-index="${want[1]}"]`);
        await page.keyboard.press(" ");
        await page.waitForSelector(`.sample[data-index="${want[2]}"]`);
        assertEquals(await selectedIndex(page), String(want[2]));
      },
    );

    let beforeBatch = "";
    let afterBatch = "";
    await t.step(
      "a box selection labels several points in one write",
      async () => {
        await page.click('[data-drag="select"]');
        await page.waitForSelector('#latent-plot[data-dragmode="select"]');
        await page.locator("#latent-plot").scrollIntoViewIfNeeded();
        let box = null;
        for (const half of [14, 10, 20, 7, 28]) {
          box ??= await findBox(page, half, 4, 40);
        }
        assert(box, "found a box holding 4-40 points");
        beforeBatch = await csv();
        const w0 = await writes();
        const panel = await selectBox(page, box);
        const count = Number(await panel.getAttribute("data-count"));
        assert(
          Math.abs(count - box.inside) <= 2,
          `${count} selected, ${box.inside} in the box`,
        );
        await page.waitForSelector("#selection-thumbs[data-loaded]");
        const indices = await page.$$eval(
          "#selection-thumbs .thumb",
          (els) => els.map((e) => Number((e as HTMLElement).dataset.index)),
        );
        assertEquals(indices.length, count);
        // Thumbnails are the original images.
        const drawn = await canvasGrey(page, "#selection-thumbs canvas");
        const img = new Uint8Array(
          await (await get(`/api/thumbnails?indices=${indices[0]}`))
            .arrayBuffer(),
        );
        assertEquals(drawn, Array.from(img));
        // Leave the first one out, then one key labels the rest.
        const out = indices[0];
        await page.click(`#selection-thumbs .thumb[data-index="${out}"]`);
        await page.waitForSelector(
          `#selection-panel[data-included="${count - 1}"]`,
        );
        const outBefore = beforeBatch.match(
          new RegExp(`\\n${out},(\\d)\\n`),
        )?.[1];
        await page.keyboard.press("7");
        await waitUntil("batch in the CSV", async () => {
          const text = await csv();
          return indices.slice(1).every((i) => text.includes(`\n${i},7\n`));
        });
        afterBatch = await csv();
        assertEquals(
          afterBatch.match(new RegExp(`\\n${out},(\\d)\\n`))?.[1],
          outBefore,
          "the excluded image kept its label",
        );
        // The store counts a write once its rename is done, a moment after
        // the file shows the batch: wait for the count, then check it is one.
        await waitUntil("the write counted", async () => (await writes()) > w0);
        assertEquals(await writes(), w0 + 1, "one labels.csv write");
        await page.waitForSelector("#selection-panel", { state: "detached" });
        await waitForToast(page, `Labelled ${count - 1} images as 7`);
      },
    );

    await t.step("undo and redo restore the CSV", async () => {
      await page.keyboard.press("Control+z");
      await waitUntil("undone", async () => (await csv()) === beforeBatch);
      await page.keyboard.press("Control+Shift+z");
      await waitUntil("redone", async () => (await csv()) === afterBatch);
      await page.keyboard.press("Control+z");
      await waitUntil("undone", async () => (await csv()) === beforeBatch);
      await page.keyboard.press("Control+y");
      await waitUntil("redone", async () => (await csv()) === afterBatch);
      // Undo the batch, then the single label "5" from the queue step.
      await page.keyboard.press("Control+z");
      await waitUntil("undone", async () => (await csv()) === beforeBatch);
      await page.click("#undo");
      await waitUntil(
        "label undone",
        async () => !(await csv()).includes(`\n${queued},`),
      );
      assertEquals(
        (await csv()).trim().split("\n").length,
        201,
        "the 200 API labels remain",
      );
      assertEquals(pageErrors, []);
    });

    await t.step(
      "a selection over labelled images is drawn, asks 'N new, M changed' first, and undoes",
      async () => {
        await page.waitForSelector('#latent-plot[data-dragmode="select"]');
        await page.locator("#latent-plot").scrollIntoViewIfNeeded();
        await settled();
        let box = null;
        for (const half of [14, 20, 28, 40]) {
          box ??= await findBox(page, half, 4, 60, 200);
        }
        assert(box, "a box holding labelled and unlabelled images");
        const before = await csv();
        const w0 = await writes();
        const panel = await selectBox(page, box);
        const count = Number(await panel.getAttribute("data-count"));
        // Drawn on the map: the selected points in the selection colour.
        await page.waitForSelector(
          `#latent-plot[data-highlighted="${count}"]`,
        );
        const red = await page.evaluate(() => {
          const c = document.querySelector(
            "#latent-plot canvas.point-layer-top",
          ) as HTMLCanvasElement;
          const gl = c.getContext("webgl")!;
          const px = new Uint8Array(c.width * c.height * 4);
          gl.readPixels(
            0,
            0,
            c.width,
            c.height,
            gl.RGBA,
            gl.UNSIGNED_BYTE,
            px,
          );
          let n = 0;
          for (let i = 0; i < px.length; i += 4) {
            if (px[i] > 200 && px[i + 1] < 40 && px[i + 2] < 60) n++;
          }
          return n;
        });
        assert(red > 0, "selected points painted in the selection colour");
        assert(
          (await page.textContent("#selection-banner"))!.includes(
            "now label all of them",
          ),
        );
        const indices = await page.$$eval(
          "#selection-thumbs .thumb",
          (els) => els.map((e) => Number((e as HTMLElement).dataset.index)),
        );
        assertEquals(indices.length, count);
        const changed = indices.filter((i) => i < 200).length;
        assert(changed > 0 && changed < count);
        // What the box caught, by predicted class, as the server predicts
        // (the red points hide it): the panel and the dialog both say.
        const snap = decodeLatent(
          await (await fetch(`${srv.url}/api/latent`)).arrayBuffer(),
        );
        const want = new Map<number, number>();
        for (const i of indices) {
          want.set(snap.predClass[i], (want.get(snap.predClass[i]) ?? 0) + 1);
        }
        const chips = await page.$$eval(
          "#selection-predicted .pred-chip",
          (els) =>
            els.map((e) => [
              Number((e as HTMLElement).dataset.class),
              Number(
                e.textContent!.trim().split(" ").at(-1)!.replace(/,/g, ""),
              ),
            ]),
        );
        const top = [...want].sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, 5);
        assertEquals(chips, top);
        // The key asks first; Esc cancels and nothing is written.
        await page.keyboard.press("4");
        const dialog = page.locator("#confirm-dialog[open]");
        await dialog.waitFor();
        const text = (await dialog.textContent())!;
        assert(
          text.includes(`${count - changed} new, ${changed} changed`),
          text,
        );
        // It names the hand-made labels it would overwrite, by class.
        const old = new Map<number, number>();
        for (const i of indices.filter((i) => i < 200)) {
          old.set(snap.userLabel[i], (old.get(snap.userLabel[i]) ?? 0) + 1);
        }
        const [firstClass, firstCount] = [...old].sort((a, b) =>
          b[1] - a[1] || a[0] - b[0]
        )[0];
        assert(
          text.includes(`overwrites ${changed} label`) &&
            text.includes(`${firstCount} labelled ${firstClass}`),
          text,
        );
        assert(text.includes(`Predicted: ${top[0][1]} × ${top[0][0]}`), text);
        await page.keyboard.press("Escape");
        await dialog.waitFor({ state: "detached" });
        assertEquals(await csv(), before);
        assertEquals(await writes(), w0);
        // Esc then the key at once (a fast typist): the key is not lost
        // between the dialog closing and its close event.
        await page.keyboard.press("4");
        await dialog.waitFor();
        await page.keyboard.press("Escape");
        await page.keyboard.press("4");
        await dialog.waitFor();
        assertEquals(await writes(), w0);
        // Enter confirms: one write, and the result says so.
        await page.keyboard.press("Enter");
        await waitUntil("batch in the CSV", async () => {
          const t = await csv();
          return indices.every((i) => t.includes(`\n${i},4\n`));
        });
        // Counted once the rename is done, a moment after the file shows it.
        await waitUntil("the write counted", async () => (await writes()) > w0);
        assertEquals(await writes(), w0 + 1, "one labels.csv write");
        await waitForToast(page, `${count - changed} new, ${changed} changed`);
        await page.keyboard.press("Control+z");
        await waitUntil("undone", async () => (await csv()) === before);
      },
    );
  },
});
