/**
 * End-to-end on a folder of 12 classes (the ten digits by name and two
 * Fashion-MNIST classes) with the system Chromium: the label buttons and keys
 * cover the first ten classes, the class picker any of them. A point is
 * labelled "zero" (the twelfth class) by typing part of its name, then "two"
 * with the arrow keys; a box selection of the whole map is labelled through
 * the same picker (asking first: it changes a label). labels.csv and the
 * index file are checked after each. Then offline: a reload from the cache,
 * a label by name, and its sync on reconnect.
 */
import type { Browser, Page } from "playwright-core";
import { assert, assertEquals } from "./assert.ts";
import {
  chromiumAvailable,
  launchBrowser,
  waitForToast,
} from "../support/browser.ts";
import {
  clickPoint,
  isolatedPoint,
  waitForPoints,
  waitForSample,
} from "../support/latent_plot.ts";
import { type ServerProcess, startServer } from "../support/server_process.ts";
import { waitUntil } from "../support/wait.ts";
import { writeManyClassFolder } from "../support/many_class_fixtures.ts";
import { readIndex } from "../lib/images/index_file.ts";

const HAVE_CHROMIUM = chromiumAvailable();

/** labels.csv as Serial → label. */
async function labelsCsv(path: string): Promise<Map<number, number>> {
  const lines = (await Deno.readTextFile(path)).trim().split(/\r?\n/);
  assertEquals(lines[0], "Serial,label");
  return new Map(
    lines.slice(1).map((l) => l.split(",").map(Number) as [number, number]),
  );
}

/** The picker's visible options: [class name, aria-selected]. */
function options(page: Page, id: string): Promise<Array<[string, boolean]>> {
  return page.$$eval(
    `#${id}-list [role=option]`,
    (els) =>
      els.map((e) =>
        [
          e.querySelector(".class-option-name")?.textContent ?? "",
          e.getAttribute("aria-selected") === "true",
        ] as [string, boolean]
      ),
  );
}

Deno.test({
  name:
    "more than ten classes: pick a class by typing its name (image and selection)",
  ignore: !HAVE_CHROMIUM,
  async fn() {
    const data = await Deno.makeTempDir({ prefix: "ssvae-e2e-many-" });
    let srv: ServerProcess | null = null;
    let browser: Browser | null = null;
    try {
      const fx = await writeManyClassFolder(`${data}/mixed`, { perClass: 6 });
      assertEquals(fx.classes.slice(10), ["two", "zero"]);
      srv = await startServer({ args: ["--images", fx.dir] });
      const indexPath = srv.labelsPath.replace(/\.csv$/, ".index.csv");
      const count = fx.truth.size;
      browser = await launchBrowser();
      const page = await browser.newPage({
        viewport: { width: 1440, height: 900 },
      });
      await page.goto(`${srv.url}/`);
      assertEquals(await waitForPoints(page), count);
      await page.waitForSelector('[data-connection="open"]');

      // Buttons (and keys 1–9, 0) for the first ten classes only.
      const buttons = await page.$$eval(
        ".sample .label-btn",
        (els) => els.map((e) => e.textContent),
      );
      assertEquals(
        buttons,
        fx.classes.slice(0, 10).map((c, i) => `${(i + 1) % 10} ${c}`),
      );
      const legend = (await page.textContent(".latent .legend"))!;
      assert(legend.includes("zero") && legend.includes("sneaker"), legend);

      const index = await isolatedPoint(page);
      assert(index >= 0, "found a point with no close neighbour");
      // The page selects a first image by itself: let that land before the
      // click, so it cannot overtake the click's selection.
      await waitForSample(page);
      await clickPoint(page, index);
      await waitForSample(page, index);
      const path = (await page.textContent(".sample-path"))!;
      const serialOf = async (p: string) =>
        [...await readIndex(indexPath)].find(([, q]) => q === p)![0];

      // `/` focuses the picker; "zer" leaves one class; Enter labels with it.
      await page.keyboard.press("/");
      await page.waitForFunction(() =>
        document.activeElement?.id === "sample-picker-input"
      );
      const input = page.locator("#sample-picker-input");
      assertEquals(await input.getAttribute("role"), "combobox");
      assertEquals(await input.getAttribute("aria-expanded"), "true");
      assertEquals(
        await input.getAttribute("aria-label"),
        `Label image #${index} as (type a class name)`,
      );
      assertEquals((await options(page, "sample-picker")).length, 12);
      await page.keyboard.type("zer");
      assertEquals(await options(page, "sample-picker"), [["zero", true]]);
      assertEquals(
        await input.getAttribute("aria-activedescendant"),
        "sample-picker-option-11",
      );
      await page.keyboard.press("Enter");
      // Named in the toast too, not by its index.
      assertEquals(
        await waitForToast(page, `#${index} labelled`),
        `Saved: #${index} labelled zero`,
      );
      let text = (await page.textContent("#prediction-text"))!;
      assert(text.endsWith("| User label: zero"), text);
      const serial = await serialOf(path);
      await waitUntil(
        "zero in labels.csv",
        async () => (await labelsCsv(srv!.labelsPath)).get(serial) === 11,
      );
      assertEquals((await labelsCsv(srv.labelsPath)).size, 1);
      // The picker let go of the focus: the page's keys work again.
      assert(
        await page.evaluate(() =>
          document.activeElement?.id !== "sample-picker-input"
        ),
      );
      await page.waitForFunction(() =>
        document.querySelector('[data-class-count="11"]')?.textContent === "1"
      );

      // "t": "three" and "two" start with it, "eight" has it; ↓ then Enter
      // picks the second.
      await page.keyboard.press("/");
      await page.waitForFunction(() =>
        document.activeElement?.id === "sample-picker-input"
      );
      await page.keyboard.type("t");
      assertEquals(await options(page, "sample-picker"), [
        ["three", true],
        ["two", false],
        ["eight", false],
      ]);
      await page.keyboard.press("ArrowDown");
      assertEquals(
        (await options(page, "sample-picker")).map(([, on]) => on),
        [false, true, false],
      );
      await page.keyboard.press("Enter");
      await waitUntil(
        "two in labels.csv",
        async () => (await labelsCsv(srv!.labelsPath)).get(serial) === 10,
      );
      // The file is renamed before the page has the answer: waited for.
      await page.waitForFunction(() =>
        document.getElementById("prediction-text")?.textContent
          ?.endsWith("| User label: two")
      );
      // Esc clears the text, then leaves the picker; nothing is labelled.
      await page.keyboard.press("/");
      await page.waitForFunction(() =>
        document.activeElement?.id === "sample-picker-input"
      );
      await page.keyboard.type("xyz");
      assertEquals(
        await page.textContent("#sample-picker-list"),
        "No class name contains “xyz”",
      );
      await page.keyboard.press("Enter");
      await page.keyboard.press("Escape");
      assertEquals(await input.inputValue(), "");
      await page.keyboard.press("Escape");
      await page.waitForFunction(() =>
        document.activeElement?.id !== "sample-picker-input"
      );
      assertEquals((await labelsCsv(srv.labelsPath)).get(serial), 10);

      // A box around the whole map, then the picker labels all of it: one
      // class by name for the selection, through the batch's question.
      await page.click('[data-drag="select"]');
      await page.waitForSelector('#latent-plot[data-dragmode="select"]');
      await page.locator("#latent-plot").scrollIntoViewIfNeeded();
      const area = await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        const el = document.getElementById("latent-plot") as any;
        const fl = el._fullLayout;
        const r = el.getBoundingClientRect();
        return {
          x0: r.left + fl.xaxis._offset + 2,
          y0: r.top + fl.yaxis._offset + 2,
          x1: r.left + fl.xaxis._offset + fl.xaxis._length - 2,
          y1: r.top + fl.yaxis._offset + fl.yaxis._length - 2,
        };
      });
      await page.mouse.move(area.x0, area.y0);
      await page.mouse.down();
      await page.mouse.move(area.x1, area.y1, { steps: 8 });
      await page.mouse.up();
      await page.waitForSelector("#selection-thumbs[data-loaded]");
      const selected = await page.$$eval(
        "#selection-thumbs .thumb",
        (els) => els.map((e) => Number((e as HTMLElement).dataset.index)),
      );
      assert(selected.length > count / 2, `${selected.length} selected`);
      assert(selected.includes(index), "the labelled point is in the box");
      // The selection panel has buttons for the first ten and its own picker.
      assertEquals(
        await page.$$eval("#selection-panel .label-btn", (e) => e.length),
        10,
      );
      assert(await page.$("#selection-picker-input"));
      await page.keyboard.press("/");
      await page.waitForFunction(() =>
        document.activeElement?.id === "sample-picker-input"
      );
      assertEquals(
        await input.getAttribute("aria-label"),
        `Label the ${selected.length} selected images as (type a class name)`,
      );
      await page.keyboard.type("ZER");
      await page.keyboard.press("Enter");
      // One of them had a label ("two"): the batch asks first.
      await page.waitForSelector("#confirm-dialog[open]");
      // The question names the class, not its index.
      assertEquals(
        await page.textContent("#confirm-title"),
        `Label ${selected.length} images as zero?`,
      );
      const summary = (await page.textContent(".confirm-summary"))!;
      assert(
        summary.includes(`${selected.length - 1} new, 1 changed`),
        summary,
      );
      await page.click("#confirm-ok");
      const serials = new Map(
        [...await readIndex(indexPath)].map(([s, p]) => [p, s]),
      );
      const paths = await Promise.all(
        selected.map(async (i) =>
          (await (await fetch(`${srv!.url}/api/samples/${i}`)).json())
            .path as string
        ),
      );
      await waitUntil("the batch in labels.csv", async () => {
        const csv = await labelsCsv(srv!.labelsPath);
        return csv.size === selected.length &&
          paths.every((p) => csv.get(serials.get(p)!) === 11);
      });
      await page.waitForFunction(
        (n) =>
          document.querySelector('[data-class-count="11"]')?.textContent ===
            String(n),
        selected.length,
      );

      // Offline (the installed app): the reload comes from the cache with
      // all twelve names, the help gives the named classes' keys, the
      // picker labels, and the label reaches labels.csv on reconnect.
      await page.waitForSelector('[data-offline-ready="true"]', {
        state: "attached",
        timeout: 60_000,
      });
      const context = page.context();
      await context.setOffline(true);
      await page.reload();
      assertEquals(await waitForPoints(page), count);
      await page.waitForFunction(() =>
        document.getElementById("sync-badge")?.textContent ===
          "Offline — 0 changes pending"
      );
      await page.keyboard.press("?");
      await page.waitForSelector("#shortcut-help[open]");
      assertEquals(
        await page.textContent('#shortcut-help [data-action="label"] dt'),
        "1–0",
      );
      assert(
        (await page.textContent('#shortcut-help [data-action="label"] dd'))!
          .includes("first ten classes"),
      );
      await page.keyboard.press("Escape");
      await page.waitForSelector("#shortcut-help[open]", { state: "detached" });
      // The page selects the least certain unlabelled image by itself, if
      // the box left one: let that land before the click.
      if ((await labelsCsv(srv.labelsPath)).size < count) {
        await waitForSample(page);
      }
      await clickPoint(page, index);
      await waitForSample(page, index);
      await page.keyboard.press("/");
      await page.waitForFunction(() =>
        document.activeElement?.id === "sample-picker-input"
      );
      assertEquals((await options(page, "sample-picker")).length, 12);
      await page.keyboard.type("two");
      assertEquals(await options(page, "sample-picker"), [["two", true]]);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() =>
        document.getElementById("sync-badge")?.textContent ===
          "Offline — 1 change pending"
      );
      text = (await page.textContent("#prediction-text"))!;
      assert(text.endsWith("| User label: two"), text);
      await waitForToast(page, `#${index} labelled two`, "info");
      assertEquals((await labelsCsv(srv.labelsPath)).get(serial), 11);
      await context.setOffline(false);
      await waitUntil(
        "the offline label in labels.csv",
        async () => (await labelsCsv(srv!.labelsPath)).get(serial) === 10,
      );
    } finally {
      await browser?.close();
      await srv?.stop();
      await Deno.remove(data, { recursive: true });
    }
  },
});
