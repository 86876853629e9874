/**
 * Durability: SIGKILL the server in the middle of a storm of label writes,
 * restart it on the same files, and check that every write the server
 * acknowledged (a 200 reply) survived, and that the CSV is still valid.
 */

import { assert, assertEquals } from "./assert.ts";
import { json } from "../support/api_client.ts";
import { readLabelsCsv, startServer } from "../support/server_process.ts";
import { waitUntil } from "../support/wait.ts";

Deno.test(
  "SIGKILL during a label storm loses no acknowledged label",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ssvae_crash_" });
    const labelsPath = `${dir}/labels.csv`;
    // Pre-labelled rows the storm deletes (deletes must be durable too).
    const pre = ["Serial,label"];
    for (let i = 1000; i < 1100; i++) pre.push(`${i},${i % 10}`);
    await Deno.writeTextFile(labelsPath, pre.join("\n") + "\n");

    const srv = await startServer({
      build: false,
      dir,
      limit: 2000,
      labelsPath,
    });
    const acked = new Map<number, number | null>();
    let stop = false;
    let errors = 0;
    const client = async (k: number) => {
      // Each client owns distinct indices, so "last acknowledged" is unambiguous.
      for (let n = 0; !stop; n++) {
        const index = k + 16 * n;
        if (index >= 2000) break;
        const del = index >= 1000 && index < 1100;
        try {
          const res = await fetch(`${srv.url}/api/labels/${index}`, {
            method: del ? "DELETE" : "PUT",
            headers: { "content-type": "application/json" },
            body: del ? undefined : JSON.stringify({ label: (index * 7) % 10 }),
          });
          const body = await res.json();
          if (res.status === 200 && body.applied) {
            acked.set(index, del ? null : (index * 7) % 10);
          }
        } catch {
          errors++; // in flight when the server died: not acknowledged
          break;
        }
      }
    };
    const clients = Array.from({ length: 16 }, (_, k) => client(k));
    // Let the storm run until 300 writes are acknowledged, then kill
    // without warning, in the middle of the writes still in flight.
    await waitUntil("300 acknowledged writes", () => acked.size >= 300, {
      intervalMs: 5,
    });
    await srv.kill();
    stop = true;
    await Promise.all(clients);
    assert(acked.size >= 300, `only ${acked.size} writes acknowledged`);

    // The file parses (no torn write), with every acknowledged change.
    const csv = await readLabelsCsv(labelsPath);
    for (const [index, label] of acked) {
      if (label === null) assert(!csv.has(index), `deleted ${index} came back`);
      else assertEquals(csv.get(index), label, `label of ${index}`);
    }

    const again = await startServer({
      build: false,
      dir,
      limit: 2000,
      labelsPath,
    });
    try {
      const checks = [...acked].slice(0, 60);
      for (const [index, label] of checks) {
        const r = await json(again.url, "GET", `/api/labels/${index}`);
        assertEquals(r.body.label, label, `after restart, label of ${index}`);
      }
      const state = await json(again.url, "GET", "/api/state");
      assertEquals(state.body.labelled, csv.size);
      // No temp files left behind by the killed writer would break a reopen.
      const names = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert(names.includes("labels.csv"));
    } finally {
      await again.stop();
      await Deno.remove(dir, { recursive: true });
    }
    console.log(
      `  ${acked.size} acknowledged writes survived (${errors} cut off)`,
    );
  },
);
