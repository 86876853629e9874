/**
 * The main-thread side of the training worker (lib/server/training_controller.ts)
 * without the HTTP server: the worker spawned early (`warm`), handed its data
 * later (`start`), and a worker that fails before it has data.
 */

import { assert, assertEquals, assertRejects } from "./assert.ts";
import { loadTestSet, loadTrainImages } from "../lib/data/mnist.ts";
import { sharedBytes } from "../lib/data/shared_bytes.ts";
import { TrainingController } from "../lib/server/training_controller.ts";
import { withTempDir } from "../support/temp_dir.ts";

const withDir = (fn: (dir: string) => Promise<void>) =>
  withTempDir("ssvae_ctrl_", fn);

Deno.test("warm, then start: folder images on shared memory are not copied back", async () => {
  await withDir(async (dir) => {
    const train = await loadTrainImages({ limit: 200 });
    const raw = sharedBytes(train.raw.length);
    raw.set(train.raw);
    const events: string[] = [];
    const training = new TrainingController({
      weightsPath: `${dir}/m.ckpt`,
      testHooks: false,
      notify: (type) => events.push(type),
      log: () => {},
    });
    try {
      training.warm();
      const { data, ready } = training.start({
        spec: {
          kind: "arrays",
          train: { ...train, raw },
          test: null,
        },
        classCount: 10,
      });
      // Known at once: the server already holds these bytes.
      assert(training.data?.raw === raw);
      const loaded = await data;
      assertEquals(loaded.count, 200);
      assertEquals(loaded.raw, undefined, "the worker sent no copy back");
      await ready;
      assertEquals(training.snapshot?.predClass.length, 200);
      assertEquals(training.snapshot?.recon.length, 200 * 784);
      assert(training.workerReady);
    } finally {
      training.shutdown();
    }
  });
});

Deno.test("a worker that fails to load before start: start rejects with the worker's error", async () => {
  await withDir(async (dir) => {
    const lines: string[] = [];
    const training = new TrainingController({
      weightsPath: `${dir}/m.ckpt`,
      testHooks: false,
      notify: () => {},
      log: (l) => lines.push(l),
      workerUrl: new URL("./fixtures/broken_worker.ts", import.meta.url),
    });
    try {
      training.warm();
      const train = await loadTrainImages({ limit: 10 });
      const { data, ready } = training.start({
        spec: { kind: "arrays", train, test: null },
        classCount: 10,
      });
      const err = await assertRejects(() => data, Error);
      assert(
        err.message.includes("training worker died") &&
          err.message.includes("broken worker module"),
        err.message,
      );
      await assertRejects(() => ready, Error);
    } finally {
      training.shutdown();
    }
  });
});

Deno.test("a run that ended on the quick graph is scored again once the real graph propagates", async () => {
  await withDir(async (dir) => {
    const train = await loadTrainImages({ limit: 200 });
    const test = await loadTestSet({ limit: 100, pixelMax: train.pixelMax });
    const events: { type: string; payload: Record<string, unknown> }[] = [];
    let wake = () => {};
    const until = (ok: () => boolean) =>
      new Promise<void>((resolve) => {
        wake = () => ok() && resolve();
        wake();
      });
    const classified: Float32Array[] = [];
    const training = new TrainingController({
      weightsPath: `${dir}/m.ckpt`,
      testHooks: false,
      notify: (type, payload) => {
        events.push({ type, payload });
        wake();
      },
      log: () => {},
      // The real graph's vote: right on every test image.
      classifyTest: (labels) => {
        classified.push(labels.slice());
        return Promise.resolve(test.labels.slice());
      },
    });
    try {
      const { ready } = training.start({
        spec: { kind: "arrays", train: { ...train }, test: { ...test } },
        classCount: 10,
      });
      await ready;
      const propagation = (provisional: boolean, testPred: Uint8Array) => ({
        type: "propagation" as const,
        revision: 1,
        probs: new Float32Array(200 * 10).fill(0.1),
        predClass: new Uint8Array(200),
        certainty: new Float32Array(200).fill(0.1),
        order: new Uint32Array(0),
        phase: "coverage" as const,
        testPred,
        ms: 1,
        labelled: 10,
        provisional,
      });
      // The quick graph predicts "0" for every test image.
      training.applyGraphPredictions(propagation(true, new Uint8Array(100)));
      const labels = new Float32Array(200).fill(NaN);
      for (let i = 0; i < 10; i++) labels[i] = train.labels[i];
      training.startTraining(1, {}, labels);
      await until(() => events.some((e) => e.type === "evaluation"));
      const first = training.evaluations.at(-1)!;
      assertEquals(first.predictor, "quick graph");
      assertEquals(
        classified.length,
        0,
        "not scored again before the real graph",
      );
      // The real graph's first propagation: the run is scored again with the
      // labels it trained with.
      training.applyGraphPredictions(propagation(false, test.labels.slice()));
      await until(() => events.some((e) => e.payload.rescored === true));
      assertEquals(classified.length, 1);
      assertEquals([...classified[0]], [...labels]);
      const again = training.evaluations.at(-1)!;
      assertEquals(training.evaluations.length, 1);
      assertEquals(again.run, first.run);
      assertEquals(again.predictor, "graph");
      assertEquals(again.accuracy.overall, 1);
      assertEquals(again.firstScore?.predictor, "quick graph");
      assertEquals(again.firstScore?.overall, first.accuracy.overall);
      // A run on the real graph is final as it ends: never scored again.
      await until(() => events.some((e) => e.type === "training_complete"));
      training.startTraining(1, {}, labels);
      await until(() =>
        events.filter((e) => e.type === "evaluation").length === 3
      );
      assertEquals(training.evaluations.at(-1)!.predictor, "graph");
      assertEquals(classified.length, 1);
    } finally {
      training.shutdown();
    }
  });
});
