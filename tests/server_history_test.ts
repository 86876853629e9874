/**
 * The label history at the API and in the CLI, on a real server and real
 * files: each write's source and client, an image's history, reverting a
 * past batch after a restart (API and `deno task labels --revert-batch`),
 * the 4xx of bad sources, client ids, limits and batch ids, and a SIGKILL
 * that loses no acknowledged label nor its event.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { json } from "../support/api_client.ts";
import {
  readLabelsCsv,
  runDeno,
  startServer,
} from "../support/server_process.ts";
import type { LabelEvent } from "../lib/protocol/label_events.ts";

const LIMIT = 300;

Deno.test("label history: sources, clients, revert after a restart, bad input", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_history_" });
  try {
    let srv = await startServer({ build: false, dir, limit: LIMIT });
    const put = (path: string, body: unknown, client?: string) =>
      json(
        srv.url,
        "PUT",
        path,
        body,
        client ? { "X-Client-Id": client } : {},
      );
    const history = async (i: number) =>
      (await json(srv.url, "GET", `/api/labels/${i}/history`)).body
        .events as LabelEvent[];

    await t.step(
      "each write is logged with its source and client",
      async () => {
        assertEquals(
          (await put("/api/labels/5", { label: 3, source: "key" }, "web-a"))
            .status,
          200,
        );
        await put(
          "/api/labels/5",
          { label: 8, source: "class-picker" },
          "web-b",
        );
        const batch = await put("/api/labels", {
          changes: [{ index: 5, label: 1 }, { index: 6, label: 1 }],
        }, "web-a");
        assertEquals(batch.status, 200, JSON.stringify(batch.body));
        const del = await json(srv.url, "DELETE", "/api/labels/6", {
          source: "undo",
        });
        assertEquals(del.status, 200);
        const sync = await json(srv.url, "POST", "/api/labels/sync", {
          ops: [{ index: 7, label: 2, clientTime: Date.now() }],
        });
        assertEquals(sync.status, 200);
        const imp = await json(srv.url, "POST", "/api/labels/import", {
          csv: "Serial,label\n9,4\n",
        });
        assertEquals(imp.status, 200, JSON.stringify(imp.body));
        const h5 = await history(5);
        assertEquals(
          h5.map((e) => [e.from, e.to, e.source, e.client]),
          [
            [8, 1, "batch", "web-a"],
            [3, 8, "class-picker", "web-b"],
            [null, 3, "key", "web-a"],
          ],
        );
        assertEquals((await history(6)).map((e) => e.source), [
          "undo",
          "batch",
        ]);
        assertEquals((await history(7))[0].source, "offline-sync");
        assertEquals((await history(9))[0].source, "import");
        assertEquals(await history(10), []);
      },
    );

    await t.step(
      "bad input is a 400 naming it; nothing is written",
      async () => {
        const before = await readLabelsCsv(srv.labelsPath);
        const cases: Array<[string, string, unknown, Record<string, string>?]> =
          [
            ["PUT", "/api/labels/11", { label: 1, source: "seed" }],
            ["PUT", "/api/labels/11", { label: 1, source: 4 }],
            ["PUT", "/api/labels", {
              changes: [{ index: 11, label: 1 }],
              source: "magic",
            }],
            ["PUT", "/api/labels/11", { label: 1 }, { "X-Client-Id": "a b;" }],
            ["PUT", "/api/labels/11", { label: 1 }, {
              "X-Client-Id": "x".repeat(65),
            }],
            ["GET", "/api/labels/5/history?limit=0", undefined],
            ["GET", "/api/labels/5/history?limit=1001", undefined],
            ["GET", "/api/labels/5/history?limit=ten", undefined],
            ["POST", "/api/labels/batches/abc/revert", undefined],
            ["POST", "/api/labels/batches/0/revert", undefined],
          ];
        for (const [method, path, body, headers] of cases) {
          const r = await json(srv.url, method, path, body, headers);
          assertEquals(r.status, 400, `${method} ${path}: ${r.status}`);
          assert(typeof r.body.error === "string" && r.body.error.length > 0);
        }
        const outside = await json(srv.url, "GET", "/api/labels/300/history");
        assertEquals(outside.status, 404, "an index past the data set");
        const missing = await json(
          srv.url,
          "POST",
          "/api/labels/batches/99999/revert",
        );
        assertEquals(missing.status, 404);
        assertMatch(missing.body.error as string, /no batch 99999/);
        assertEquals(await readLabelsCsv(srv.labelsPath), before);
        const limited = await json(
          srv.url,
          "GET",
          "/api/labels/5/history?limit=1",
        );
        assertEquals((limited.body.events as LabelEvent[]).length, 1);
      },
    );

    let boxBatch = 0;
    await t.step(
      "a box batch is reverted after a restart, through the API",
      async () => {
        const box = await put("/api/labels", {
          changes: [20, 21, 22, 23].map((index) => ({ index, label: 6 })),
          source: "batch",
        }, "web-a");
        assertEquals(box.status, 200);
        boxBatch = (await history(20))[0].batch;
        await put("/api/labels/23", { label: 0, source: "key" }); // later fix
        await srv.stop();
        srv = await startServer({ build: false, dir, limit: LIMIT });
        const r = await json(
          srv.url,
          "POST",
          `/api/labels/batches/${boxBatch}/revert`,
          undefined,
          { "X-Client-Id": "web-c" },
        );
        assertEquals(r.status, 200, JSON.stringify(r.body));
        assertEquals(r.body.reverted, 3);
        assertEquals(
          (r.body.conflicts as unknown[]).length,
          1,
          JSON.stringify(r.body),
        );
        const csv = await readLabelsCsv(srv.labelsPath);
        for (const i of [20, 21, 22]) assert(!csv.has(i), `${i} reverted`);
        assertEquals(csv.get(23), 0, "the later fix is kept");
        const h20 = await history(20);
        assertEquals([h20[0].source, h20[0].client], ["revert", "web-c"]);
      },
    );

    await t.step("the CLI shows a history and reverts a batch", async () => {
      await srv.stop();
      const args = [
        "cli/labels.ts",
        "--labels",
        srv.labelsPath,
        "--limit",
        String(LIMIT),
      ];
      const shown = await runDeno([...args, "--history", "5"]);
      assertEquals(shown.code, 0, shown.output);
      const lines = shown.stdout.trim().split("\n");
      assertEquals(lines.length, 3, shown.stdout);
      assertMatch(
        lines[0],
        /#5 \(serial 5\) {2}8 -> 1 {2}batch by web-a {2}batch \d+/,
      );
      const since = await runDeno([
        ...args,
        "--since",
        new Date(Date.now() - 3600_000).toISOString(),
        "--json",
      ]);
      assertEquals(since.code, 0, since.output);
      assert((JSON.parse(since.stdout) as LabelEvent[]).length >= 10);
      // The revert's own batch, reverted in turn: the box is back.
      const revertBatch = (JSON.parse(since.stdout) as LabelEvent[])
        .filter((e) => e.source === "revert").at(-1)!.batch;
      const rv = await runDeno([
        ...args,
        "--revert-batch",
        String(revertBatch),
      ]);
      assertEquals(rv.code, 0, rv.output);
      assertMatch(rv.stdout, /3 of 3 labels reverted/);
      const csv = await readLabelsCsv(srv.labelsPath);
      assertEquals([csv.get(20), csv.get(21), csv.get(22)], [6, 6, 6]);
      const bad = await runDeno([...args, "--revert-batch", "99999"]);
      assertEquals(bad.code, 1);
      assertMatch(bad.output, /no batch 99999/);
      const none = await runDeno(args);
      assertEquals(none.code, 1);
      assertMatch(none.output, /give one of --history/);
    });

    await t.step(
      "SIGKILL loses no acknowledged label nor its event",
      async () => {
        srv = await startServer({ build: false, dir, limit: LIMIT });
        const acked: number[] = [];
        await Promise.all(
          Array.from({ length: 40 }, async (_, k) => {
            const r = await put(`/api/labels/${100 + k}`, {
              label: k % 10,
              source: "key",
            });
            if (r.status === 200) acked.push(100 + k);
          }),
        );
        await srv.kill();
        srv = await startServer({ build: false, dir, limit: LIMIT });
        const csv = await readLabelsCsv(srv.labelsPath);
        for (const i of acked) {
          assertEquals(csv.get(i), (i - 100) % 10);
          const h = await history(i);
          assertEquals(h[0]?.source, "key", `event of ${i}`);
        }
        await srv.stop();
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
