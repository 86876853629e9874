/**
 * The label graph's first minute as a user meets it (real server, Chromium,
 * 15,000 images: the size from which an uncached graph starts as a quick
 * graph): the page says so above the fold, under the map's title, and says
 * so again when the full graph takes over, then the line goes.
 */
import { assert } from "./assert.ts";
import { chromiumAvailable, openDashboard } from "../support/browser.ts";
import { waitForPoints } from "../support/latent_plot.ts";
import { QUICK_GRAPH_FROM } from "../lib/protocol/graph_worker.ts";

Deno.test({
  name:
    "the first minute: the graph's state above the fold, then its hand-over",
  ignore: !chromiumAvailable(),
  async fn() {
    await using dash = await openDashboard(
      { limit: QUICK_GRAPH_FROM, graph: true },
      { width: 1440, height: 900 },
    );
    const { server: srv, page, pageErrors } = dash;
    await page.goto(`${srv.url}/`);
    await waitForPoints(page);
    // The full graph takes ~10 s at this size: the quick one serves first.
    const line = page.locator("#graph-status");
    await line.waitFor();
    const text = (await line.textContent())!;
    assert(/quick graph|Building the label graph/.test(text), text);
    const box = (await line.boundingBox())!;
    assert(box.y >= 0 && box.y + box.height <= 900, `above the fold: ${box.y}`);
    // The map's legend stays on the first screen under the line.
    const legend = (await page.locator("#latent-legend").boundingBox())!;
    assert(legend.y + legend.height <= 900, `legend at ${legend.y}`);
    // The hand-over is said where the user looks, and the line goes.
    await line.waitFor({ state: "detached", timeout: 180_000 });
    await page.waitForFunction(() =>
      (document.getElementById("label-toast")?.textContent ?? "").includes(
        "full label graph is ready",
      )
    );
    assert(
      (await page.textContent("#queue-phase"))!.includes("Similar images"),
    );
    assert(pageErrors.length === 0, pageErrors.join("\n"));
  },
});
