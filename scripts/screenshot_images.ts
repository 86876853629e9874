/**
 * Screenshots of the dashboard on a folder of colour images with named
 * classes: writes 4 × 150 Fashion-MNIST images in class sub-folders (every
 * third tinted), starts the dashboard with `--images --color --holdout 0.1`,
 * labels 5 per class, trains 40 epochs, and shoots 1440×900
 * (docs/screenshot_images.png) and 800×1000 (`--narrow PATH`, not committed).
 * `deno run -A scripts/screenshot_images.ts [--narrow /tmp/narrow.png]`
 */
import { parseArgs } from "node:util";
import { launchBrowser } from "../support/browser.ts";
import { clickPoint, waitForPoints } from "../support/latent_plot.ts";
import { ROOT, startServer } from "../support/server_process.ts";
import { sleep } from "../support/wait.ts";
import { labelFromFolders } from "../support/image_fixtures.ts";
import { writeImageFolder } from "../support/image_fixtures.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { narrow: { type: "string" } },
});
const data = await Deno.makeTempDir({ prefix: "ssvae-shot-" });
const fx = await writeImageFolder(`${data}/clothes`, { perClass: 150 });
const srv = await startServer({
  args: ["--images", fx.dir, "--color", "--holdout", "0.1"],
  graph: true,
  readyTimeoutMs: 180_000,
});
try {
  const base = srv.url.replace(/\/$/, "");
  const h = { "Content-Type": "application/json", Origin: base };
  // 5 labels per class, the true class from the file's folder.
  const { count } = await labelFromFolders(base, 5);
  const r = await fetch(`${base}/api/training/start`, {
    method: "POST",
    headers: h,
    body: JSON.stringify({ epochs: 40 }),
  });
  if (r.status !== 202) throw new Error(`training: ${r.status}`);
  for (;;) {
    await sleep(1000);
    const s = await (await fetch(`${base}/api/state`)).json();
    if (s.training.status !== "training" && s.training.status !== "stopping") {
      break;
    }
  }
  // An unlabelled image whose channels differ (a tinted one).
  let colourIndex = 0;
  for (let i = count - 1; i >= 0; i--) {
    const s = await (await fetch(`${base}/api/samples/${i}`)).json();
    const b = Array.from(atob(s.original), (c) => c.charCodeAt(0));
    if (s.label === null && b.some((v, k) => k % 3 === 0 && v !== b[k + 1])) {
      colourIndex = i;
      break;
    }
  }
  const browser = await launchBrowser();
  const shots: Array<[number, number, string | undefined]> = [
    [1440, 900, `${ROOT}/docs/screenshot_images.png`],
    [800, 1000, values.narrow],
  ];
  for (const [width, height, path] of shots) {
    if (!path) continue;
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(srv.url);
    await waitForPoints(page);
    await page.waitForSelector('[data-connection="open"]');
    await sleep(1500);
    // Show a colour image in the sample panel.
    await clickPoint(page, colourIndex);
    await page.waitForSelector(`.sample[data-index="${colourIndex}"]`);
    // Clicking scrolled the point into view; a full-page shot starts at the top.
    await page.evaluate(() => scrollTo(0, 0));
    await sleep(1000);
    await page.screenshot({ path, fullPage: true });
    await page.close();
  }
  await browser.close();
} finally {
  await srv.stop();
  await Deno.remove(data, { recursive: true });
}
