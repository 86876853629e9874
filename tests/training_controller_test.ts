/**
 * The main-thread side of the training worker (lib/server/training_controller.ts)
 * without the HTTP server: the worker spawned early (`warm`), handed its data
 * later (`start`), and a worker that fails before it has data.
 */

import { assert, assertEquals, assertRejects } from "./assert.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
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
