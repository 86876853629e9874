/**
 * The quick part of the reliability suite (support/chaos.ts; the long part,
 * with every corruption and SIGKILLs, is `deno task bench:chaos`): bad
 * requests to every route, path traversal, and each kind of file the server
 * reads damaged once. Every case must be handled, none lost.
 */

import { assertEquals } from "./assert.ts";
import {
  makeBaseline,
  probeBadInputs,
  probeCorruptFiles,
} from "../support/chaos.ts";
import { startServer } from "../support/server_process.ts";

Deno.test("bad requests to every route and path traversal: all refused, nothing written", async () => {
  const srv = await startServer({ build: false, limit: 300 });
  try {
    for (const row of await probeBadInputs(srv)) {
      assertEquals(
        {
          area: row.area,
          handled: row.handled,
          lost: row.lost,
          notes: row.notes,
        },
        { area: row.area, handled: row.tried, lost: 0, notes: [] },
      );
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("each kind of file the server reads, damaged: refused by name or reported and not used", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_chaos_base_" });
  try {
    const { imagesDir, labelled } = await makeBaseline(dir, 10);
    const row = await probeCorruptFiles(dir, imagesDir, labelled, ["flip"]);
    assertEquals(row.tried, 8);
    assertEquals({ handled: row.handled, lost: row.lost, notes: row.notes }, {
      handled: 8,
      lost: 0,
      notes: [],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
