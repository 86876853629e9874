/**
 * The graph worker's first minute, with real workers on a slice of MNIST:
 * without a cache the quick graph answers labels at once, the build worker
 * makes the real graph meanwhile, the real one takes over with the same
 * labels propagated again, and a second start loads it from the cache.
 */

import { assert, assertEquals } from "./assert.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import type { GraphInfo } from "../lib/protocol/api.ts";
import type { PropagationMessage } from "../lib/protocol/graph_worker.ts";
import { GraphController } from "../lib/server/graph_controller.ts";
import { withTempDir } from "../support/temp_dir.ts";

const N = 2500;
const train = await loadTrainImages({ limit: N });
const labels = labelsPerClass(train.labels, 2, 3);

/** A controller whose events are kept and awaited, never slept for. */
function controller(cacheDir: string) {
  const infos: GraphInfo[] = [];
  const propagations: PropagationMessage[] = [];
  const log: string[] = [];
  let wake = () => {};
  const changed = () => wake();
  const c = new GraphController({
    init: {
      data: { kind: "idx", limit: N },
      cacheDir,
      // Every size gets the quick graph first here (default: 15,000 images).
      quickFrom: 0,
    },
    labels: () => ({ labels, revision: 1 }),
    exclude: () => null,
    onPropagation: (p) => {
      propagations.push(p);
      changed();
    },
    onInfo: (i) => {
      infos.push({ ...i });
      changed();
    },
    log: (l) => log.push(l),
  });
  /** Resolves when `ok()` holds (checked after every event). */
  const until = (ok: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (ok()) resolve();
      };
      wake = check;
      check();
    });
  return { c, infos, propagations, log, until };
}

function accuracy(p: PropagationMessage): number {
  let right = 0;
  for (let i = 0; i < N; i++) if (p.predClass[i] === train.labels[i]) right++;
  return right / N;
}

Deno.test("no cache: the quick graph serves first, the real one takes over, then loads from the cache", async () => {
  await withTempDir("ssvae_graph_worker_", async (dir) => {
    const a = controller(dir);
    a.c.start();
    try {
      await a.until(() => a.propagations.some((p) => !p.provisional));
      const firstReady = a.infos.find((i) => i.status === "ready")!;
      assertEquals(firstReady.provisional, true);
      assertEquals(firstReady.features?.kind, "pixels");
      const quick = a.propagations.find((p) => p.provisional)!;
      assert(quick, "the quick graph propagated the labels");
      assertEquals(quick.labelled, 20);
      assertEquals(quick.phase, "coverage");
      // The same labels on the real graph, propagated again by themselves.
      const real = a.propagations.find((p) => !p.provisional)!;
      assertEquals(real.revision, quick.revision);
      assertEquals(a.c.info.provisional, false);
      assert(accuracy(quick) > 0.5, `quick ${accuracy(quick)}`);
      assert(accuracy(real) > 0.5, `real ${accuracy(real)}`);
      // The test images are voted on the real graph now.
      const testPred = await a.c.classify(labels);
      assertEquals(testPred?.length, 10000);
      assertEquals([...testPred!], [...real.testPred]);
      assert(
        a.log.some((l) => /\(quick, while the real one is built\)/.test(l)),
        a.log.join("\n"),
      );
    } finally {
      a.c.shutdown();
    }

    const b = controller(dir);
    b.c.start();
    try {
      await b.until(() => b.propagations.length > 0);
      const ready = b.infos.filter((i) => i.status === "ready");
      assertEquals(ready.map((i) => i.provisional), [false]);
      assertEquals(b.propagations[0].provisional, false);
      assert(b.log.some((l) => /loaded from cache/.test(l)), b.log.join("\n"));
    } finally {
      b.c.shutdown();
    }
  });
});
