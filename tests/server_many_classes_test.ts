/**
 * The dashboard on a folder of more than ten classes: the real server on 12
 * class sub-folders (the ten MNIST digits by name, and two Fashion-MNIST
 * classes), over HTTP and WebSocket: names, a 12-output model, 12-wide
 * probabilities (samples, PRB1, the label graph's), labels above 9 in
 * labels.csv and the exports, a training run scored with a 12 × 12
 * confusion matrix, and a checkpoint refused once the folder has a 13th
 * class.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { readIndex } from "../lib/images/index_file.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import { connectWs, json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";
import { writeManyClassFolder } from "../support/many_class_fixtures.ts";
import { pngOf, sourceImage } from "../support/image_fixtures.ts";

/** labels.csv as Serial → label (any class index, not only 0–9). */
async function labelsCsv(path: string): Promise<Map<number, number>> {
  const lines = (await Deno.readTextFile(path)).trim().split(/\r?\n/);
  assertEquals(lines[0], "Serial,label");
  return new Map(
    lines.slice(1).map((l) => l.split(",").map(Number) as [number, number]),
  );
}

Deno.test("dashboard on a folder of 12 classes: names, 12 outputs, labels above 9, a scored run, a 13th class refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_srv_many_" });
  const fx = await writeManyClassFolder(`${dir}/mixed`, { perClass: 10 });
  const args = ["--images", fx.dir, "--holdout", "0.2"];
  const srv = await startServer({ build: false, dir, args, graph: true });
  const ws = await connectWs(srv.wsUrl);
  try {
    const state = (await json(srv.url, "GET", "/api/state")).body;
    const ds = state.dataset as { classes: string[] };
    assertEquals(ds.classes, fx.classes);
    assertEquals(ds.classes.length, 12);
    assertEquals(ds.classes.slice(10), ["two", "zero"]);
    assertEquals((state.config as { num_classes: number }).num_classes, 12);
    assertEquals((state.countsPerClass as number[]).length, 12);
    const count = state.count as number;

    // Every image's path, to pick the files of a class.
    const samples = await Promise.all(
      Array.from(
        { length: count },
        async (_, i) => (await json(srv.url, "GET", `/api/samples/${i}`)).body,
      ),
    );
    const probs0 = samples[0].probs as number[];
    assertEquals(probs0.length, 12, "one probability per class");
    assert(Math.abs(probs0.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    const inClass = (name: string) =>
      samples.filter((s) => (s.path as string).startsWith(`${name}/`))
        .map((s) => s.index as number);
    const zero = inClass("zero"), two = inClass("two");
    assert(zero.length >= 3 && two.length >= 3);

    // Labels above 9: class 11 ("zero") by one PUT, class 10 ("two") by a batch.
    assertEquals(
      (await json(srv.url, "PUT", `/api/labels/${zero[0]}`, { label: 11 }))
        .status,
      200,
    );
    const bad = await json(srv.url, "PUT", `/api/labels/${zero[1]}`, {
      label: 12,
    });
    assertEquals(bad.status, 400);
    assertMatch(bad.body.error as string, /0-11/);
    const batch = await json(srv.url, "PUT", "/api/labels", {
      changes: [
        { index: two[0], label: 10 },
        { index: two[1], label: 10 },
      ],
    });
    assertEquals(batch.status, 200);
    const counts = (batch.body.counts as { countsPerClass: number[] })
      .countsPerClass;
    assertEquals(counts.slice(10), [2, 1]);

    // labels.csv keeps Serial,label; the index names each file.
    const index = await readIndex(`${dir}/labels.index.csv`);
    const serialOf = new Map([...index].map(([s, p]) => [p, s]));
    const pathOf = (i: number) => samples[i].path as string;
    assertEquals(
      [...(await labelsCsv(`${dir}/labels.csv`))].sort((a, b) => a[0] - b[0]),
      [
        [serialOf.get(pathOf(zero[0]))!, 11],
        [serialOf.get(pathOf(two[0]))!, 10],
        [serialOf.get(pathOf(two[1]))!, 10],
      ].sort((a, b) => a[0] - b[0]),
    );
    const byPath =
      await (await fetch(`${srv.url}/api/labels/export?format=paths`)).text();
    assert(byPath.includes(`${pathOf(zero[0])},zero\n`), byPath);
    assert(byPath.includes(`${pathOf(two[1])},two\n`), byPath);
    const exported =
      (await json(srv.url, "GET", "/api/labels/export?format=json")).body;
    assertEquals(exported.classes, fx.classes);

    // The label graph propagates 12 classes: the probabilities the page
    // ranks with are 12 wide, and the labelled images predict their class.
    const revision = (await json(srv.url, "GET", "/api/state")).body
      .labelsRevision as number;
    await ws.waitFor(
      (m) =>
        m.type === "latent_updated" && m.source === "labels" &&
        (m.labelsRevision as number) >= revision,
      120_000,
    );
    const prb = decodeProbs(
      await (await fetch(`${srv.url}/api/probs`)).arrayBuffer(),
    );
    assertEquals(prb.classes, 12);
    assertEquals(prb.count, count);
    const top = (i: number) => {
      const row = Array.from(prb.probs.subarray(i * 12, (i + 1) * 12));
      return row.indexOf(Math.max(...row));
    };
    assertEquals(top(zero[0]), 11);
    assertEquals(top(two[0]), 10);

    // A run trains the 12-output model on the graph's 12-wide soft labels
    // and is scored on the holdout with a 12 × 12 confusion matrix.
    const started = await json(srv.url, "POST", "/api/training/start", {
      epochs: 2,
    });
    assertEquals(started.status, 202);
    const ev = await ws.waitFor((m) => m.type === "evaluation", 120_000);
    assertEquals(ev.saved, true, String(ev.message));
    const rec = ev.record as {
      labelsPerClass: number[];
      confusion: number[][];
      accuracy: { perClass: number[] };
      testCount: number;
      config: { num_classes: number };
      predictor: string;
    };
    // Scored by the label graph's 12-class vote, as the page predicts.
    assertEquals(rec.predictor, "graph");
    assertEquals(rec.config.num_classes, 12);
    assertEquals(rec.labelsPerClass.slice(10), [2, 1]);
    assertEquals(rec.labelsPerClass.length, 12);
    assertEquals(rec.accuracy.perClass.length, 12);
    assertEquals(rec.confusion.length, 12);
    assert(rec.confusion.every((row) => row.length === 12));
    assertEquals(
      rec.confusion.flat().reduce((a, b) => a + b, 0),
      rec.testCount,
    );
    assert(rec.testCount > 0);
    await ws.waitFor((m) => m.type === "training_complete", 120_000);
    await ws.close();
    await srv.stop();

    // A 13th class folder: the 12-class checkpoint must not be loaded.
    await Deno.mkdir(`${fx.dir}/trouser`);
    for (let i = 0; i < 3; i++) {
      const { pixels } = await sourceImage("fashion", 2 + i);
      await Deno.writeFile(`${fx.dir}/trouser/t${i}.png`, pngOf(pixels, 1));
    }
    await assertRejects(
      () => startServer({ build: false, dir, args }),
      Error,
      /ssvae\.ckpt is a model of 12 classes, but this data set has 13; pass another --weights/,
    );
  } finally {
    await ws.close();
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
