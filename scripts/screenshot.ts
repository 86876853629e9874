/**
 * Retakes the screenshots in docs/: the dashboard's main states at the three
 * window sizes of issue 10 (1440×900, 1920×1080, 800×1000), in headless
 * Chromium (needs /usr/bin/chromium), on the full 60k with the label graph.
 *
 * States: `first-visit` (fresh model, the guide), `labelling` (100 labels
 * from the Auto queue, 10 epochs trained, predicted-class colours, the next
 * suggestion open), `selection` (a box selection asking "N new, M changed"),
 * `training` (a run in progress: the bar moves inside the epoch). Also
 * docs/screenshot.png (the README's, = labelling at 1440×900). JPEG in
 * docs/screens/<state>-<w>x<h>.jpg.
 *
 * `deno run -A scripts/screenshot.ts` (about 5 minutes). Exits 1 if any
 * file was not written.
 */
import type { Page } from "playwright-core";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { launchBrowser } from "../support/browser.ts";
import { waitForPoints } from "../support/latent_plot.ts";
import { ROOT, startServer } from "../support/server_process.ts";
import { sleep } from "../support/wait.ts";

const SIZES = [[1440, 900], [1920, 1080], [800, 1000]] as const;
const DOCS = `${ROOT}/docs/screens`;
await Deno.mkdir(DOCS, { recursive: true });

const srv = await startServer({ graph: true, readyTimeoutMs: 300_000 });
const base = srv.url.replace(/\/$/, "");
const h = { "Content-Type": "application/json", Origin: base };
const state = async () => await (await fetch(`${base}/api/state`)).json();
const written: string[] = [];
const browser = await launchBrowser();

async function open(w: number, hh: number, guide = false): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: w, height: hh } });
  // A server busy training 60k answers slowly.
  page.setDefaultNavigationTimeout(180_000);
  page.setDefaultTimeout(180_000);
  if (!guide) {
    await page.addInitScript(() =>
      localStorage.setItem("ssvae-guide-dismissed", "1")
    );
  }
  await page.goto(`${base}/`);
  await waitForPoints(page, undefined, 120_000);
  await page.waitForFunction(() =>
    performance.getEntriesByName("latent-painted").length > 0
  );
  return page;
}

/** JPEG at quality 80: a third of the PNG's bytes, no visible loss here. */
async function shot(page: Page, name: string, w: number, hh: number) {
  const path = `${DOCS}/${name}-${w}x${hh}.jpg`;
  await page.screenshot({ path, type: "jpeg", quality: 80 });
  written.push(path);
  console.log("wrote", path);
}

try {
  // Wait for the label graph (the Auto queue and the predictions need it).
  for (;;) {
    const s = await state();
    if (s.graph?.status === "ready") break;
    if (s.graph?.status === "error") throw new Error(s.graph.message);
    await sleep(500);
  }
  for (const [w, hh] of SIZES) {
    const page = await open(w, hh, true);
    await shot(page, "first-visit", w, hh);
    await page.close();
  }

  // 100 labels, each the top of the Auto queue (as a user pressing N).
  const truth = (await loadTrainImages()).labels;
  for (let k = 0; k < 100; k++) {
    const before = (await state()).graph.revision;
    const q =
      decodeProbs(await (await fetch(`${base}/api/probs`)).arrayBuffer())
        .queue;
    const r = await fetch(`${base}/api/labels/${q[0]}`, {
      method: "PUT",
      headers: h,
      body: JSON.stringify({ label: truth[q[0]] }),
    });
    if (!r.ok) throw new Error(`label: ${r.status} ${await r.text()}`);
    while ((await state()).graph.revision <= before) await sleep(100);
  }
  const start = async (epochs: number) => {
    const r = await fetch(`${base}/api/training/start`, {
      method: "POST",
      headers: h,
      body: JSON.stringify({ epochs }),
    });
    if (r.status !== 202) throw new Error(`start: ${r.status}`);
  };
  await start(10);
  while ((await state()).training.status !== "idle") await sleep(1000);

  for (const [w, hh] of SIZES) {
    const page = await open(w, hh);
    await page.click('.segmented button[data-mode="predicted"]');
    await page.locator("#latent-title").click();
    await page.keyboard.press("n");
    await page.waitForSelector(".sample[data-index]:not([data-index=''])");
    await sleep(400);
    await shot(page, "labelling", w, hh);
    if (w === 1440) {
      await page.screenshot({ path: `${ROOT}/docs/screenshot.png` });
      written.push(`${ROOT}/docs/screenshot.png`);
    }
    // A box over the middle of the map, then a key: the question.
    await page.click('[data-drag="select"]');
    const box = (await page.locator("#latent-plot .nsewdrag").first()
      .boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.42, box.y + box.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.58, box.y + box.height * 0.6, {
      steps: 6,
    });
    await page.mouse.up();
    await page.waitForSelector("#selection-panel");
    await page.keyboard.press("7");
    await page.waitForSelector("#confirm-dialog[open]");
    await sleep(300);
    await shot(page, "selection", w, hh);
    await page.close();
  }

  // A run in progress: the pages open first (one at a time), then the run
  // starts; wait for the first batches of its second epoch.
  const pages: Page[] = [];
  for (const [w, hh] of SIZES) pages.push(await open(w, hh));
  await start(5);
  await pages[0].waitForFunction(
    () =>
      /Epoch 2\/5 · batch/.test(
        document.getElementById("progress-text")?.textContent ?? "",
      ),
    null,
    { timeout: 120_000 },
  );
  for (let k = 0; k < SIZES.length; k++) {
    await shot(pages[k], "training", SIZES[k][0], SIZES[k][1]);
  }
  await fetch(`${base}/api/training/stop`, { method: "POST", headers: h });
} finally {
  await browser.close();
  await srv.stop();
}
const missing = [];
for (const f of written) {
  if ((await Deno.stat(f).catch(() => null))?.isFile !== true) missing.push(f);
}
if (written.length !== 4 * SIZES.length + 1 || missing.length > 0) {
  console.error(`screenshots missing: ${missing.join(", ") || "some states"}`);
  Deno.exit(1);
}
