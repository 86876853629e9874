/**
 * The grid view as a user hunts in it (real server on 2,000 images,
 * Chromium): G opens it, only the rows on screen are in the page, the
 * filters and the order are the snapshot's, a click and a digit label as on
 * the map, Ctrl+A and a digit label everything shown in one write (with the
 * map's dialog and undo), Ctrl-click picks single images, and G goes back.
 */
import { assert, assertEquals } from "./assert.ts";
import { chromiumAvailable, openDashboard } from "../support/browser.ts";
import { waitForPoints, waitForSample } from "../support/latent_plot.ts";
import { waitUntil } from "../support/wait.ts";
import { seriousViolations } from "../support/axe.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import { DEFAULT_GRID_FILTER, gridOrder } from "../lib/client/grid.ts";

const LIMIT = 2000;

Deno.test({
  name: "the grid view: filter, sort, select and label (real server, Chromium)",
  ignore: !chromiumAvailable(),
  async fn(t) {
    await using dash = await openDashboard({ limit: LIMIT }, {
      width: 1440,
      height: 900,
    });
    const { server: srv, page, pageErrors } = dash;
    await page.goto(`${srv.url}/`);
    assertEquals(await waitForPoints(page), LIMIT);
    const rows = async () =>
      (await Deno.readTextFile(srv.labelsPath)).trim().split("\n").slice(1);
    const snapshot = async () =>
      decodeLatent(await (await fetch(`${srv.url}/api/latent`)).arrayBuffer());
    const shown = () =>
      page.$$eval(
        "#grid-scroll .grid-cell",
        (els) => els.map((e) => Number((e as HTMLElement).dataset.index)),
      );

    await t.step(
      "G opens the grid: thumbnails, only the rows on screen",
      async () => {
        await page.locator("#latent-title").click();
        await page.keyboard.press("g");
        await page.waitForSelector("#grid-view");
        assert(await page.isHidden("#latent-map"), "the map steps aside");
        assertEquals(
          await page.getAttribute("#grid-view", "data-shown"),
          "2000",
        );
        await page.waitForFunction(() =>
          document.querySelectorAll("#grid-scroll canvas[data-drawn]").length >
            20
        );
        const cells = await shown();
        assert(
          cells.length > 20 && cells.length < LIMIT,
          `${cells.length} cells`,
        );
        assertEquals(cells.slice(0, 5), [0, 1, 2, 3, 4]);
        // Scrolled to the end, the last image is drawn, still a window of rows.
        await page.evaluate(() => {
          const el = document.getElementById("grid-scroll")!;
          el.scrollTop = el.scrollHeight;
        });
        await page.waitForFunction(
          (last) =>
            document.querySelector(
              `#grid-scroll canvas[data-drawn="${last}"]`,
            ) !== null,
          LIMIT - 1,
        );
        assert((await shown()).length < LIMIT / 2);
        await page.evaluate(() => {
          document.getElementById("grid-scroll")!.scrollTop = 0;
        });
      },
    );

    await t.step(
      "a click shows an image; its digit labels it, as on the map",
      async () => {
        await page.click('#grid-scroll .grid-cell[data-index="3"]');
        await waitForSample(page, 3);
        await page.keyboard.press("7");
        await waitUntil(
          "3,7 in the CSV",
          async () => (await rows()).includes("3,7"),
        );
        await page.waitForSelector('.grid-cell[data-index="3"] .grid-tag');
        // "Made by": the server's label history, image by image.
        await page.selectOption("#grid-source", "key");
        await page.waitForSelector('#grid-view[data-shown="1"]');
        assertEquals(await shown(), [3]);
        await page.selectOption("#grid-source", "batch");
        await page.waitForSelector('#grid-view[data-shown="0"]');
        await page.selectOption("#grid-source", "");
        await page.waitForSelector('#grid-view[data-shown="2000"]');
      },
    );

    await t.step("the filters and the order are the snapshot's", async () => {
      const snap = await snapshot();
      const p = snap.predClass[10];
      await page.selectOption("#grid-label", "unlabelled");
      await page.selectOption("#grid-predicted", String(p));
      const want = gridOrder(snap, {
        ...DEFAULT_GRID_FILTER,
        label: "unlabelled",
        predicted: p,
      });
      await page.waitForSelector(`#grid-view[data-shown="${want.length}"]`);
      assertEquals(
        (await shown()).slice(0, 10),
        Array.from(want.subarray(0, 10)),
      );
      await page.selectOption("#grid-sort", "least-certain");
      const sorted = gridOrder(snap, {
        ...DEFAULT_GRID_FILTER,
        label: "unlabelled",
        predicted: p,
        sort: "least-certain",
      });
      await page.waitForFunction(
        (first) =>
          document.querySelector("#grid-scroll .grid-cell")?.getAttribute(
            "data-index",
          ) === String(first),
        sorted[0],
      );
      for (let k = 1; k < 10; k++) {
        assert(
          snap.certainty[sorted[k - 1]] <= snap.certainty[sorted[k]],
          "least sure first",
        );
      }
    });

    await t.step(
      "Ctrl+A and a digit label all shown in one write; Ctrl+Z undoes",
      async () => {
        const before = await rows();
        const n = Number(await page.getAttribute("#grid-view", "data-shown"));
        await page.focus("#grid-scroll");
        await page.keyboard.press("Control+a");
        const panel = page.locator("#selection-panel");
        await panel.waitFor();
        assertEquals(Number(await panel.getAttribute("data-count")), n);
        assert((await page.textContent("#selection-title"))!.includes("Grid"));
        const indices = await page.evaluate(() =>
          [...document.querySelectorAll("#grid-scroll .grid-cell.picked")]
            .length
        );
        assert(indices > 0, "the picked cells are marked");
        await page.keyboard.press("4");
        // Over 200 images asks first, like a box on the map.
        if (n > 200) {
          await page.locator("#confirm-dialog[open]").waitFor();
          await page.keyboard.press("Enter");
        }
        await waitUntil(
          "the batch in the CSV",
          async () => (await rows()).length === before.length + n,
        );
        // Labelled, they leave the "none yet" filter.
        await page.waitForSelector('#grid-view[data-shown="0"]');
        await page.locator("#latent-title").click();
        await page.keyboard.press("Control+z");
        await waitUntil(
          "undone",
          async () => (await rows()).length === before.length,
        );
        await page.waitForSelector(`#grid-view[data-shown="${n}"]`);
      },
    );

    await t.step(
      "Ctrl-click picks single images; axe finds nothing serious; G goes back",
      async () => {
        await page.click("#grid-reset");
        await page.waitForSelector('#grid-view[data-shown="2000"]');
        await page.click('#grid-scroll .grid-cell[data-index="5"]', {
          modifiers: ["Control"],
        });
        await page.click('#grid-scroll .grid-cell[data-index="8"]', {
          modifiers: ["Control"],
        });
        await page.waitForSelector('#selection-panel[data-count="2"]');
        const serious = await seriousViolations(page);
        assertEquals(serious, [], JSON.stringify(serious, null, 1));
        // At 800 px the selection is said in the docked panel (its card is
        // far below), and the docked buttons label all of it, as keys do.
        await page.setViewportSize({ width: 800, height: 1000 });
        const dock = page.locator("#dock-selection");
        await dock.waitFor();
        assert((await dock.textContent())!.includes("2 selected"));
        const b = (await dock.boundingBox())!;
        assert(b.y >= 0 && b.y + b.height <= 1000, `docked line at ${b.y}`);
        const before = await rows();
        await page.click('.col-side > .sample [data-label="3"]');
        await waitUntil("both labelled 3", async () => {
          const r = await rows();
          return r.includes("5,3") && r.includes("8,3");
        });
        await page.locator("#latent-title").click();
        await page.keyboard.press("Control+z");
        await waitUntil(
          "undone",
          async () => (await rows()).length === before.length,
        );
        await page.setViewportSize({ width: 1440, height: 900 });
        // Labelled, the selection was done with (as after a box).
        await page.waitForSelector("#selection-panel", { state: "detached" });
        await page.keyboard.press("Escape");
        await page.waitForSelector("#selection-panel", { state: "detached" });
        await page.locator("#latent-title").click();
        await page.keyboard.press("g");
        await page.waitForSelector("#grid-view", { state: "detached" });
        assert(await page.isVisible("#latent-map"));
        assertEquals(pageErrors, []);
      },
    );
  },
});
