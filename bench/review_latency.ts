/**
 * `deno task bench:review-latency`: how soon after a label do its
 * predictions and its review queue arrive, through the real graph worker
 * (workers/graph_worker.ts) on the full training pool (MNIST, or
 * `--data-dir`)?
 *
 * For each budget (`--budgets`, default 100 and 300 true labels of random
 * images, seeded), `--runs` times: one label changes (as a key press does),
 * and the time from posting the labels to the worker's `propagation` (the
 * map's new predictions) and to its `check` (the self-check and the review
 * queue; goal ≤ 1 s at 60k) is printed, every run. The graph is cached in
 * artifacts/bench/review-cache (the first run builds it).
 *
 * Flags: --data-dir DIR, --budgets 100,300, --runs 3, --seed 1.
 */

import { parseArgs } from "node:util";
import { loadTrainRawSet } from "../lib/data/source.ts";
import type {
  FromGraphWorker,
  ToGraphWorker,
} from "../lib/protocol/graph_worker.ts";
import { Rng } from "../lib/ssvae/rng.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "data-dir": { type: "string" },
    budgets: { type: "string", default: "100,300" },
    runs: { type: "string", default: "3" },
    seed: { type: "string", default: "1" },
  },
});
const BUDGETS = values.budgets!.split(",").map(Number);
const RUNS = Number(values.runs);

const data = { kind: "idx" as const, dataDir: values["data-dir"] };
const train = await loadTrainRawSet(data);
const n = train.count;

const worker = new Worker(
  new URL("../workers/graph_worker.ts", import.meta.url),
  { type: "module" },
);
const inbox: Array<FromGraphWorker & { at: number }> = [];
let wake = () => {};
worker.onmessage = (e: MessageEvent<FromGraphWorker>) => {
  inbox.push({ ...e.data, at: performance.now() });
  wake();
};
/** The first message (after `from`) that `ok` accepts. */
async function next(
  ok: (m: FromGraphWorker) => boolean,
  from = 0,
): Promise<FromGraphWorker & { at: number }> {
  while (true) {
    const hit = inbox.slice(from).find((m) => {
      if (m.type === "error") throw new Error(m.message);
      return ok(m);
    });
    if (hit) return hit;
    await new Promise<void>((r) => (wake = r));
  }
}
const post = (m: ToGraphWorker) => worker.postMessage(m);

const t0 = performance.now();
post({
  type: "init",
  data,
  cacheDir: "artifacts/bench/review-cache",
  // No quick graph: the latency of the real one is the question.
  quickFrom: Infinity,
});
const ready = await next((m) => m.type === "ready" && !m.provisional);
console.log(
  `${n} images; graph (${ready.type === "ready" && ready.features.kind}${
    ready.type === "ready" && ready.fromCache ? ", cached" : ""
  }) ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const rng = new Rng(Number(values.seed));
let revision = 0;
const all: { budget: number; spread: number[]; review: number[] }[] = [];
for (const budget of BUDGETS) {
  const labels = new Float32Array(n).fill(NaN);
  let count = 0;
  while (count < budget) {
    const i = Math.floor(rng.uniform() * n);
    if (!Number.isNaN(labels[i])) continue;
    labels[i] = train.labels[i];
    count++;
  }
  const row = { budget, spread: [] as number[], review: [] as number[] };
  // One warm-up (the kernel's first graph copy), then the measured runs.
  for (let run = 0; run <= RUNS; run++) {
    // A key press: one more image labelled with its true class.
    let i = 0;
    do i = Math.floor(rng.uniform() * n); while (!Number.isNaN(labels[i]));
    labels[i] = train.labels[i];
    const rev = ++revision;
    const from = inbox.length;
    const sent = performance.now();
    post({
      type: "labels",
      revision: rev,
      labels: labels.slice(),
      exclude: null,
      groups: null,
    });
    const p = await next(
      (m) => m.type === "propagation" && m.revision === rev,
      from,
    );
    const c = await next((m) => m.type === "check" && m.revision === rev, from);
    if (run === 0) continue;
    row.spread.push(p.at - sent);
    row.review.push(c.at - sent);
  }
  all.push(row);
  const fmt = (v: number[]) => v.map((x) => x.toFixed(0)).join(" / ");
  console.log(
    `${budget} labels: label → predictions ${fmt(row.spread)} ms; ` +
      `label → review queue ${fmt(row.review)} ms`,
  );
}
worker.terminate();
const worst = Math.max(...all.flatMap((r) => r.review));
console.log(
  `slowest label → review queue: ${worst.toFixed(0)} ms (goal ≤ 1000 ms)`,
);
