/**
 * `deno run -A bench/graph_digest.ts [--count 60000]`: builds the label graph
 * of the first `count` MNIST training images (deskewed, as the dashboard
 * does) and prints digests of one propagation (a label on every 200th image)
 * and of the coarsest coverage clusters. Run it in two checkouts to show that
 * a change to the graph's construction gives the same graph bit for bit.
 */
import { parseArgs } from "node:util";
import { initBackend } from "../lib/ssvae/backend.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { loadTrainRaw } from "../lib/data/mnist.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { count: { type: "string", default: "60000" } },
});
await initBackend();
const train = await loadTrainRaw({ limit: Number(values.count) });
const t0 = performance.now();
const graph = LabelGraph.build(train.raw, train.count, 784, {
  features: "deskewed pixels",
  shape: { rows: 28, cols: 28, channels: 1 },
});
const seconds = (performance.now() - t0) / 1000;
const labels = Float32Array.from(
  { length: train.count },
  (_, i) => i % 200 === 0 ? train.labels[i] : NaN,
);
const p = graph.propagate(labels);

async function digest(a: ArrayBufferView): Promise<string> {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d.slice(0, 6), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
console.log(
  `label graph of ${train.count} images built in ${seconds.toFixed(1)} s; ` +
    `probs ${await digest(p.probs)}, coverage ${await digest(
      graph.coverage.levels[0].assign,
    )}`,
);
