/**
 * Screenshots of the dashboard on a folder of more than ten classes: writes
 * `--per-class` images of each of the ten MNIST digits (folders "zero" …
 * "nine") and the ten Fashion-MNIST classes (20 classes; every third image
 * tinted), starts the dashboard with `--images --color --holdout 0.1`,
 * labels 5 per class, trains `--epochs`, and shoots at 1440×900 and
 * 800×1000 into `--out` (default /tmp/ssvae-many-classes; JPEG, quality 80):
 * the page, the page with the class picker open on a typed name, and the
 * whole page (stats, confusion matrix). README shows
 * docs/screens/many-classes-1440x900.jpg, the picker at 1440×900 (`--docs`
 * writes it there).
 * `deno run -A scripts/screenshot_many_classes.ts [--out DIR] [--per-class N] [--epochs N] [--docs]`
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { launchBrowser } from "../support/browser.ts";
import {
  clickPoint,
  isolatedPoint,
  waitForPoints,
} from "../support/latent_plot.ts";
import { ROOT, startServer } from "../support/server_process.ts";
import { sleep } from "../support/wait.ts";
import { labelFromFolders } from "../support/image_fixtures.ts";
import { writeManyClassFolder } from "../support/many_class_fixtures.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "/tmp/ssvae-many-classes" },
    "per-class": { type: "string", default: "100" },
    epochs: { type: "string", default: "30" },
    docs: { type: "boolean", default: false },
  },
});

/** JPEG at quality 80, as scripts/screenshot.ts: a third of the PNG's bytes. */
async function shoot(page: Page, path: string, fullPage = false) {
  await page.screenshot({ path, type: "jpeg", quality: 80, fullPage });
}
const out = values.out as string;
await Deno.mkdir(out, { recursive: true });
const data = await Deno.makeTempDir({ prefix: "ssvae-shot-many-" });
const fx = await writeManyClassFolder(`${data}/mixed`, {
  fashion: [...Array(10).keys()],
  perClass: Number(values["per-class"]),
});
const srv = await startServer({
  args: ["--images", fx.dir, "--color", "--holdout", "0.1"],
  graph: true,
  readyTimeoutMs: 300_000,
});
try {
  const base = srv.url.replace(/\/$/, "");
  const h = { "Content-Type": "application/json", Origin: base };
  // 5 labels per class, the true class from the file's folder.
  const { count, classes } = await labelFromFolders(base, 5);
  console.log(`${count} images, ${classes.length} classes`);
  // Train once the label graph has propagated these labels: its soft labels
  // train the model and its test predictions are what the run scores.
  for (;;) {
    const s = await (await fetch(`${base}/api/state`)).json();
    if (s.graph.status === "error") throw new Error(s.graph.message);
    if (s.graph.status === "ready" && s.graph.revision >= s.labelsRevision) {
      break;
    }
    await sleep(500);
  }
  const r = await fetch(`${base}/api/training/start`, {
    method: "POST",
    headers: h,
    body: JSON.stringify({ epochs: Number(values.epochs) }),
  });
  if (r.status !== 202) throw new Error(`training: ${r.status}`);
  for (;;) {
    await sleep(1000);
    const s = await (await fetch(`${base}/api/state`)).json();
    if (s.training.status !== "training" && s.training.status !== "stopping") {
      break;
    }
  }
  const browser = await launchBrowser();
  for (const [width, height] of [[1440, 900], [800, 1000]]) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(srv.url);
    await waitForPoints(page);
    await page.waitForSelector('[data-connection="open"]');
    await page.waitForSelector("#confusion-plot[data-run]");
    const index = await isolatedPoint(page);
    await clickPoint(page, Math.max(0, index));
    await page.waitForSelector(".sample[data-index]");
    await page.evaluate(() => scrollTo(0, 0));
    await sleep(800);
    await shoot(page, `${out}/page-${width}x${height}.jpg`);
    // The picker, opened with `/` and a typed name.
    await page.keyboard.press("/");
    await page.keyboard.type("s");
    await sleep(300);
    await shoot(page, `${out}/picker-${width}x${height}.jpg`);
    if (values.docs && width === 1440) {
      await shoot(page, `${ROOT}/docs/screens/many-classes-1440x900.jpg`);
    }
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
    await shoot(page, `${out}/full-${width}x${height}.jpg`, true);
    await page.close();
  }
  await browser.close();
  console.log(`screenshots in ${out}`);
} finally {
  await srv.stop();
  await Deno.remove(data, { recursive: true });
}
