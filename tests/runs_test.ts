/** The run records belong to one checkpoint (`<checkpoint>.runs.json`). */

import { assert, assertEquals } from "./assert.ts";
import {
  appendRun,
  readRunsFor,
  type RunRecord,
  runsPathFor,
} from "../lib/training/runs.ts";

function record(run: number, step: number): RunRecord {
  return {
    run,
    timestamp: new Date(0).toISOString(),
    labels: 10,
    labelsPerClass: new Array(10).fill(1),
    config: {},
    epochs: 1,
    targetEpochs: 1,
    totalEpochs: run,
    step,
    outcome: "complete",
    durationSeconds: 1,
    evalSeconds: 1,
    testCount: 1,
    accuracy: { overall: 0.5, perClass: new Array(10).fill(0.5) },
    confusion: [],
  };
}

Deno.test("run records belong to one checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_runs_" });
  try {
    const a = `${dir}/a.ckpt`, b = `${dir}/b.ckpt`;
    await Deno.writeTextFile(a, "a");
    // Own files: a's records are not b's.
    await appendRun(runsPathFor(a), [], record(1, 10));
    assertEquals(runsPathFor(a), `${dir}/a.ckpt.runs.json`);
    assertEquals((await readRunsFor(a, 10)).records.map((r) => r.run), [1]);
    await Deno.writeTextFile(b, "b");
    assertEquals((await readRunsFor(b, 10)).records, []);

    // The legacy shared runs.json: adopted only by a folder's only checkpoint,
    // without records from beyond its step.
    const legacy = `${dir}/old`;
    await Deno.mkdir(legacy);
    const c = `${legacy}/c.ckpt`;
    await Deno.writeTextFile(c, "c");
    await Deno.writeTextFile(
      `${legacy}/runs.json`,
      JSON.stringify([record(1, 10), record(2, 20), record(3, 30)]),
    );
    const read = await readRunsFor(c, 20);
    assertEquals(read.records.map((r) => r.run), [1, 2]);
    assertEquals(read.from, `${legacy}/runs.json`);
    await Deno.writeTextFile(`${legacy}/d.ckpt`, "d");
    assertEquals((await readRunsFor(c, 20)).records, []);
    // Once c has a file of its own, that is what counts.
    await appendRun(runsPathFor(c), read.records, record(3, 25));
    assertEquals((await readRunsFor(c, 25)).records.map((r) => r.run), [
      1,
      2,
      3,
    ]);

    // A fresh model (no checkpoint file) does not take a gone model's records:
    // they are kept aside.
    const e = `${dir}/e.ckpt`;
    await appendRun(runsPathFor(e), [], record(1, 10));
    assertEquals((await readRunsFor(e, null)).records, []);
    const names = [...Deno.readDirSync(dir)].map((x) => x.name);
    assert(!names.includes("e.ckpt.runs.json"));
    assert(names.some((n) => n.startsWith("e.ckpt.runs.json.orphaned-")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
