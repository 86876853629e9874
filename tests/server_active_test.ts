/**
 * The active-learning API against a real server process (2000 images, temp
 * files, test hooks for the write counter): batch labels are one CSV write and
 * one event, undo restores the CSV, import is all-or-nothing with the bad row
 * named, export, probabilities, thumbnails, and the per-run evaluation
 * (event, <checkpoint>.runs.json, kept across a restart, one per checkpoint).
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  connectWs,
  json,
  type WsClient,
  type WsMessage,
} from "../support/api_client.ts";
import { readLabelsCsv, startServer } from "../support/server_process.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";

const LIMIT = 2000;
type Change = { index: number; label: number | null };

function labelEvents(ws: WsClient, after: number) {
  return ws.messages.filter((m) =>
    m.type === "labels_changed" && (m.seq as number) > after
  );
}

/** An image no step labels: its label is the sentinel of {@linkcode labelEventsUntilSentinel}. */
const SENTINEL = 1001;

/**
 * The `labels_changed` events after `after`, up to one that a label write
 * made now causes: events go out in order, so every event an earlier request
 * caused (even a slow one) has come before it. The write is undone before
 * returning, and its events are not in the list.
 */
async function labelEventsUntilSentinel(
  ws: WsClient,
  base: string,
  after: number,
): Promise<WsMessage[]> {
  const changedTo = (label: number | null) => (m: WsMessage) =>
    m.type === "labels_changed" && (m.seq as number) > after &&
    (m.changes as Change[]).some((c) =>
      c.index === SENTINEL && c.label === label
    );
  assertEquals(
    (await json(base, "PUT", `/api/labels/${SENTINEL}`, { label: 1 })).status,
    200,
  );
  const mark = await ws.waitFor(changedTo(1));
  // A change of another image in the same event would be a late event of
  // a request before: it must have had one of its own, before this one.
  assertEquals(mark.changes, [{ index: SENTINEL, label: 1 }]);
  const events = labelEvents(ws, after).filter((m) =>
    (m.seq as number) < (mark.seq as number)
  );
  assertEquals(
    (await json(base, "DELETE", `/api/labels/${SENTINEL}`)).status,
    200,
  );
  await ws.waitFor(changedTo(null));
  return events;
}

Deno.test("batch labels, undo, import and export", async (t) => {
  const srv = await startServer({
    build: false,
    limit: LIMIT,
    testHooks: true,
  });
  const { url: base } = srv;
  const ws = await connectWs(srv.wsUrl);
  const writes = async () =>
    (await json(base, "GET", "/api/state")).body.labelsWrites as number;
  try {
    await ws.waitFor((m) => m.type === "hello");

    // The steps run on one server, in order: each starts from the labels
    // the one before left (the expected counts and rows say so).
    await t.step(
      "1,000 labels in one batch: one CSV write, one event",
      async () => {
        const w0 = await writes();
        const seq0 = ws.lastSeq();
        const ino0 = (await Deno.stat(srv.labelsPath)).ino;
        const changes: Change[] = Array.from({ length: 1000 }, (_, k) => ({
          index: 2 * k,
          label: k % 10,
        }));
        const t0 = performance.now();
        const r = await json(base, "PUT", "/api/labels", { changes });
        const ms = performance.now() - t0;
        assertEquals(r.status, 200, JSON.stringify(r.body));
        assertEquals(r.body.applied, 1000);
        assertEquals(r.body.changed, 1000);
        assertEquals(r.body.stale, []);
        assertEquals((r.body.counts as { labelled: number }).labelled, 1000);
        assertEquals(await writes(), w0 + 1, "exactly one labels.csv write");
        // Replaced once by rename: a new inode.
        assert((await Deno.stat(srv.labelsPath)).ino !== ino0, "rewritten");
        const csv = await readLabelsCsv(srv.labelsPath);
        assertEquals(csv.size, 1000);
        assertEquals(csv.get(1998), 9);
        const events = await labelEventsUntilSentinel(ws, base, seq0);
        assertEquals(events.length, 1, "one labels_changed event");
        assertEquals((events[0].changes as Change[]).length, 1000);
        console.log(`batch of 1,000 labels: ${ms.toFixed(0)} ms round trip`);
      },
    );

    await t.step(
      "a bad batch is refused whole: nothing written, no event",
      async () => {
        const before = await Deno.readTextFile(srv.labelsPath);
        const w0 = await writes();
        const seq0 = ws.lastSeq();
        const bad: Array<[unknown, number, RegExp]> = [
          [
            { changes: [{ index: 1, label: 3 }, { index: 1, label: 4 }] },
            400,
            /twice/,
          ],
          [
            { changes: [{ index: 1, label: 3 }, { index: LIMIT, label: 4 }] },
            400,
            /changes\[1\]: index 2000/,
          ],
          [
            { changes: [{ index: 1, label: 3 }, { index: 5, label: 11 }] },
            400,
            /changes\[1\]: label 11/,
          ],
          [{ changes: [] }, 400, /empty/],
          [{ changes: "all" }, 400, /array/],
          [
            { changes: [{ index: 1, label: 3 }], extra: 1 },
            400,
            /unknown field/,
          ],
          [
            {
              changes: Array.from(
                { length: 20_001 },
                () => ({ index: 1, label: 1 }),
              ),
            },
            413,
            /over|at most/,
          ],
        ];
        for (const [body, status, re] of bad) {
          const r = await json(base, "PUT", "/api/labels", body);
          assertEquals(r.status, status, JSON.stringify(r.body));
          assertMatch(r.body.error as string, re);
        }
        // Cross-site writes are refused like every other write.
        const r = await json(base, "PUT", "/api/labels", {
          changes: [{ index: 1, label: 3 }],
        }, { Origin: "http://evil.example" });
        assertEquals(r.status, 403);
        assertEquals(await Deno.readTextFile(srv.labelsPath), before);
        assertEquals(await writes(), w0);
        assertEquals(await labelEventsUntilSentinel(ws, base, seq0), []);
      },
    );

    await t.step("undo restores the CSV byte for byte (batch)", async () => {
      const before = await Deno.readTextFile(srv.labelsPath);
      const current = await readLabelsCsv(srv.labelsPath);
      // One action over labelled and unlabelled images, some removals.
      const action: Change[] = Array.from({ length: 50 }, (_, k) => ({
        index: 10 + k,
        label: k % 7 === 0 ? null : 7,
      }));
      const undo: Change[] = action.map((c) => ({
        index: c.index,
        label: current.get(c.index) ?? null,
      }));
      let r = await json(base, "PUT", "/api/labels", { changes: action });
      assertEquals(r.status, 200);
      assert((await Deno.readTextFile(srv.labelsPath)) !== before);
      const after = await Deno.readTextFile(srv.labelsPath);
      r = await json(base, "PUT", "/api/labels", { changes: undo });
      assertEquals(r.status, 200);
      assertEquals(await Deno.readTextFile(srv.labelsPath), before, "undone");
      // Redo = the action again.
      r = await json(base, "PUT", "/api/labels", { changes: action });
      assertEquals(await Deno.readTextFile(srv.labelsPath), after, "redone");
      r = await json(base, "PUT", "/api/labels", { changes: undo });
      assertEquals(await Deno.readTextFile(srv.labelsPath), before);
    });

    await t.step("an older clientTime loses per index in a batch", async () => {
      const now = Date.now();
      await json(base, "PUT", "/api/labels/3", { label: 5, clientTime: now });
      const r = await json(base, "PUT", "/api/labels", {
        changes: [{ index: 3, label: 6 }, { index: 5, label: 6 }],
        clientTime: now - 10_000,
      });
      assertEquals(r.body.applied, 1);
      assertEquals(r.body.stale, [{ index: 3, label: 5 }]);
      const csv = await readLabelsCsv(srv.labelsPath);
      assertEquals([csv.get(3), csv.get(5)], [5, 6]);
    });

    await t.step(
      "an import with one bad row changes nothing and names the row",
      async () => {
        // Label events are batched: the events of the steps before may still
        // be on their way; every one of them comes before the sentinel's.
        await labelEventsUntilSentinel(ws, base, ws.lastSeq());
        const before = await Deno.readTextFile(srv.labelsPath);
        const w0 = await writes();
        const seq0 = ws.lastSeq();
        const csv = "Serial,label\n100,1\n101,2\n102,seven\n103,3\n";
        for (const dryRun of [true, false]) {
          const r = await json(base, "POST", "/api/labels/import", {
            csv,
            dryRun,
            name: "batch.csv",
          });
          assertEquals(r.status, 400);
          assertMatch(
            r.body.error as string,
            /batch\.csv: line 4: label must be an integer 0-9, got "seven"/,
          );
          assertEquals(r.body.line, 4);
          assertEquals(r.body.value, "seven");
        }
        const r = await json(base, "POST", "/api/labels/import", {
          csv: "Serial,label\n1,1\n99999,2\n",
        });
        assertEquals(r.status, 400);
        assertMatch(r.body.error as string, /line 3: Serial must be/);
        assertEquals(await Deno.readTextFile(srv.labelsPath), before);
        assertEquals(await writes(), w0);
        assertEquals(await labelEventsUntilSentinel(ws, base, seq0), []);
      },
    );

    await t.step(
      "import: preview, then merge or replace in one write",
      async () => {
        const current = await readLabelsCsv(srv.labelsPath);
        // 0 is labelled 0: change it; 1 is unlabelled: add it.
        assertEquals([current.get(0), current.has(1)], [0, false]);
        const csv = "Serial,label\n0,9\n1,4\n2,1\n";
        const before = await Deno.readTextFile(srv.labelsPath);
        const w0 = await writes();
        const preview = await json(base, "POST", "/api/labels/import", {
          csv,
          mode: "merge",
          dryRun: true,
        });
        assertEquals(preview.status, 200);
        assertEquals(
          [
            preview.body.added,
            preview.body.changed,
            preview.body.removed,
            preview.body.unchanged,
          ],
          [1, 1, 0, 1],
        );
        assertEquals((preview.body.sample as { changed: unknown[] }).changed, [
          { index: 0, before: 0, after: 9 },
        ]);
        assertEquals(await Deno.readTextFile(srv.labelsPath), before, "dry");
        assertEquals(await writes(), w0);
        // The labels move on after the preview: the apply is refused.
        const moved = ws.lastSeq();
        await json(base, "PUT", "/api/labels/1999", { label: 1 });
        // Its event first: it goes out a tick after the answer, and one that
        // arrived after seq0 below was counted as the import's.
        await ws.waitFor((m) =>
          m.type === "labels_changed" && (m.seq as number) > moved &&
          (m.changes as Change[]).some((c) => c.index === 1999)
        );
        let r = await json(base, "POST", "/api/labels/import", {
          csv,
          mode: "merge",
          ifRevision: preview.body.labelsRevision,
        });
        assertEquals(r.status, 409);
        const w1 = await writes();
        const seq0 = ws.lastSeq();
        r = await json(base, "POST", "/api/labels/import", {
          csv,
          mode: "merge",
        });
        assertEquals(r.status, 200);
        assertEquals(await writes(), w1 + 1);
        let after = await readLabelsCsv(srv.labelsPath);
        assertEquals([after.get(0), after.get(1), after.get(2)], [9, 4, 1]);
        assertEquals(after.size, current.size + 2);
        assertEquals(
          (await labelEventsUntilSentinel(ws, base, seq0)).length,
          1,
          "one labels_changed event",
        );

        // Replace: exactly the file's labels afterwards.
        r = await json(base, "POST", "/api/labels/import", {
          csv: "Serial,label\n7,7\n8,8\n",
          mode: "replace",
          dryRun: true,
        });
        // 8 is labelled 4 (changed), 7 is not (added), the rest removed.
        assertEquals(
          [r.body.added, r.body.changed, r.body.removed],
          [1, 1, after.size - 1],
        );
        r = await json(base, "POST", "/api/labels/import", {
          csv: "Serial,label\n7,7\n8,8\n",
          mode: "replace",
        });
        assertEquals(r.status, 200);
        after = await readLabelsCsv(srv.labelsPath);
        assertEquals([...after], [[7, 7], [8, 8]]);
        // Cross-site imports are refused.
        r = await json(base, "POST", "/api/labels/import", {
          csv: "Serial,label\n",
          mode: "replace",
        }, { Origin: "http://evil.example" });
        assertEquals(r.status, 403);
      },
    );

    await t.step("export as CSV and JSON downloads", async () => {
      let res = await fetch(`${base}/api/labels/export?format=csv`);
      assertEquals(res.status, 200);
      assertMatch(
        res.headers.get("content-disposition")!,
        /^attachment; filename="labels-\d{8}-\d{6}\.csv"$/,
      );
      assertMatch(res.headers.get("content-type")!, /^text\/csv/);
      assertEquals(await res.text(), await Deno.readTextFile(srv.labelsPath));
      res = await fetch(`${base}/api/labels/export?format=json`);
      assertMatch(res.headers.get("content-disposition")!, /\.json"$/);
      const body = await res.json();
      assertEquals(body.labels, [{ index: 7, label: 7 }, {
        index: 8,
        label: 8,
      }]);
      assertEquals(body.count, LIMIT);
      res = await fetch(`${base}/api/labels/export?format=xml`);
      assertEquals(res.status, 400);
      await res.body?.cancel();
    });

    await t.step("probabilities and thumbnails", async () => {
      const res = await fetch(`${base}/api/probs`);
      assertEquals(res.status, 200);
      const etag = res.headers.get("etag")!;
      assertMatch(etag, /^"[0-9a-f]{8}-p\d+"$/);
      const p = decodeProbs(await res.arrayBuffer());
      assertEquals([p.count, p.classes], [LIMIT, 10]);
      let sum = 0;
      for (let k = 0; k < 10; k++) sum += p.probs[k];
      assert(Math.abs(sum - 1) < 0.03, `row sums to ~1 (${sum})`);
      const again = await fetch(`${base}/api/probs`, {
        headers: { "If-None-Match": etag },
      });
      assertEquals(again.status, 304);
      await again.body?.cancel();

      const data = await loadTrainImages({ limit: 50 });
      const t = await fetch(`${base}/api/thumbnails?indices=42,0,7`);
      assertEquals(t.status, 200);
      assertEquals(t.headers.get("x-image-rows"), "28");
      const bytes = new Uint8Array(await t.arrayBuffer());
      assertEquals(bytes.length, 3 * 784);
      assertEquals(
        bytes.subarray(0, 784),
        data.raw.subarray(42 * 784, 43 * 784),
      );
      assertEquals(bytes.subarray(784, 1568), data.raw.subarray(0, 784));
      for (
        const q of [
          "",
          "?indices=",
          "?indices=1,x",
          `?indices=${LIMIT}`,
          `?indices=${Array.from({ length: 101 }, (_, i) => i).join(",")}`,
        ]
      ) {
        const r = await fetch(`${base}/api/thumbnails${q}`);
        assert(r.status === 400 || r.status === 404, `${q}: ${r.status}`);
        await r.body?.cancel();
      }
    });
  } finally {
    await ws.close();
    await srv.stop();
  }
});

Deno.test(
  "each run is scored on the test set: event, runs.json, /api/evaluations",
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ssvae_eval_" });
    const weightsPath = `${dir}/ck/ssvae.ckpt`;
    let srv = await startServer({
      build: false,
      dir,
      limit: LIMIT,
      weightsPath,
    });
    let ws = await connectWs(srv.wsUrl);
    try {
      await ws.waitFor((m) => m.type === "hello");
      let r = await json(srv.url, "GET", "/api/evaluations");
      assertEquals(r.body, { runs: [] });

      // One story, in order: the second run continues the first's
      // checkpoint, and the other checkpoint is compared with both.

      await t.step("a 1-epoch run posts its evaluation", async () => {
        const data = await loadTrainImages({ limit: 200 });
        await json(srv.url, "PUT", "/api/labels", {
          changes: Array.from({ length: 200 }, (_, i) => ({
            index: i,
            label: data.labels[i],
          })),
        });
        r = await json(srv.url, "POST", "/api/training/start", { epochs: 1 });
        assertEquals(r.status, 202);
        const ev = await ws.waitFor((m) => m.type === "evaluation", 120_000);
        const done = await ws.waitFor(
          (m) => m.type === "training_complete",
          120_000,
        );
        assert((ev.seq as number) < (done.seq as number), "before complete");
        assertEquals(ev.saved, true);
        const rec = ev.record as Record<string, unknown> & {
          accuracy: { overall: number; perClass: number[] };
          confusion: number[][];
        };
        assertEquals(rec.run, 1);
        assertEquals(rec.labels, 200);
        assertEquals(rec.epochs, 1);
        assertEquals(rec.testCount, 10_000);
        assertEquals(rec.accuracy.perClass.length, 10);
        const total = rec.confusion.flat().reduce((a, b) => a + b, 0);
        assertEquals(total, 10_000);
        const diag = rec.confusion.reduce((a, row, i) => a + row[i], 0);
        assert(Math.abs(diag / total - rec.accuracy.overall) < 1e-9);
        assert(rec.accuracy.overall >= 0 && rec.accuracy.overall <= 1);
        assertEquals(
          (rec.config as { batch_size: number }).batch_size > 0,
          true,
        );
        assert(typeof rec.durationSeconds === "number");
        assertMatch(rec.timestamp as string, /^\d{4}-\d\d-\d\dT/);
        // The records belong to this checkpoint: <checkpoint>.runs.json.
        const file = JSON.parse(
          await Deno.readTextFile(`${dir}/ck/ssvae.ckpt.runs.json`),
        );
        assertEquals(file, [rec]);
        r = await json(srv.url, "GET", "/api/evaluations");
        assertEquals(r.body, { runs: [rec] });
      });

      await t.step("a second run appends; a restart keeps them", async () => {
        r = await json(srv.url, "POST", "/api/training/start", { epochs: 1 });
        assertEquals(r.status, 202);
        const ev = await ws.waitFor(
          (m) =>
            m.type === "evaluation" && (m.record as { run: number }).run === 2,
          120_000,
        );
        await ws.waitFor(
          (m) =>
            m.type === "training_complete" &&
            (m.seq as number) > (ev.seq as number),
          120_000,
        );
        await ws.close();
        await srv.stop();
        srv = await startServer({
          build: false,
          dir,
          limit: LIMIT,
          weightsPath,
        });
        ws = await connectWs(srv.wsUrl);
        r = await json(srv.url, "GET", "/api/evaluations");
        const runs = r.body.runs as Array<{ run: number; step: number }>;
        assertEquals(runs.map((x) => x.run), [1, 2]);
        assert(runs[1].step > runs[0].step);
      });

      await t.step(
        "another checkpoint in the folder has a history of its own",
        async () => {
          await ws.close();
          await srv.stop();
          const other = `${dir}/ck/other.ckpt`;
          srv = await startServer({
            build: false,
            dir,
            limit: LIMIT,
            weightsPath: other,
          });
          ws = await connectWs(srv.wsUrl);
          assertEquals(
            (await json(srv.url, "GET", "/api/evaluations")).body,
            { runs: [] },
          );
          r = await json(srv.url, "POST", "/api/training/start", {
            epochs: 1,
          });
          assertEquals(r.status, 202);
          const ev = await ws.waitFor((m) => m.type === "evaluation", 120_000);
          assertEquals((ev.record as { run: number }).run, 1);
          const mine = JSON.parse(
            await Deno.readTextFile(`${other}.runs.json`),
          ) as unknown[];
          assertEquals(mine.length, 1);
          const first = JSON.parse(
            await Deno.readTextFile(`${dir}/ck/ssvae.ckpt.runs.json`),
          ) as unknown[];
          assertEquals(first.length, 2);
        },
      );
    } finally {
      await ws.close();
      await srv.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
