/**
 * Retakes docs/screenshot.png (1440×900) and docs/screenshot-narrow.png
 * (800×1000): a dashboard on the full 60k with its label graph, 100 labels
 * taken from the Auto queue, and two short training runs, in headless Chromium
 * (needs /usr/bin/chromium). `deno run -A scripts/screenshot.ts`
 */
import {
  launchBrowser,
  ROOT,
  sleep,
  startDashboard,
  waitForPoints,
} from "../tests/e2e_support.ts";
import { decodeProbs } from "../lib/client/suggestions.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
const srv = await startDashboard({ timeout: 120, graph: true });
const base = srv.url.replace(/\/$/, "");
const data = await loadTrainImages();
const h = { "Content-Type": "application/json", Origin: base };
/** The server's state once the label graph has propagated `revision`. */
async function propagated(revision: number) {
  for (;;) {
    const s = await (await fetch(`${base}/api/state`)).json();
    if (s.graph.status === "ready" && s.graph.revision >= revision) return s;
    if (s.graph.status === "error") throw new Error(s.graph.message);
    await sleep(300);
  }
}
// 100 labels as a user following the Auto queue would give them.
let revision = (await propagated(0)).labelsRevision;
for (let k = 0; k < 100; k++) {
  const probs = decodeProbs(
    await (await fetch(`${base}/api/probs`)).arrayBuffer(),
  );
  const i = probs.queue[0];
  const r = await fetch(`${base}/api/labels/${i}`, {
    method: "PUT",
    headers: h,
    body: JSON.stringify({ label: data.labels[i] }),
  });
  if (!r.ok) throw new Error(`labelling failed: ${r.status} ${await r.text()}`);
  revision = (await propagated(revision + 1)).graph.revision;
}
let r: Response;
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
await page.setViewportSize({ width: 800, height: 1000 });
await sleep(1500);
await page.screenshot({ path: `${ROOT}docs/screenshot-narrow.png` });
await browser.close();
await srv.stop();
