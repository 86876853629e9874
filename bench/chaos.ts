/**
 * The long part of the reliability suite: every probe of support/chaos.ts,
 * with every corruption and several SIGKILL rounds, printed as one table of
 * tried / handled / lost (tests/chaos_test.ts runs the quick part on every
 * `deno task test`). Kill moments are seeded: a run repeats.
 *
 *   deno task bench:chaos [--rounds N] [--seconds S] [--quick]
 */

import { parseArgs } from "node:util";
import {
  type ChaosRow,
  loadFigures,
  makeBaseline,
  probeBadInputs,
  probeCorruptFiles,
  probeKillDuringBuilds,
  probeKillDuringSaves,
  probeKillDuringWrites,
} from "../support/chaos.ts";
import { startServer } from "../support/server_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "10" },
    quick: { type: "boolean", default: false },
  },
});
const rounds = values.quick ? 2 : Number(values.rounds);
const seconds = values.quick ? 4 : Number(values.seconds);
const t0 = performance.now();
const since = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
const rows: ChaosRow[] = [];

{
  const srv = await startServer({ build: false, limit: 300 });
  try {
    rows.push(...await probeBadInputs(srv));
  } finally {
    await srv.stop();
  }
  console.log(`bad inputs and traversal done (${since()})`);
}
{
  const dir = await Deno.makeTempDir({ prefix: "ssvae_chaos_base_" });
  try {
    const { imagesDir, labelled } = await makeBaseline(dir, 20);
    const row = await probeCorruptFiles(dir, imagesDir, labelled, [
      "flip",
      "truncate",
      "garbage",
    ]);
    rows.push(row);
    for (const c of row.cases ?? []) console.log(`  ${c}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(`damaged files done (${since()})`);
}
rows.push(await probeKillDuringWrites(rounds));
console.log(`kills during writes done (${since()})`);
rows.push(await probeKillDuringSaves(rounds));
console.log(`kills during saves done (${since()})`);
rows.push(await probeKillDuringBuilds(Math.max(1, Math.ceil(rounds / 2))));
console.log(`kills during graph builds done (${since()})`);

const idle = await loadFigures(seconds, false);
const busy = await loadFigures(seconds, true);
const load: ChaosRow = {
  area: `load: 16 clients writing labels, ${seconds} s each`,
  tried: idle.writes + busy.writes,
  handled: idle.writes + busy.writes,
  lost: 0,
  notes: [
    `idle ${idle.perSecond.toFixed(0)} writes/s, p95 ${
      idle.p95.toFixed(1)
    } ms, server RSS ${idle.rssMiB[0].toFixed(0)} → ${
      idle.rssMiB[1].toFixed(0)
    } MiB`,
    `during training ${busy.perSecond.toFixed(0)} writes/s, p95 ${
      busy.p95.toFixed(1)
    } ms`,
  ],
};
rows.push(load);

console.log("\n| area | tried | handled | lost | notes |");
console.log("|---|---:|---:|---:|---|");
for (const r of rows) {
  console.log(
    `| ${r.area} | ${r.tried} | ${r.handled} | ${r.lost} | ${
      r.notes.join("; ").replaceAll("|", "/")
    } |`,
  );
}
console.log(`\n(${since()} in all; rounds ${rounds})`);
const lost = rows.reduce((s, r) => s + r.lost, 0);
if (lost > 0) Deno.exitCode = 1;
