/**
 * `deno task bench:first-minute`: the first minute after a fresh
 * `deno task start` (no label-graph cache, no checkpoint), as a simulated
 * user sees it. From the moment the server listens, the user labels one
 * image a second with its true class:
 *
 * - `suggested`: the top of the default queue (the label graph's, or the
 *   page's margin ranking while no graph serves: what N gives);
 * - `random`: a uniformly random unlabelled image (seeded).
 *
 * After every label it reads the predictions the map shows (`/api/probs`)
 * and prints their accuracy on the unlabelled training images at 5, 10, 15,
 * 20, 30, 45 and 60 labels, per run. The test set plays no part.
 *
 * Flags: --data-dir DIR (IDX files; default the embedded MNIST),
 * --seconds N (labels, default 60), --seeds 1,2,3 (random users; the
 * suggested user runs once per seed too: the build's timing varies).
 */

import { parseArgs } from "node:util";
import { loadTrainRaw } from "../lib/data/mnist.ts";
import { rankAll, topUnlabelled } from "../lib/client/suggestions.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { startServer } from "../support/server_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "data-dir": { type: "string" },
    seconds: { type: "string", default: "60" },
    seeds: { type: "string", default: "1,2,3" },
  },
});
const SECONDS = Number(values.seconds);
const SEEDS = values.seeds!.split(",").map(Number);
const MARKS = [5, 10, 15, 20, 30, 45, 60].filter((m) => m <= SECONDS);

const truth = (await loadTrainRaw({ dataDir: values["data-dir"] })).labels;

async function probs(url: string) {
  const r = await fetch(`${url}/api/probs`);
  if (!r.ok) {
    await r.body?.cancel();
    return null;
  }
  return decodeProbs(await r.arrayBuffer());
}

/** One user's minute: accuracy (%) of the shown predictions at each mark. */
async function run(mode: "suggested" | "random", seed: number) {
  const server = await startServer({
    graph: true,
    args: values["data-dir"] ? ["--data-dir", values["data-dir"]] : [],
  });
  try {
    const n = truth.length;
    const userLabel = new Int8Array(n).fill(-1);
    const rng = new Rng(seed);
    const start = performance.now();
    const out: Record<number, number> = {};
    const sources: string[] = [];
    for (let k = 1; k <= SECONDS; k++) {
      // One label a second, counted from the server's first second.
      const due = start + (k - 1) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      let pick = -1;
      if (mode === "random") {
        do pick = Math.floor(rng.uniform() * n); while (userLabel[pick] >= 0);
      } else {
        const snap = await probs(server.url);
        const order = snap && snap.queue.length > 0
          ? { order: snap.queue }
          : snap
          ? rankAll(snap, "margin")
          : null;
        sources.push(snap && snap.queue.length > 0 ? "g" : "m");
        pick = order
          ? topUnlabelled(order as never, userLabel, 1)[0] ?? -1
          : -1;
        if (pick < 0) {
          do pick = Math.floor(rng.uniform() * n); while (userLabel[pick] >= 0);
        }
      }
      userLabel[pick] = truth[pick];
      const r = await fetch(`${server.url}/api/labels/${pick}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ label: truth[pick] }),
      });
      if (!r.ok) {
        throw new Error(`label ${pick}: ${r.status} ${await r.text()}`);
      }
      await r.body?.cancel();
      if (MARKS.includes(k)) {
        // What the map shows just before the next label is due.
        const until = start + k * 1000 - 50;
        const wait2 = until - performance.now();
        if (wait2 > 0) await new Promise((r2) => setTimeout(r2, wait2));
        const snap = await probs(server.url);
        let right = 0, total = 0;
        if (snap) {
          for (let i = 0; i < n; i++) {
            if (userLabel[i] >= 0) continue;
            let best = 0;
            for (let c = 1; c < snap.classes; c++) {
              if (
                snap.probs[i * snap.classes + c] >
                  snap.probs[i * snap.classes + best]
              ) best = c;
            }
            total++;
            if (best === truth[i]) right++;
          }
        }
        out[k] = total ? (100 * right) / total : NaN;
      }
    }
    return { out, sources: sources.join("") };
  } finally {
    await server.stop();
  }
}

console.log(
  `first minute on ${
    values["data-dir"] ?? "MNIST"
  }: accuracy (%) of the shown predictions on the unlabelled training images, one label a second from the server's first second`,
);
console.log(`labels\t${MARKS.join("\t")}`);
const rows: Record<string, number[][]> = { suggested: [], random: [] };
for (const seed of SEEDS) {
  for (const mode of ["suggested", "random"] as const) {
    const { out, sources } = await run(mode, seed);
    const row = MARKS.map((m) => out[m]);
    rows[mode].push(row);
    console.log(
      `${mode} seed ${seed}\t${row.map((v) => v.toFixed(1)).join("\t")}${
        sources ? `\tqueue: ${sources}` : ""
      }`,
    );
  }
}
for (const mode of ["suggested", "random"] as const) {
  const mean = MARKS.map((_, j) => {
    const v = rows[mode].map((r) => r[j]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    return `${m.toFixed(1)}±${sd.toFixed(1)}`;
  });
  console.log(`${mode} mean\t${mean.join("\t")}`);
}
