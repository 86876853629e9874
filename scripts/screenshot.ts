/**
 * Retakes docs/screenshot.png: a dashboard on the full 60k with 20 labels per
 * class and two short training runs, in headless Chromium (needs /usr/bin/chromium).
 * `deno run -A scripts/screenshot.ts`
 */
import {
  launchBrowser,
  ROOT,
  sleep,
  startDashboard,
  waitForPoints,
} from "../tests/e2e_support.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
const srv = await startDashboard({ timeout: 120 });
const base = srv.url.replace(/\/$/, "");
const data = await loadTrainImages();
const labels = labelsPerClass(data.labels, 20, 42);
const changes = [...labels.keys()].filter((i) => !Number.isNaN(labels[i])).map((
  i,
) => ({ index: i, label: labels[i] }));
const h = { "Content-Type": "application/json", Origin: base };
let r = await fetch(`${base}/api/labels`, {
  method: "PUT",
  headers: h,
  body: JSON.stringify({ changes }),
});
if (!r.ok) throw new Error(`labelling failed: ${r.status} ${await r.text()}`);
for (const epochs of [4, 3]) {
  r = await fetch(`${base}/api/training/start`, {
    method: "POST",
    headers: h,
    body: JSON.stringify({ epochs }),
  });
  if (r.status !== 202) {
    throw new Error(`training start: ${r.status} ${await r.text()}`);
  }
  for (;;) {
    await sleep(2000);
    const s = await (await fetch(`${base}/api/state`)).json();
    if (s.training.status !== "training" && s.training.status !== "stopping") {
      break;
    }
  }
}
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(srv.url);
await waitForPoints(page);
await sleep(2500);
await page.keyboard.press("n");
await sleep(1500);
await page.screenshot({ path: `${ROOT}docs/screenshot.png`, fullPage: true });
await browser.close();
await srv.stop();
