/**
 * End-to-end: the real server (main.ts, 2000 images, temp labels and
 * checkpoint) and the system Chromium, driven like a user: clicks on plot
 * points at their pixels, key presses, buttons, a second tab.
 */
import type { Page } from "playwright-core";
import { assert, assertEquals } from "./assert.ts";
import { fetchJson, jsonBody } from "../support/api_client.ts";
import {
  canvasGrey,
  chromiumAvailable,
  openDashboard,
  waitForText,
  waitForToast,
} from "../support/browser.ts";
import {
  clickPoint,
  isolatedPoint,
  pointPixel,
  waitForPoints,
  waitForSample,
  zoomByDrag,
} from "../support/latent_plot.ts";
import { waitUntil } from "../support/wait.ts";

const LIMIT = 2000;
const HAVE_CHROMIUM = chromiumAvailable();
if (!HAVE_CHROMIUM) {
  console.warn(
    "e2e_page_test: /usr/bin/chromium is missing: skipped (apt-get install -y chromium)",
  );
}

/** Red as the stylesheet's --err. */
const RED = "rgb(217, 45, 32)";

async function csvRows(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trim().split("\n").slice(1).filter((l) => l !== "");
}

/** Non-background pixels in the plot's WebGL canvases (and their checksum). */
function glInk(page: Page): Promise<number> {
  return glPixels(page).then((p) => p.ink);
}

function glPixels(page: Page): Promise<{ ink: number; sum: number }> {
  return page.evaluate(() => {
    let ink = 0;
    let sum = 0;
    for (const c of document.querySelectorAll("#latent-plot canvas")) {
      const canvas = c as HTMLCanvasElement;
      const gl = (canvas.getContext("webgl2") ?? canvas.getContext("webgl")) as
        | WebGLRenderingContext
        | null;
      if (!gl || canvas.width === 0) continue;
      const px = new Uint8Array(canvas.width * canvas.height * 4);
      gl.readPixels(
        0,
        0,
        canvas.width,
        canvas.height,
        gl.RGBA,
        gl.UNSIGNED_BYTE,
        px,
      );
      for (let i = 3; i < px.length; i += 4) {
        if (px[i] !== 0) {
          ink++;
          sum = (sum + px[i - 3] * 3 + px[i - 2] * 5 + px[i - 1] * 7) % 1e9;
        }
      }
    }
    return { ink, sum };
  });
}

function plotInfo(page: Page) {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const el = document.getElementById("latent-plot") as any;
    return {
      n: el.latentPoints.count as number,
      labelled: Number(el.dataset.labelled),
      mode: el.dataset.mode as string,
      version: Number(el.dataset.version),
      xrange: el._fullLayout.xaxis.range.slice() as number[],
      yrange: el._fullLayout.yaxis.range.slice() as number[],
    };
  });
}

Deno.test({
  name: "dashboard page end to end (real server, Chromium)",
  ignore: !HAVE_CHROMIUM,
  async fn(t) {
    await using dash = await openDashboard({ limit: LIMIT, testHooks: true });
    const { server: srv, context, page, pageErrors } = dash;
    const api = (path: string, init?: RequestInit) =>
      fetchJson(`${srv.url}${path}`, init);
    /** labels.csv rewrites so far (the server's test-hooks counter). */
    const writes = async () => (await api("/api/state")).labelsWrites;
    let index = -1;

    // The steps are one user's session, in order: each starts on the page
    // (and the labels, model and selection) as the one before left it.
    await t.step("the page opens and draws every point", async () => {
      await page.goto(`${srv.url}/`);
      assertEquals(
        await page.textContent("h1"),
        "SSVAE Active Learning Dashboard",
      );
      assertEquals(await waitForPoints(page), LIMIT);
      const info = await plotInfo(page);
      assertEquals(info.n, LIMIT);
      assertEquals(info.mode, "labels");
      const ink = await glInk(page);
      assert(ink > 500, `WebGL canvas has drawn points (${ink} px)`);
      await page.waitForSelector('[data-connection="open"]');
    });

    await t.step(
      "clicking a point shows its images and prediction",
      async () => {
        index = await isolatedPoint(page);
        assert(index >= 0, "found a point with no close neighbour");
        // The page selects a first image by itself: let that land before
        // the click, so it cannot overtake the click's selection.
        await waitForSample(page);
        // Hovering shows index, prediction with % and the user label.
        const { x: hx, y: hy } = await pointPixel(page, index);
        await page.mouse.move(hx, hy);
        const tip = page.locator("#latent-tip");
        await tip.waitFor({ timeout: 5000 });
        const tipText = (await tip.textContent())!;
        assert(
          new RegExp(`^#${index}Predicted \\d \\(\\d+%\\)User label –$`).test(
            tipText,
          ),
          tipText,
        );
        await clickPoint(page, index);
        await page.waitForSelector(`.sample[data-index="${index}"]`, {
          timeout: 5000,
        });
        const s = await api(`/api/samples/${index}`);
        const text = await page.textContent("#prediction-text");
        assertEquals(
          text,
          `Predicted: ${s.predClass} (${
            Math.round(s.certainty * 100)
          }% confidence) | User label: –`,
        );
        assertEquals(
          await page.textContent("#sample-title"),
          `Sample #${index}`,
        );
        // The original image is drawn: its canvas matches the server's bytes.
        const drawn = await canvasGrey(page, "#sample-original");
        const want = Array.from(atob(s.original), (ch) => ch.charCodeAt(0));
        assertEquals(drawn, want);
        // The red X sits on the clicked point.
        const x = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const el = document.getElementById("latent-plot") as any;
          const s = el._fullLayout.shapes.at(-1);
          return { x: s.xanchor, y: s.yanchor, color: s.line.color };
        });
        const at = await page.evaluate((i) => {
          // deno-lint-ignore no-explicit-any
          const el = document.getElementById("latent-plot") as any;
          const p = el.latentPoints;
          return { x: p.x[i], y: p.y[i] };
        }, index);
        assertEquals({ x: x.x, y: x.y }, at);
        assertEquals(x.color, "#101828");
      },
    );

    await t.step(
      "keys 3 and Delete write and remove the CSV row; a second tab follows",
      async () => {
        const page2 = await context.newPage();
        await page2.goto(`${srv.url}/`);
        await waitForPoints(page2);
        await page2.waitForSelector('[data-connection="open"]');

        await page.keyboard.press("3");
        await waitUntil(
          "CSV row",
          async () => (await csvRows(srv.labelsPath)).includes(`${index},3`),
        );
        await waitForToast(page, `#${index}`);
        assert(
          (await page.textContent("#prediction-text"))!.endsWith(
            "| User label: 3",
          ),
        );
        // The other tab follows (how fast is for bench:browser).
        await waitForText(page2, '[data-stat="labelled"]', "1");
        // The maps recolour as the label event arrives: waited for, not raced.
        for (const p of [page, page2]) {
          await waitUntil(
            "the map's labelled count",
            async () => (await plotInfo(p)).labelled === 1,
          );
        }

        // Typing into a text field must not label. Proven by the next
        // label: its write is the only one since, and "7" never lands.
        const w0 = await writes();
        await page.fill("#epochs", "12");
        await page.keyboard.press("7");
        await page.fill("#epochs", "1");
        await page.locator("#latent-title").click();
        await page.keyboard.press("5");
        await waitUntil(
          "CSV row relabelled 5",
          async () => (await csvRows(srv.labelsPath)).includes(`${index},5`),
        );
        await page.waitForFunction(
          () =>
            document.getElementById("prediction-text")?.textContent
              ?.endsWith("| User label: 5"),
        );
        // Counted once the rename is done, a moment after the file shows it.
        await waitUntil("the write counted", async () => (await writes()) > w0);
        assertEquals(await writes(), w0 + 1, "one write: the 5, not the 7");
        assertEquals(await csvRows(srv.labelsPath), [`${index},5`]);

        await page.keyboard.press("Delete");
        await waitUntil(
          "CSV row removed",
          async () => (await csvRows(srv.labelsPath)).length === 0,
        );
        await waitForText(page2, '[data-stat="labelled"]', "0");
        // The file is renamed before the page has the answer: waited for.
        await page.waitForFunction(
          () =>
            document.getElementById("prediction-text")?.textContent
              ?.endsWith("| User label: –"),
        );
        // The sample panel's history: the three changes, newest first, each
        // a key press by this browser.
        await page.waitForSelector('#label-history[data-count="3"]');
        await page.click("#label-history summary");
        const items = await page.$$eval(
          "#label-history li",
          (els) =>
            els.map((e) => [
              (e as HTMLElement).dataset.source,
              e.querySelector("b")!.textContent,
              e.textContent,
            ]),
        );
        assertEquals(items.map((i) => [i[0], i[1]]), [
          ["key", "5 → none"],
          ["key", "3 → 5"],
          ["key", "none → 3"],
        ]);
        assert(/· web-[0-9a-f]{8} ·/.test(items[0][2]!), items[0][2]!);
        await page2.close();
      },
    );

    await t.step("colour modes switch and keep the zoom", async () => {
      const full = await plotInfo(page);
      // Zoom in by dragging a box, as a user would.
      await zoomByDrag(page, [0.2, 0.2], [0.6, 0.7]);
      const zoomed = await plotInfo(page);
      assert(
        zoomed.xrange[1] - zoomed.xrange[0] < full.xrange[1] - full.xrange[0],
        "the drag zoomed in",
      );
      const sums = new Set<number>();
      for (const mode of ["predicted", "certainty", "labels"]) {
        await page.click(`.segmented button[data-mode="${mode}"]`);
        await page.waitForSelector(`#latent-plot[data-mode="${mode}"]`);
        const info = await plotInfo(page);
        assertEquals(info.n, LIMIT);
        // Each mode paints other colours.
        sums.add((await glPixels(page)).sum);
        assertEquals(
          sums.size,
          ["predicted", "certainty", "labels"].indexOf(mode) + 1,
        );
        assertEquals(info.xrange, zoomed.xrange, `zoom kept in ${mode}`);
        assertEquals(info.yrange, zoomed.yrange);
      }
      assert(await glInk(page) > 100, "still drawn");
    });

    await t.step(
      "a 1-epoch run: controls lock, loss curves grow, latent version changes",
      async () => {
        const before = await plotInfo(page);
        await page.fill("#epochs", "1");
        await page.click("#start-training");
        // Locked while training.
        assert(await page.isDisabled("#start-training"));
        assert(await page.isDisabled("#recon-weight"));
        assert(await page.isDisabled("#learning-rate"));
        await page.waitForFunction(
          () =>
            Number(document.getElementById("loss-plot")?.dataset.epochs) >= 1,
          null,
          { timeout: 60_000 },
        );
        const y = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (document.getElementById("loss-plot") as any).data.find((d: any) =>
            d.name === "train total"
          ).y
        );
        assertEquals(y.length, 1);
        assert(Number.isFinite(y[0]));
        await page.waitForSelector("#start-training:not([disabled])", {
          timeout: 60_000,
        });
        assert(!(await page.isDisabled("#recon-weight")));
        await page.waitForFunction(
          (v) =>
            Number(document.getElementById("latent-plot")?.dataset.version) >
              v,
          before.version,
          { timeout: 60_000 },
        );
        assertEquals((await plotInfo(page)).n, LIMIT);
        assert(
          (await page.textContent("#progress-text"))!.includes(
            "Trained 1 epoch ",
          ),
        );
        assert(
          (await page.textContent("#training-log"))!.includes(
            "Training complete",
          ),
        );
        assertEquals(await page.locator("#loss-placeholder").count(), 0);
      },
    );

    await t.step("Stop ends a long run early", async () => {
      const epochs = await page.evaluate(() =>
        Number(document.getElementById("loss-plot")?.dataset.epochs)
      );
      await page.fill("#epochs", "200");
      await page.click("#start-training");
      // The bar moves inside an epoch: batches, then an estimate of the
      // time left; the loss plot shows the running epoch's point.
      const text = await page.waitForFunction(
        () => {
          const t = document.getElementById("progress-text")?.textContent ??
            "";
          return /^Epoch \d+\/200 · batch \d+\/\d+ · \d+:\d\d left$/.test(t)
            ? t
            : false;
        },
        null,
        { timeout: 60_000 },
      ).then((h) => h.jsonValue());
      assert(text, "progress within the epoch");
      await page.waitForFunction(() =>
        // deno-lint-ignore no-explicit-any
        ((document.getElementById("loss-plot") as any)?.data ?? []).some((
          d: { name: string },
        ) => d.name === "train (this epoch)")
      );
      await page.waitForFunction(
        (n) => Number(document.getElementById("loss-plot")?.dataset.epochs) > n,
        epochs,
        { timeout: 60_000 },
      );
      assert(!(await page.isDisabled("#stop-training")));
      await page.click("#stop-training");
      await page.waitForSelector("#start-training:not([disabled])", {
        timeout: 60_000,
      });
      assert(await page.isDisabled("#stop-training"));
      assert(
        (await page.textContent("#training-log"))!.includes(
          "Training stopped",
        ),
      );
      const done = await page.evaluate(() =>
        Number(document.getElementById("loss-plot")?.dataset.epochs)
      );
      assert(
        done - epochs < 200,
        `stopped early after ${done - epochs} epochs`,
      );
      // The top bar says the run was stopped, not only how much is trained.
      const bar = (await page.textContent("#progress-text"))!;
      assert(
        new RegExp(
          `^Trained \\d+ epochs? · last run stopped after ${
            done - epochs
          } of 200`,
        ).test(bar),
        bar,
      );
    });

    await t.step("a rejected start (400) shows as red text", async () => {
      await page.fill("#epochs", "500");
      await page.click("#start-training");
      const line = page.locator("#training-log .log-error").first();
      await line.waitFor({ timeout: 5000 });
      const text = (await line.textContent())!;
      assert(/epochs 500.*1-200/.test(text), text);
      assertEquals(
        await line.evaluate((el) => getComputedStyle(el).color),
        RED,
      );
      assert(!(await page.isDisabled("#start-training")));
    });

    await t.step(
      "a training error from the server shows as red text",
      async () => {
        await api(
          "/api/_test/fault",
          jsonBody("POST", { fault: "epoch_error" }),
        );
        await page.fill("#epochs", "1");
        await page.click("#start-training");
        const banner = page.locator("#training-error");
        await banner.waitFor({ timeout: 60_000 });
        assert((await banner.textContent())!.includes("injected fault"));
        assertEquals(
          await banner.evaluate((el) => getComputedStyle(el).color),
          RED,
        );
        const last = page.locator("#training-log .log-error").first();
        assert((await last.textContent())!.includes("injected fault"));
        await page.waitForSelector("#start-training:not([disabled])");
      },
    );

    await t.step(
      "a reload rebuilds the loss curves from the server and keeps the epochs and colour mode",
      async () => {
        await page.click('.segmented button[data-mode="predicted"]');
        await page.waitForSelector('#latent-plot[data-mode="predicted"]');
        await page.reload();
        await waitForPoints(page);
        await page.waitForFunction(
          () =>
            Number(document.getElementById("loss-plot")?.dataset.epochs) >= 1,
        );
        // The last step's 1 epoch and the predicted-class colours.
        assertEquals(await page.inputValue("#epochs"), "1");
        await page.waitForSelector('#latent-plot[data-mode="predicted"]');
        await page.click('.segmented button[data-mode="labels"]');
        await page.waitForSelector('#latent-plot[data-mode="labels"]');
        assertEquals(pageErrors, []);
      },
    );

    await t.step(
      "server gone: the label waits on this device; a reload comes from the cache",
      async () => {
        await page.waitForSelector(
          ".sample[data-index]:not([data-index=''])",
        );
        // The service worker and the offline copies are in place.
        await page.waitForSelector('[data-offline-ready="true"]', {
          state: "attached",
          timeout: 30_000,
        });
        await srv.stop();
        await page.waitForSelector('[data-connection="reconnecting"]', {
          state: "attached",
          timeout: 10_000,
        });
        // One badge says so: the connection badge steps aside for the
        // sync badge's "Offline" (both showed at once).
        await page.waitForSelector('#sync-badge[data-state="offline"]');
        assert(await page.isHidden(".conn"), "the connection badge shows");
        await page.keyboard.press("4");
        // Queued for the server's return (issue 5), not rolled back.
        await waitForText(page, "#sync-badge", "Offline — 1 change pending");
        assertEquals(
          await page.textContent('[data-stat="labelled"]'),
          "1",
        );
        await page.reload();
        assertEquals(await waitForPoints(page), LIMIT);
        await waitForText(page, "#sync-badge", "Offline — 1 change pending");
        // The pending label is laid over the cached snapshot once the queue
        // is read back from IndexedDB, which may come just after the badge.
        await waitForText(page, '[data-stat="labelled"]', "1");
      },
    );
  },
});
