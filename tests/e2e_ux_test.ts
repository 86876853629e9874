/**
 * End-to-end: what a first-time user meets (issue 10). The real server on
 * 2000 images with a fresh model, the system Chromium at the three window
 * sizes of the issue. Checks the first screen (map, sample and label buttons
 * without scrolling; nothing overflowing at 800 px), the guide and the
 * untrained-model note, `?`, the accessible names and the Tab order, arrow
 * keys on the map, a double-click that resets the zoom without changing the
 * selection, and that an import is one undoable action.
 */
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { assert, assertEquals } from "./assert.ts";
import { chromiumAvailable, openDashboard } from "../support/browser.ts";
import {
  clickPoint,
  forgetLastPress,
  isolatedPoint,
  isolatedPoints,
  plotRanges,
  pointPixel,
  waitForPoints,
  waitForSample,
  zoomByDrag,
} from "../support/latent_plot.ts";
import { waitUntil } from "../support/wait.ts";
import { seriousViolations } from "../support/axe.ts";
import { CLASS_COLORS, contrastRatio, inkOn } from "../lib/client/palette.ts";

const LIMIT = 2000;

/** "#rrggbb" of a computed "rgb(r, g, b)" colour. */
function rgbHex(css: string): string {
  const [r, g, b] = css.match(/\d+(\.\d+)?/g)!.slice(0, 3).map(Number);
  return "#" + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, "0"))
    .join("");
}
const HAVE_CHROMIUM = chromiumAvailable();

/** Bounding boxes of the first-screen essentials, in viewport pixels. */
function firstScreen(page: Page) {
  return page.evaluate(() => {
    const box = (sel: string) => {
      const r = document.querySelector(sel)!.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
    };
    return {
      h: innerHeight,
      w: innerWidth,
      plot: box("#latent-plot"),
      legend: box("#latent-legend"),
      dock: box(".col-side > .sample"),
      docked: getComputedStyle(document.querySelector(".col-side > .sample")!)
        .position === "fixed",
      sample: box(".sample .digits"),
      buttons: box(".sample .label-buttons"),
    };
  });
}

/** Elements wider than their card (text wrapping out, sliders sticking out). */
function overflowing(page: Page) {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const card of document.querySelectorAll(".card, .trainbar")) {
      const c = card.getBoundingClientRect();
      for (const el of card.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || (el as HTMLElement).closest(".js-plotly-plot")) {
          continue;
        }
        if (r.right > c.right + 1 || r.left < c.left - 1) {
          out.push(
            `${el.tagName}#${el.id}.${el.className} in ${card.className}`,
          );
        }
      }
    }
    return out;
  });
}

Deno.test({
  name: "a first-time user's page (real server, Chromium)",
  ignore: !HAVE_CHROMIUM,
  async fn(t) {
    await using dash = await openDashboard({ limit: LIMIT }, {
      width: 1440,
      height: 900,
    });
    const { server: srv, page, pageErrors } = dash;
    await page.goto(`${srv.url}/`);
    assertEquals(await waitForPoints(page), LIMIT);

    // The steps share one page; each brings it to the state it checks (a
    // selection, the zoom), except that the first two need a fresh model
    // and a first visit, so they come first.
    await t.step(
      "first screen: map, sample and label buttons, no scrolling, at 1440×900, 1920×1080 and 800×1000",
      async () => {
        for (
          const [w, h] of [[1440, 900], [1280, 800], [1920, 1080], [800, 1000]]
        ) {
          await page.setViewportSize({ width: w, height: h });
          await page.waitForFunction(
            ([w]) => innerWidth === w,
            [w],
          );
          await page.evaluate(() => scrollTo(0, 0));
          const s = await firstScreen(page);
          const where = `${w}×${h}`;
          assert(s.plot.top < s.h * 0.45, `${where}: map starts on screen`);
          assert(s.plot.bottom - s.plot.top > 300, `${where}: map tall`);
          for (const k of ["sample", "buttons"] as const) {
            assert(
              s[k].top >= 0 && s[k].bottom <= s.h,
              `${where}: ${k} in view (${JSON.stringify(s[k])})`,
            );
          }
          if (w >= 1280) {
            assert(s.sample.left > s.plot.right, `${where}: side by side`);
          }
          // Nothing covered: the docked panel ends the map and its legend
          // (it covered the map's axis), and the legend is on screen.
          if (s.docked) {
            assert(
              s.legend.bottom <= s.dock.top + 1,
              `${where}: the docked panel covers the map (legend ${s.legend.bottom}, panel ${s.dock.top})`,
            );
          } else {
            assert(
              s.legend.bottom <= s.h,
              `${where}: legend cut (${s.legend.bottom} of ${s.h})`,
            );
          }
          assertEquals(await overflowing(page), [], `${where}: overflow`);
        }
        // The learning rate reads on one line in the parameters panel.
        await page.click("#training-params > summary");
        const lr = await page.locator("#lr-value").boundingBox();
        assert(lr && lr.height < 24, `lr value on one line: ${lr?.height}`);
        assertEquals(await overflowing(page), []);
        await page.click("#training-params > summary");
        await page.setViewportSize({ width: 1440, height: 900 });
      },
    );

    await t.step(
      "a fresh model says it is untrained; the guide goes once dismissed",
      async () => {
        assert(await page.isVisible("#untrained-note"));
        assertEquals(
          await page.textContent("#progress-text"),
          "Untrained model",
        );
        assert(await page.isVisible("#guide"));
        await page.click("#guide-dismiss");
        await page.waitForSelector("#guide", { state: "detached" });
        await page.reload();
        await waitForPoints(page, LIMIT);
        assertEquals(await page.locator("#guide").count(), 0);
      },
    );

    await t.step("? opens the shortcuts; Esc closes them", async () => {
      await page.locator("#latent-title").click();
      await page.keyboard.press("?");
      const help = page.locator("#shortcut-help[open]");
      await help.waitFor();
      for (const id of ["label", "next", "undo", "clear", "help"]) {
        assertEquals(await help.locator(`[data-action="${id}"]`).count(), 1);
      }
      await page.keyboard.press("Escape");
      await help.waitFor({ state: "detached" });
    });

    await t.step(
      "accessible names; Tab reaches the label buttons in a few stops",
      async () => {
        await page.click("#training-params > summary");
        const tree = await page.locator("body").ariaSnapshot();
        await page.click("#training-params > summary");
        for (
          const name of [
            'slider "Reconstruction weight"',
            'slider "KL weight"',
            'slider "Learning rate',
            'spinbutton "Epochs to train"',
            'application "Latent map',
            'group "Label',
            'button "Keyboard shortcuts"',
          ]
        ) {
          assert(tree.includes(name), `${name} in:\n${tree}`);
        }
        await page.evaluate(() =>
          (document.activeElement as HTMLElement)?.blur()
        );
        await page.keyboard.press("Tab");
        let stops = 1;
        while (
          stops < 40 &&
          !(await page.evaluate(() =>
            document.activeElement?.classList.contains("label-btn") ?? false
          ))
        ) {
          await page.keyboard.press("Tab");
          stops++;
        }
        assert(stops <= 10, `${stops} Tab stops to the first label button`);
      },
    );

    await t.step(
      "accessibility: axe-core finds nothing serious; pressed labels, focus ring and the skip link read",
      async () => {
        // A pressed label button (the shown image's label) and an open
        // parameters panel, so their states are checked too.
        const i = await isolatedPoint(page);
        await clickPoint(page, i);
        await waitForSample(page, i);
        await page.keyboard.press("7");
        await page.waitForSelector('.sample [data-label="7"].active');
        await page.click("#training-params > summary");
        const serious = await seriousViolations(page);
        await page.click("#training-params > summary");
        assertEquals(serious, [], JSON.stringify(serious, null, 1));
        // Every class colour, pressed: its text reads ≥ 4.5:1 (WCAG AA).
        for (const [k, c] of CLASS_COLORS.entries()) {
          const r = contrastRatio(inkOn(c), c);
          assert(r >= 4.5, `class ${k} (${c}): ${r.toFixed(2)}:1`);
        }
        // The pressed button as drawn: text against its fill.
        const drawn = await page.$eval(
          '.sample [data-label="7"].active',
          (
            b,
          ) => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor],
        );
        const [ink, fill] = drawn.map(rgbHex);
        assert(contrastRatio(ink, fill) >= 4.5, `drawn 7: ${drawn}`);
        // The label is undone, so the steps after find no labels.
        await page.locator("#latent-title").click();
        await page.keyboard.press("Control+z");
        await waitUntil(
          "the 7 undone",
          async () =>
            (await Deno.readTextFile(srv.labelsPath)).trim().split("\n")
              .length === 1,
        );
        // The first Tab stop of a fresh page is the skip link; Enter on it
        // focuses the map.
        await page.reload();
        await waitForPoints(page, LIMIT);
        await page.keyboard.press("Tab");
        assertEquals(
          await page.evaluate(() => document.activeElement?.className),
          "skip-link",
        );
        await page.keyboard.press("Enter");
        await page.waitForFunction(() =>
          document.activeElement?.id === "latent-map"
        );
        // Tab from the top never lands on Plotly's toolbar; each stop's
        // focus ring reads ≥ 3:1 on the page (WCAG non-text contrast).
        await page.evaluate(() =>
          (document.activeElement as HTMLElement)?.blur()
        );
        for (let k = 0; k < 25; k++) {
          await page.keyboard.press("Tab");
          const f = await page.evaluate(() => {
            const el = document.activeElement as HTMLElement;
            const s = getComputedStyle(el);
            return {
              what: `${el.tagName}.${el.className}`,
              toolbar: el.closest(".modebar") !== null,
              outline: s.outlineStyle === "none" ? null : s.outlineColor,
              isButton: el.classList.contains("btn"),
            };
          });
          assert(!f.toolbar, `Tab ${k + 1} landed on Plotly's toolbar`);
          if (f.isButton) {
            assert(f.outline, `${f.what}: no focus outline`);
            const r = contrastRatio(rgbHex(f.outline), "#f4f6f9");
            assert(r >= 3, `${f.what}: focus ring ${r.toFixed(2)}:1`);
          }
        }
      },
    );

    await t.step(
      "the map takes the keyboard: arrow keys move the selection",
      async () => {
        const a = await isolatedPoint(page);
        await clickPoint(page, a);
        await page.waitForSelector(`.sample[data-index="${a}"]`);
        await page.focus(".plot-wrap");
        await page.keyboard.press("ArrowRight");
        const b = Number(
          await page.waitForFunction(
            (a) => {
              const s = document.getElementById("latent-plot")?.dataset
                .selected;
              return s && s !== String(a) ? s : false;
            },
            a,
          ).then((h) => h.jsonValue()),
        );
        const [pa, pb] = await Promise.all([
          pointPixel(page, a),
          pointPixel(page, b),
        ]);
        assert(pb.x > pa.x, "ArrowRight went right");
      },
    );

    await t.step(
      "a double-click resets the zoom and keeps the selection",
      async () => {
        // A selection of its own to keep.
        const keep = await isolatedPoint(page);
        await clickPoint(page, keep);
        await waitForSample(page, keep);
        const full = await plotRanges(page);
        // Zoom in by dragging a box, then double-click on another point.
        const zoomed = await zoomByDrag(page, [0.2, 0.2], [0.7, 0.8]);
        assert(
          zoomed.x[1] - zoomed.x[0] < (full.x[1] - full.x[0]) * 0.9,
          "the drag zoomed in",
        );
        const other = (await isolatedPoints(page, 2)).find((i) => i !== keep)!;
        const p = await pointPixel(page, other);
        // The drag's press must not count as this double-click's first.
        await forgetLastPress(page);
        await page.mouse.dblclick(p.x, p.y);
        await page.waitForFunction(
          (w) => {
            // deno-lint-ignore no-explicit-any
            const r = (document.getElementById("latent-plot") as any)
              ._fullLayout.xaxis.range;
            return Math.abs(r[1] - r[0] - w) < 1e-9;
          },
          full.x[1] - full.x[0],
        );
        await page.waitForFunction(
          (k) => document.getElementById("latent-plot")!.dataset.selected === k,
          String(keep),
        );
      },
    );

    await t.step(
      "modes switch before the next drag: Z, a double-click, then B and a drag at once select (4 tries)",
      async () => {
        const box = (await page.locator("#latent-plot .nsewdrag").first()
          .boundingBox())!;
        const at = (fx: number, fy: number) =>
          [box.x + box.width * fx, box.y + box.height * fy] as const;
        for (let k = 0; k < 4; k++) {
          await page.locator("#latent-title").click();
          await page.keyboard.press("z");
          await page.waitForSelector('#latent-plot[data-dragmode="zoom"]');
          const full = await plotRanges(page);
          await forgetLastPress(page);
          await page.mouse.dblclick(...at(0.9, 0.1));
          // At once: no wait for the double-click's redraw.
          await page.keyboard.press("b");
          await page.mouse.move(...at(0.35, 0.35));
          await page.mouse.down();
          await page.mouse.move(...at(0.6, 0.6), { steps: 6 });
          await page.mouse.up();
          await page.locator("#selection-panel").waitFor({ timeout: 5000 });
          // A zoom by this drag would leave a quarter of the width.
          const after = await plotRanges(page);
          assert(
            after.x[1] - after.x[0] > 0.9 * (full.x[1] - full.x[0]),
            `try ${k + 1}: the drag zoomed (${after.x} after ${full.x})`,
          );
          await page.keyboard.press("Escape");
          await page.locator("#selection-panel").waitFor({ state: "detached" });
        }
        await page.keyboard.press("z");
      },
    );

    await t.step(
      "S skips an image (out of the queue, recorded), [ and ] step back and forth",
      async () => {
        await page.locator("#latent-title").click();
        // N from an image it did not pick starts at the top of the queue.
        const first = Number(
          (await page.getAttribute("#suggestion-list", "data-top"))!.split(
            ",",
          )[0],
        );
        await page.keyboard.press("n");
        await waitForSample(page, first);
        const listed = () =>
          page.$$eval(
            "#suggestion-list [data-index]",
            (els) => els.map((e) => Number((e as HTMLElement).dataset.index)),
          );
        assert((await listed()).includes(first), "the suggestion is listed");
        // Listed with their thumbnails (drawn for this very list).
        await page.waitForFunction(() => {
          const l = document.getElementById("suggestion-list");
          return l && l.dataset.top && l.dataset.thumbs === l.dataset.top;
        });
        await page.keyboard.press("s");
        // The next suggestion comes (shown, not loading: data-index ""), and
        // the skipped one leaves the list.
        const second = Number(
          await page.waitForFunction((f) => {
            const i = document.querySelector(".sample")?.getAttribute(
              "data-index",
            );
            return i && i !== String(f) ? i : false;
          }, first).then((h) => h.jsonValue()),
        );
        await waitUntil(
          "the skipped image off the list",
          async () => !(await listed()).includes(first),
        );
        assert(
          (await page.textContent("#training-log"))!.includes(
            `Skipped #${first}`,
          ),
        );
        // [ goes back to the skipped image, ] forward to the next.
        await page.keyboard.press("[");
        await waitForSample(page, first);
        await page.keyboard.press("]");
        await waitForSample(page, second);
        // A reload keeps the skip (per data set, in this browser).
        await page.reload();
        await waitForPoints(page, LIMIT);
        await waitUntil(
          "the skip survives a reload",
          async () => {
            const l = await listed();
            return l.length > 0 && !l.includes(first);
          },
        );
      },
    );

    await t.step(
      "after a click on a label button, Space is still 'next'",
      async () => {
        const i = await isolatedPoint(page);
        await clickPoint(page, i);
        await waitForSample(page, i);
        await page.click('.sample [data-label="2"]');
        await waitUntil(
          "the 2 in the CSV",
          async () =>
            (await Deno.readTextFile(srv.labelsPath)).includes(`\n${i},2\n`),
        );
        await page.keyboard.press(" ");
        await page.waitForFunction(
          (i) =>
            document.querySelector(".sample[data-index]")?.getAttribute(
              "data-index",
            ) !== String(i),
          i,
        );
        await page.locator("#latent-title").click();
        await page.keyboard.press("Control+z");
        await waitUntil(
          "the 2 undone",
          async () =>
            !(await Deno.readTextFile(srv.labelsPath)).includes(`\n${i},2\n`),
        );
      },
    );

    await t.step("an import is one undoable action", async () => {
      const before = await Deno.readTextFile(srv.labelsPath).catch(() => "");
      const csv = "Serial,label\n3,1\n4,2\n5,3\n";
      await page.setInputFiles("#import-file", {
        name: "three.csv",
        mimeType: "text/csv",
        buffer: Buffer.from(csv),
      });
      await page.waitForSelector("#import-preview");
      await page.click("#import-apply");
      const rows = async () =>
        (await Deno.readTextFile(srv.labelsPath)).trim().split("\n").slice(1)
          .sort().join(";");
      await waitUntil(
        "the import in the CSV",
        async () => (await rows()) === "3,1;4,2;5,3",
      );
      await page.locator("#latent-title").click();
      await page.keyboard.press("Control+z");
      await waitUntil(
        "the import undone",
        async () =>
          (await Deno.readTextFile(srv.labelsPath).catch(() => "")).trim()
            .split("\n").length <=
            Math.max(1, before.trim().split("\n").length),
      );
      assertEquals(await rows(), "");
      assertEquals(pageErrors, []);
    });
  },
});
