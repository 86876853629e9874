import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { fileURLToPath } from "node:url";
import { stringify } from "csv-stringify/sync";
import {
  formatLabelsCsv,
  LabelError,
  LabelStore,
} from "../lib/labels/labels_store.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { labelFor } from "./fixtures/label_writer.ts";

const HEADER = "Serial,label\n";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "labels_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function labelsOf(store: LabelStore): Array<number | null> {
  return Array.from(store.labels, (l) => (Number.isNaN(l) ? null : l));
}

/** Asserts `err` names every one of `parts`. */
function mentions(err: Error, ...parts: string[]): void {
  for (const part of parts) {
    assert(err.message.includes(part), `"${err.message}" lacks "${part}"`);
  }
}

/** Asserts `fn` rejects with a LabelError naming every one of `parts`. */
async function rejectsWithLabelError(
  fn: () => Promise<unknown>,
  ...parts: string[]
): Promise<LabelError> {
  const err = await assertRejects(fn, LabelError);
  mentions(err, ...parts);
  return err;
}

Deno.test("open creates a missing file (and folder) with just the header", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/data/mnist/labels.csv`;
    const store = await LabelStore.open(path, 100);
    assertEquals(await Deno.readTextFile(path), HEADER);
    assertEquals(store.labelledCount(), 0);
    assertEquals(store.labels.length, 100);
    assert(store.labels.every(Number.isNaN));
    assertEquals(store.writeCount, 1);
  });
});

Deno.test("labels.csv text is csv-stringify's, byte for byte: none, some, serials, orphans", () => {
  const reference = (rows: number[][]) =>
    stringify(rows, { header: true, columns: ["Serial", "label"] });
  const rng = new Rng(5);
  const labels = new Float32Array(2000).fill(NaN);
  assertEquals(formatLabelsCsv(labels), reference([]));
  for (let i = 0; i < 2000; i += 3) labels[i] = Math.floor(rng.uniform() * 10);
  const rows = (serialOf: (i: number) => number) =>
    [...labels.keys()].filter((i) => !Number.isNaN(labels[i])).map((i) => [
      serialOf(i),
      labels[i],
    ]);
  assertEquals(formatLabelsCsv(labels), reference(rows((i) => i)));
  // An image folder: serials out of index order, and rows of removed images.
  const serials = Uint32Array.from(labels.keys(), (i) => 5000 - 2 * i);
  const orphans = new Map([[7, 3], [99999, 1]]);
  const all = [...rows((i) => serials[i]), [7, 3], [99999, 1]]
    .sort((a, b) => a[0] - b[0]);
  assertEquals(formatLabelsCsv(labels, serials, orphans), reference(all));
});

Deno.test("round trip: set, delete, setMany, re-open", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const store = await LabelStore.open(path, 100);
    await store.set(42, 7);
    await store.set(3, 1);
    await store.set(99, 0);
    await store.set(42, 8);
    await store.delete(99);
    await store.delete(50); // deleting an unlabelled image is a no-op row-wise
    await store.setMany([{ index: 10, label: 0 }, { index: 3, label: null }, {
      index: 11,
      label: 9,
    }]);
    assertEquals(await Deno.readTextFile(path), `${HEADER}10,0\n11,9\n42,8\n`);
    assertEquals(store.get(42), 8);
    assertEquals(store.get(3), null);
    assertEquals(store.labelledCount(), 3);
    assertEquals(store.countsPerClass(), [1, 0, 0, 0, 0, 0, 0, 0, 1, 1]);

    const again = await LabelStore.open(path, 100);
    assertEquals(labelsOf(again), labelsOf(store));
    assertEquals(again.writeCount, 0); // opening an existing file does not rewrite it
  });
});

Deno.test("reads old files: BOM, float serials, CRLF, blank lines, empty labels", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const old =
      "\ufeffSerial,label\r\n42144.0,3\r\n7.0,0.0\r\n5,\r\n12, 9 \r\n\r\n";
    await Deno.writeTextFile(path, old);
    const store = await LabelStore.open(path, 60000);
    assertEquals(await Deno.readTextFile(path), old); // reading never rewrites
    assertEquals(store.get(42144), 3);
    assertEquals(store.get(7), 0);
    assertEquals(store.get(5), null);
    assertEquals(store.get(12), 9);
    assertEquals(store.labelledCount(), 3);
    await store.set(1, 4);
    assertEquals(
      await Deno.readTextFile(path),
      `${HEADER}1,4\n7,0\n12,9\n42144,3\n`,
    );
    // An empty file (e.g. truncated by an old non-atomic writer) holds no labels.
    await Deno.writeTextFile(path, "");
    assertEquals((await LabelStore.open(path, 10)).labelledCount(), 0);
  });
});

Deno.test("a corrupt file throws a LabelError naming line and value, file untouched", async () => {
  const cases: Array<[string, number, string, string[]]> = [
    [`${HEADER}1,2\n3,11\n`, 3, "11", ["label must be an integer 0-9", '"11"']],
    [`${HEADER}1,2\n\n3,abc\n`, 4, "abc", ['"abc"']],
    [`${HEADER}3,3.5\n`, 2, "3.5", ['"3.5"']],
    [`${HEADER}1,2\n-1,4\n`, 3, "-1", [
      "Serial must be an integer 0-99",
      '"-1"',
    ]],
    [`${HEADER}12.5,4\n`, 2, "12.5", ['"12.5"']],
    [`${HEADER}100,4\n`, 2, "100", ['"100"']],
    [`${HEADER}x,4\n`, 2, "x", ['"x"']],
    [`${HEADER}1,2,3\n`, 2, "1,2,3", ["expected 2 fields"]],
    ["Index,label\n1,2\n", 1, "Index,label", ["expected header"]],
  ];
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    for (const [text, line, value, parts] of cases) {
      await Deno.writeTextFile(path, text);
      const before = await Deno.readFile(path);
      const err = await rejectsWithLabelError(
        () => LabelStore.open(path, 100),
        path,
        `line ${line}`,
        ...parts,
      );
      assertEquals(err.line, line);
      assertEquals(err.value, value);
      assertEquals(await Deno.readFile(path), before);
    }
    await Deno.writeTextFile(path, `${HEADER}"1,2\n`);
    await rejectsWithLabelError(
      () => LabelStore.open(path, 100),
      "malformed CSV",
    );
  });
});

Deno.test("invalid set/delete/setMany/get calls are LabelErrors and write nothing", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const store = await LabelStore.open(path, 100);
    await store.set(5, 5);
    const before = await Deno.readTextFile(path);
    const writes = store.writeCount;
    await rejectsWithLabelError(
      () => store.set(1, 11),
      "label must be an integer 0-9, got 11",
    );
    await rejectsWithLabelError(() => store.set(1, 2.5), "got 2.5");
    await rejectsWithLabelError(() => store.set(1, NaN), "got NaN");
    await rejectsWithLabelError(
      () => store.set(-1, 2),
      "index must be an integer 0-99, got -1",
    );
    await rejectsWithLabelError(() => store.set(100, 2), "got 100");
    await rejectsWithLabelError(() => store.delete(1.5), "got 1.5");
    await rejectsWithLabelError(
      () => store.setMany([{ index: 1, label: 1 }, { index: 2, label: 12 }]),
      "changes[1]",
      "got 12",
    );
    mentions(assertThrows(() => store.get(100), LabelError), "got 100");
    mentions(
      assertThrows(() => LabelStore.validateLabel("3"), LabelError),
      'got "3"',
    );
    LabelStore.validateIndex(99, 100); // the last index is valid: no throw
    assertEquals(store.writeCount, writes);
    assertEquals(await Deno.readTextFile(path), before);
    assertEquals(store.get(1), null);
    await assertRejects(() => LabelStore.open(path, 0), RangeError);
  });
});

Deno.test("500 concurrent writes all land, each durable when its promise resolves", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const store = await LabelStore.open(path, 60000);
    const writesBefore = store.writeCount;
    const expected = new Map<number, number>();
    const done: Promise<void>[] = [];
    for (let k = 0; k < 500; k++) {
      const index = (k * 7919) % 60000;
      const label = labelFor(k);
      expected.set(index, label);
      // When the promise resolves, the file on disk must already hold this label.
      done.push(
        store.set(index, label).then(() => {
          const row = Deno.readTextFileSync(path).split("\n").find((l) =>
            l.startsWith(`${index},`)
          );
          assertEquals(row, `${index},${label}`);
        }),
      );
      // Spread the calls over turns of the event loop (a yield, not a wait
      // on time) so some queue behind a write in flight.
      if (k % 50 === 49) await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(done);
    const writes = store.writeCount - writesBefore;
    assert(writes >= 1 && writes <= 500, `${writes} writes`);
    console.log(`500 sets took ${writes} file writes`);
    const reopened = await LabelStore.open(path, 60000);
    assertEquals(labelsOf(reopened), labelsOf(store));
    assertEquals(reopened.labelledCount(), expected.size);
    for (const [index, label] of expected) {
      assertEquals(reopened.get(index), label);
    }
  });
});

Deno.test("sets on one image apply in call order", async () => {
  await withTempDir(async (dir) => {
    const store = await LabelStore.open(`${dir}/labels.csv`, 10);
    const first = store.set(4, 1);
    // One turn of the event loop (a yield, not a wait on time): the store has
    // taken the first write out of its queue and started it.
    await new Promise((r) => setTimeout(r, 0));
    await Promise.all([
      first,
      store.set(4, 2),
      store.delete(4),
      store.set(4, 3),
    ]);
    assertEquals((await LabelStore.open(`${dir}/labels.csv`, 10)).get(4), 3);
    await Promise.all([store.set(4, 5), store.delete(4)]);
    assertEquals((await LabelStore.open(`${dir}/labels.csv`, 10)).get(4), null);
  });
});

Deno.test("setMany of 1,000 changes is one file write", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const store = await LabelStore.open(path, 60000);
    const changes = Array.from(
      { length: 1000 },
      (_, i) => ({ index: i * 60, label: i % 10 }),
    );
    const before = store.writeCount;
    await store.setMany(changes);
    assertEquals(store.writeCount, before + 1);
    assertEquals(store.labelledCount(), 1000);
    assertEquals(store.countsPerClass(), new Array(10).fill(100));
    const reopened = await LabelStore.open(path, 60000);
    assertEquals(labelsOf(reopened), labelsOf(store));
    await store.setMany([]);
    assertEquals(store.writeCount, before + 1);
  });
});

Deno.test("a failed write rejects and leaves memory matching the file", async () => {
  await withTempDir(async (dir) => {
    const sub = `${dir}/sub`;
    const path = `${sub}/labels.csv`;
    const store = await LabelStore.open(path, 100);
    await store.set(1, 1);
    // Remove the folder: the temp file cannot be created, so the write fails.
    await Deno.remove(sub, { recursive: true });
    await assertRejects(() =>
      store.setMany([{ index: 2, label: 2 }, { index: 1, label: null }])
    );
    assertEquals(store.get(1), 1);
    assertEquals(store.get(2), null);
    assertEquals(store.labelledCount(), 1);
    await Deno.mkdir(sub);
    await store.set(3, 3);
    assertEquals(await Deno.readTextFile(path), `${HEADER}1,1\n3,3\n`);
    assertEquals([...Deno.readDirSync(sub)].map((e) => e.name), [
      "labels.csv",
    ]);
  });
});

Deno.test("a single set on a 60k-row file is one write of every row", async () => {
  // How fast is for bench:server (label writes per second, latency).
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const rows = Array.from({ length: 60000 }, (_, i) => `${i},${i % 10}\n`)
      .join("");
    await Deno.writeTextFile(path, HEADER + rows);
    const store = await LabelStore.open(path, 60000);
    assertEquals(store.labelledCount(), 60000);
    const writes = store.writeCount;
    await store.set(123, 4);
    assertEquals(store.writeCount, writes + 1);
    assertEquals(
      await Deno.readTextFile(path),
      HEADER + rows.replace("\n123,3\n", "\n123,4\n"),
    );
    assertEquals((await LabelStore.open(path, 60000)).get(123), 4);
  });
});

const WRITER = fileURLToPath(
  new URL("./fixtures/label_writer.ts", import.meta.url),
);

/**
 * Runs the writer child from `start` and SIGKILLs it after a random number of
 * acks (drawn from `rng`, so a failing run can be replayed), a random moment
 * (0-15 ms) after the last of them: mid-write, between writes, anywhere.
 */
async function runAndKill(
  path: string,
  count: number,
  start: number,
  rng: Rng,
): Promise<number[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, path, String(count), String(start)],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const killAfter = 1 + Math.floor(rng.uniform() * 25);
  let text = "";
  let killed = false;
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    if (!killed && text.split("\n").length - 1 >= killAfter) {
      killed = true;
      // The kill's moment is the point of the test: a time, not a wait.
      await new Promise((r) => setTimeout(r, rng.uniform() * 15));
      child.kill("SIGKILL");
    }
  }
  const status = await child.status;
  assert(killed, `writer ended before being killed: ${await stderr}`);
  assertEquals(status.signal, "SIGKILL");
  // Only complete lines count: a half-printed ack is not an acknowledgement.
  const lines = text.split("\n").slice(0, -1);
  return lines.map((line, i) => {
    const [word, index, label] = line.split(" ");
    assertEquals(word, "ack");
    assertEquals(Number(index), start + i);
    assertEquals(Number(label), labelFor(start + i));
    return Number(index);
  });
}

Deno.test("killing a writer at random moments keeps every acknowledged label", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    const count = 60000;
    let acknowledged = 0; // images 0..acknowledged-1 were acked
    const rng = new Rng(11);
    for (let run = 0; run < 5; run++) {
      // Each run continues where the file ends (it may hold one unacknowledged label).
      const start = (await LabelStore.open(path, count)).labelledCount();
      const acks = await runAndKill(path, count, start, rng);
      acknowledged = start + acks.length;
      const store = await LabelStore.open(path, count); // always parses
      const n = store.labelledCount();
      // The file holds a prefix of the writes: all acked ones, plus at most the one
      // in flight when the kill came.
      assert(
        n === acknowledged || n === acknowledged + 1,
        `${n} rows, ${acknowledged} acked`,
      );
      for (let i = 0; i < n; i++) {
        assertEquals(store.get(i), labelFor(i), `image ${i}`);
      }
      console.log(`run ${run}: start ${start}, acks ${acks.length}, rows ${n}`);
    }
    assert(acknowledged >= 5);
  });
});
