/**
 * End-to-end on a folder of images: the real server with `--images` on a
 * folder written from Fashion-MNIST (class sub-folders, colour, a JPEG or
 * two, corrupt files) and the system Chromium. A point is clicked, its
 * colour image checked against the server's bytes, labelled with key 2 (the
 * second class), and labels.csv and the index beside it are checked; then
 * offline, a reload and another point's colour image from the image cache.
 */
import type { Browser, Page } from "playwright-core";
import { assert, assertEquals } from "./assert.ts";
import { chromiumAvailable, launchBrowser } from "../support/browser.ts";
import {
  clickPoint,
  isolatedPoint,
  waitForPoints,
  waitForSample,
} from "../support/latent_plot.ts";
import { type ServerProcess, startServer } from "../support/server_process.ts";
import { writeImageFolder } from "../support/image_fixtures.ts";
import { readIndex } from "../lib/images/index_file.ts";

const HAVE_CHROMIUM = chromiumAvailable();

/** The sample panel's original image: its size and RGB bytes. */
function drawnOriginal(
  page: Page,
): Promise<{ w: number; h: number; rgb: number[] }> {
  return page.evaluate(() => {
    const c = document.getElementById("sample-original") as HTMLCanvasElement;
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    const rgb: number[] = [];
    for (let i = 0; i < d.length; i += 4) rgb.push(d[i], d[i + 1], d[i + 2]);
    return { w: c.width, h: c.height, rgb };
  });
}

Deno.test({
  name: "label a folder image in the browser (named classes, colour)",
  ignore: !HAVE_CHROMIUM,
  async fn() {
    const data = await Deno.makeTempDir({ prefix: "ssvae-e2e-images-" });
    let srv: ServerProcess | null = null;
    let browser: Browser | null = null;
    try {
      const fx = await writeImageFolder(`${data}/clothes`, { perClass: 15 });
      srv = await startServer({
        args: ["--images", fx.dir, "--color", "--image-size", "24"],
      });
      const count = fx.truth.size;
      browser = await launchBrowser();
      const context = await browser.newContext({
        viewport: { width: 1440, height: 900 },
      });
      const page = await context.newPage();
      await page.goto(`${srv.url}/`);
      assertEquals(await waitForPoints(page), count);
      await page.waitForSelector('[data-connection="open"]');
      // Buttons and legend carry the names, with their keys.
      const buttons = await page.$$eval(
        ".sample .label-btn",
        (els) => els.map((e) => e.textContent),
      );
      assertEquals(buttons, ["1 tshirt", "2 trouser", "3 sneaker", "4 bag"]);
      const legend = (await page.textContent(".latent .legend"))!;
      assert(legend.includes("sneaker"), legend);

      const index = await isolatedPoint(page);
      assert(index >= 0, "found a point with no close neighbour");
      // The page selects a first image by itself: let that land before the
      // click, so it cannot overtake the click's selection.
      await waitForSample(page);
      await clickPoint(page, index);
      await waitForSample(page, index);
      const s = await (await fetch(`${srv.url}/api/samples/${index}`)).json();
      // The canvas shows the server's RGB bytes at the image's own size.
      const drawn = await drawnOriginal(page);
      assertEquals([drawn.w, drawn.h], [24, 24]);
      assertEquals(
        drawn.rgb,
        Array.from(atob(s.original), (ch) => ch.charCodeAt(0)),
      );
      assertEquals(
        await page.textContent(".sample-path"),
        s.path,
      );

      await page.keyboard.press("2");
      await page.waitForSelector("#label-toast.toast-success");
      const text = (await page.textContent("#prediction-text"))!;
      assert(text.endsWith("| User label: trouser"), text);
      // labels.csv holds the file's serial with class index 1; the index names the file.
      const index2 = await readIndex(
        srv.labelsPath.replace(/\.csv$/, ".index.csv"),
      );
      const csv = (await Deno.readTextFile(srv.labelsPath)).trim().split("\n");
      assertEquals(csv.length, 2);
      const [serial, label] = csv[1].split(",").map(Number);
      assertEquals(label, 1);
      assertEquals(index2.get(serial), s.path);
      // The stats bar of "trouser" counts it.
      await page.waitForFunction(
        () =>
          document.querySelector('[data-class-count="1"]')?.textContent === "1",
      );

      // Offline (the installed app): the reload comes from the cache with the
      // class names, and a point never opened shows its colour image from the
      // image cache.
      await page.waitForSelector('[data-offline-ready="true"]', {
        state: "attached",
        timeout: 60_000,
      });
      const other = await page.evaluate((skip) => {
        // deno-lint-ignore no-explicit-any
        const el = document.getElementById("latent-plot") as any;
        const x: number[] = Array.from(el.latentPoints.x);
        let best = -1;
        x.forEach((v, i) => {
          if (i !== skip && (best < 0 || v > x[best])) best = i;
        });
        return best;
      }, index);
      const o = await (await fetch(`${srv.url}/api/samples/${other}`)).json();
      await context.setOffline(true);
      await page.reload();
      assertEquals(await waitForPoints(page), count);
      assertEquals(
        await page.$$eval(
          ".sample .label-btn",
          (els) => els.map((e) => e.textContent),
        ),
        buttons,
      );
      assert((await page.textContent(".sample"))!.includes("trouser"));
      await waitForSample(page);
      await clickPoint(page, other);
      await waitForSample(page, other);
      assertEquals(
        (await drawnOriginal(page)).rgb,
        Array.from(atob(o.original), (ch) => ch.charCodeAt(0)),
      );
      await context.setOffline(false);
    } finally {
      await browser?.close();
      await srv?.stop();
      await Deno.remove(data, { recursive: true });
    }
  },
});
