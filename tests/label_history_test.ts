/**
 * The label history (lib/labels/label_history.ts) with the store that
 * writes it: every write's events with their source and client, a log that
 * is behind the CSV brought level, a corrupt log moved aside and reseeded,
 * a lost labels.csv rebuilt from the log, and reverting a past batch.
 */
import { assert, assertEquals } from "./assert.ts";
import { historyPath, LabelHistory } from "../lib/labels/label_history.ts";
import { LabelStore } from "../lib/labels/labels_store.ts";
import { planRevert } from "../lib/labels/revert_batch.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "history_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function open(path: string, warnings: string[] = [], count = 20) {
  return await LabelStore.open(path, count, {}, {
    history: true,
    warn: (l) => warnings.push(l),
  });
}

Deno.test("every write is one batch of events: old and new label, source, client", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const store = await open(path);
    await store.set(3, 7, { source: "key", client: "web-a" });
    await store.set(3, 1, { source: "class-picker", client: "web-b" });
    await store.setMany([{ index: 4, label: 2 }, { index: 5, label: 2 }], {
      source: "batch",
      client: "web-a",
    });
    await store.delete(3, { source: "undo" });
    // A write that changes nothing logs nothing.
    await store.set(4, 2, { source: "key" });
    const log = store.history!;
    const h3 = log.forSerial(3, 10);
    assertEquals(
      h3.map((e) => [e.from, e.to, e.source, e.client]),
      [
        [1, null, "undo", null],
        [7, 1, "class-picker", "web-b"],
        [null, 7, "key", "web-a"],
      ],
    );
    const batch = log.batch(h3[1].batch + 1);
    assertEquals(batch.map((e) => [e.index, e.to]), [[4, 2], [5, 2]]);
    assertEquals(log.size, 5);
    assert(log.since(Date.now() - 60_000, 100).length === 5);
    assertEquals(log.since(Date.now() + 60_000, 100), []);
    // Each image's label knows the write that set it (the self-check holds
    // one write's labels out together), also after a reopen.
    assertEquals(store.batchOf[4], batch[0].batch);
    assertEquals(store.batchOf[5], batch[0].batch);
    assertEquals(store.batchOf[0], -1);
    // Batch ids go on after a reopen.
    const last = store.lastBatch;
    store.close();
    const again = await open(path);
    assertEquals(again.batchOf[5], batch[0].batch);
    await again.set(9, 9, { source: "key" });
    assertEquals(again.lastBatch, last + 1);
    again.close();
  });
});

Deno.test("queued writes that share one CSV write keep their own batches", async () => {
  await withTempDir(async (dir) => {
    const store = await open(`${dir}/labels.csv`);
    await Promise.all([
      store.set(1, 1, { source: "key" }),
      store.set(1, 2, { source: "key" }),
      store.set(2, 3, { source: "offline-sync" }),
    ]);
    assertEquals(store.writeCount, 2, "the header, then one write");
    const events = store.history!.since(0, 10);
    assertEquals(
      events.map((e) => [e.index, e.from, e.to, e.source]),
      [[1, null, 1, "key"], [1, 1, 2, "key"], [2, null, 3, "offline-sync"]],
    );
    assertEquals(new Set(events.map((e) => e.batch)).size, 3);
    store.close();
  });
});

Deno.test("a log behind labels.csv (an edit by hand) is brought level, replaying it gives the CSV", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    // A labels.csv from before the log: its labels seed the log.
    await Deno.writeTextFile(path, "Serial,label\n2,5\n7,1\n");
    const store = await open(path);
    const seed = store.history!.since(0, 10);
    assertEquals(seed.map((e) => [e.serial, e.to, e.source]), [
      [2, 5, "seed"],
      [7, 1, "seed"],
    ]);
    // Labels found in the CSV are no write of the user's: no batch.
    assertEquals([store.batchOf[2], store.batchOf[7]], [-1, -1]);
    await store.set(3, 3, { source: "key" });
    store.close();
    // Edited by hand while the dashboard was stopped.
    await Deno.writeTextFile(path, "Serial,label\n2,6\n3,3\n");
    const warnings: string[] = [];
    const reopened = await open(path, warnings);
    const recovered = reopened.history!.since(0, 100).filter((e) =>
      e.source === "recovered"
    );
    assertEquals(recovered.map((e) => [e.serial, e.from, e.to]), [
      [2, 5, 6],
      [7, 1, null],
    ]);
    assert(warnings.some((w) => w.includes('"recovered"')), warnings.join());
    assertEquals(
      [...reopened.history!.stateBySerial()].filter(([, l]) => l !== null)
        .sort((a, b) => a[0] - b[0]),
      [...reopened.bySerial()].sort((a, b) => a[0] - b[0]),
    );
    reopened.close();
  });
});

Deno.test("a corrupt log is moved aside with a warning and a new one seeded; labels.csv untouched", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const csv = "Serial,label\n1,4\n";
    await Deno.writeTextFile(path, csv);
    await Deno.writeTextFile(
      historyPath(path),
      "this is not a database, it was overwritten".repeat(200),
    );
    const warnings: string[] = [];
    const store = await open(path, warnings);
    assertEquals(warnings.length, 1, warnings.join("\n"));
    assert(/could not be read .*moved to .*corrupt-/.test(warnings[0]));
    assert(store.historyWarning?.includes("moved to"));
    assertEquals(store.get(1), 4);
    assertEquals(await Deno.readTextFile(path), csv);
    const aside = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.includes(".corrupt-")
    );
    assertEquals(aside.length, 1);
    assertEquals(store.history!.since(0, 10).map((e) => e.source), ["seed"]);
    // Labels still save, and are logged.
    await store.set(2, 2, { source: "key" });
    assertEquals(store.history!.size, 2);
    store.close();
  });
});

Deno.test("a lost labels.csv is rebuilt from the log", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const store = await open(path);
    await store.setMany([
      { index: 0, label: 3 },
      { index: 11, label: 8 },
      { index: 12, label: 1 },
    ], { source: "batch" });
    await store.delete(12, { source: "key" });
    const before = await Deno.readTextFile(path);
    store.close();
    await Deno.remove(path);
    const warnings: string[] = [];
    const rebuilt = await open(path, warnings);
    assert(
      warnings.some((w) => w.includes("rebuilt from the label history")),
      warnings.join(),
    );
    assertEquals(await Deno.readTextFile(path), before);
    assertEquals(rebuilt.get(11), 8);
    // Nothing to reconcile: the rebuilt CSV is the log's state.
    assertEquals(
      rebuilt.history!.since(0, 100).filter((e) => e.source === "recovered"),
      [],
    );
    rebuilt.close();
  });
});

Deno.test("a log with another schema is moved aside, not misread", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.history.sqlite`;
    const first = LabelHistory.open(path).history;
    first.close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec("UPDATE meta SET value = '99' WHERE key = 'schema'");
    db.close();
    const { warning } = LabelHistory.open(path);
    assert(warning?.includes("schema 99"), warning);
  });
});

Deno.test("reverting a batch restores each image unless it changed since", async () => {
  await withTempDir(async (dir) => {
    const store = await open(`${dir}/labels.csv`);
    await store.set(1, 9, { source: "key" });
    await store.setMany([
      { index: 1, label: 4 },
      { index: 2, label: 4 },
      { index: 3, label: 4 },
    ], { source: "batch" });
    const batch = store.lastBatch;
    await store.set(3, 5, { source: "key" }); // a later decision
    const plan = planRevert(
      store.history!.batch(batch),
      (i) => store.get(i),
    );
    assertEquals(plan.changes, [
      { index: 1, label: 9 },
      { index: 2, label: null },
    ]);
    assertEquals(plan.conflicts, [
      { index: 3, serial: 3, batchSet: 4, now: 5 },
    ]);
    await store.setMany(plan.changes, { source: "revert" });
    assertEquals([store.get(1), store.get(2), store.get(3)], [9, null, 5]);
    store.close();
  });
});
