/**
 * Training through the dashboard server: runs stream epochs over the socket,
 * save a checkpoint, refresh predictions and continue one another; stop,
 * double start, training errors and a dying worker are handled.
 * Real server process, 1500 images, test hooks on for fault injection.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json, type WsClient } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";
import { BACKGROUND_NICE } from "../lib/thread_priority.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { BATCH_MESSAGE_INTERVAL_MS } from "../lib/training/run_progress.ts";

const LIMIT = 1500;
interface Training {
  status: string;
  epoch: number;
  targetEpochs: number;
  message?: string;
}

/** The next message of one of `types` after seq `after`. */
function next(ws: WsClient, after: number, ...types: string[]) {
  return ws.waitFor(
    (m) => (m.seq as number) > after && types.includes(m.type as string),
    120_000,
  );
}

/** Each thread of process `pid`: its nice value and CPU time (Linux /proc). */
function threadStats(pid: number) {
  const out = new Map<
    number,
    { name: string; nice: number; cpuTicks: number }
  >();
  for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
    const stat = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/stat`);
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    // Fields from the 3rd on, after the name: utime is the 14th, nice the 19th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(e.name), {
      name,
      nice: Number(f[16]),
      cpuTicks: Number(f[11]) + Number(f[12]),
    });
  }
  return out;
}

Deno.test(
  "training runs, continues, stops, fails and recovers",
  async (t) => {
    const srv = await startServer({
      build: false,
      // A step restarts the server on these files: the folder outlives it.
      keepDir: true,
      limit: LIMIT,
      testHooks: true,
    });
    const { url: base } = srv;
    const ws = await connectWs(srv.wsUrl);
    const state = async () => (await json(base, "GET", "/api/state")).body;
    const lastSeq = () => ws.messages.at(-1)!.seq as number;
    /** Sets a fault (test hooks) for the next run, or now for a "crash". */
    const inject = async (fault: string) =>
      assertEquals(
        (await json(base, "POST", "/api/_test/fault", { fault })).status,
        202,
      );
    /** Starts an `epochs` run; resolves with the message that ends it. */
    const runToEnd = async (epochs: number) => {
      const seq = lastSeq();
      const r = await json(base, "POST", "/api/training/start", { epochs });
      assertEquals(r.status, 202, JSON.stringify(r.body));
      return await next(ws, seq, "training_complete", "training_error");
    };
    try {
      await ws.waitFor((m) => m.type === "hello");

      // One story, in order: the runs continue one another (epochs, steps and
      // prediction versions count on), the faults recover to the checkpoint the
      // runs before saved, and the restart loads it.
      await t.step("label a few images (true MNIST labels)", async () => {
        const data = await loadTrainImages({ limit: 100 });
        await Promise.all(
          Array.from(
            { length: 100 },
            (_, i) =>
              json(base, "PUT", `/api/labels/${i}`, { label: data.labels[i] }),
          ),
        );
        assertEquals((await state()).labelled, 100);
      });

      let firstStep = 0;
      await t.step(
        "a run streams epochs, saves, refreshes the latent",
        async () => {
          const s0 = await state();
          assertEquals(s0.latentVersion, 1);
          const seq = lastSeq();
          const r = await json(base, "POST", "/api/training/start", {
            epochs: 2,
            learning_rate: 0.002,
            kl_weight: 0.2,
          });
          assertEquals(r.status, 202, JSON.stringify(r.body));
          const again = await json(base, "POST", "/api/training/start", {
            epochs: 1,
          });
          assertEquals(again.status, 409);
          assertMatch(again.body.error as string, /already/);

          const started = await next(ws, seq, "training_started");
          assertEquals(started.targetEpochs, 2);
          // Training yields the CPU to the page (lib/thread_priority.ts): the
          // threads that have trained run niced, the HTTP thread does not.
          await next(ws, started.seq as number, "batch");
          const threads = threadStats(srv.child.pid);
          assertEquals(threads.get(srv.child.pid)?.nice, 0);
          const trained = [...threads.values()].filter((t) =>
            t.nice === BACKGROUND_NICE && t.cpuTicks > 0
          );
          assert(
            trained.length >= 1,
            `no niced thread has run: ${JSON.stringify([...threads])}`,
          );
          assertEquals(
            (started.config as { learning_rate: number }).learning_rate,
            0.002,
          );
          const done = await next(
            ws,
            seq,
            "training_complete",
            "training_error",
          );
          assertEquals(done.type, "training_complete", JSON.stringify(done));
          const epochs = ws.messages.filter((m) =>
            m.type === "epoch" && (m.seq as number) > seq
          );
          assertEquals(epochs.map((m) => m.epoch), [1, 2]);
          // Progress within the epochs: the first batch of the run (no ETA
          // yet) and the last batch of every epoch are always there.
          const batches = ws.messages.filter((m) =>
            m.type === "batch" && (m.seq as number) > seq &&
            (m.seq as number) < (done.seq as number)
          );
          assert(batches.length >= 3, `${batches.length} batch messages`);
          assertEquals(
            Object.keys(batches[0]).sort(),
            [
              "batch",
              "batches",
              "elapsedMs",
              "epoch",
              "etaMs",
              "loss",
              "seq",
              "targetEpochs",
              "type",
            ],
          );
          assertEquals([batches[0].epoch, batches[0].batch], [1, 1]);
          assertEquals(batches[0].etaMs, null);
          for (const epoch of [1, 2]) {
            const last = batches.filter((b) => b.epoch === epoch).at(-1)!;
            assertEquals(last.batch, last.batches, `epoch ${epoch}`);
            // It comes before the epoch's own message.
            const e = epochs.find((m) => m.epoch === epoch)!;
            assert((last.seq as number) < (e.seq as number));
          }
          let elapsed = -1;
          for (const b of batches) {
            assertEquals(b.targetEpochs, 2);
            assert(Number.isFinite(b.loss) && (b.loss as number) > 0);
            assert((b.elapsedMs as number) >= elapsed, "elapsedMs goes back");
            elapsed = b.elapsedMs as number;
            if (b !== batches[0]) assert((b.etaMs as number) >= 0);
          }
          // At most ~5 a second: beyond the always-sent first and last ones.
          assert(
            batches.length <= 3 + elapsed / BATCH_MESSAGE_INTERVAL_MS + 1,
            `${batches.length} batch messages in ${elapsed} ms`,
          );
          for (const e of epochs) {
            const metrics = e.metrics as Record<string, Record<string, number>>;
            for (const split of ["train", "val"]) {
              for (
                const name of [
                  "loss",
                  "reconstruction_loss",
                  "kl_loss",
                  "classification_loss",
                  "weighted_classification_loss",
                ]
              ) {
                assert(
                  Number.isFinite(metrics[split][name]),
                  `${split}.${name}`,
                );
              }
            }
            assertEquals(e.targetEpochs, 2);
          }
          const latent = ws.messages.find((m) =>
            m.type === "latent_updated" && (m.seq as number) > seq
          );
          assert(latent, "no latent_updated event");
          assert(
            (latent!.seq as number) < (done.seq as number),
            "latent after complete",
          );
          assertEquals(latent!.version, 2);

          const s1 = await state();
          assertEquals((s1.training as Training).status, "idle");
          assertEquals(s1.latentVersion, 2);
          assertEquals((s1.history as unknown[]).length, 2);
          assertEquals(
            (s1.config as { learning_rate: number }).learning_rate,
            0.002,
          );
          assertEquals((s1.config as { kl_weight: number }).kl_weight, 0.2);
          firstStep = s1.step as number;
          assert(firstStep > 0);
          assert((await Deno.stat(srv.weightsPath)).size > 1000);
          const lat = await fetch(`${base}/api/latent`);
          assertMatch(lat.headers.get("etag")!, /^"[0-9a-f]{8}-v2-/);
          await lat.body?.cancel();
        },
      );

      await t.step(
        "a second run continues (step, epochs, history)",
        async () => {
          assertEquals((await runToEnd(1)).type, "training_complete");
          const s = await state();
          const history = s.history as Array<{ epoch: number; step: number }>;
          assertEquals(history.length, 3);
          assertEquals(history[2].epoch, 3);
          assert(
            (s.step as number) > firstStep,
            `step ${s.step} <= ${firstStep}`,
          );
          assertEquals(s.step, history[2].step);
          // The learning rate of the first run stays (overrides persist).
          assertEquals(
            (s.config as { learning_rate: number }).learning_rate,
            0.002,
          );
          assertEquals(s.latentVersion, 3);
        },
      );

      await t.step("stop ends a long run early", async () => {
        const seq = lastSeq();
        const r = await json(base, "POST", "/api/training/start", {
          epochs: 200,
        });
        assertEquals(r.status, 202);
        await next(ws, seq, "epoch");
        const stop = await json(base, "POST", "/api/training/stop");
        assertEquals(stop.status, 202);
        assertEquals(stop.body.status, "stopping");
        const done = await next(
          ws,
          seq,
          "training_stopped",
          "training_complete",
          "training_error",
        );
        assertEquals(done.type, "training_stopped");
        assertEquals(done.checkpointSaved, true);
        const s = await state();
        assertEquals((s.training as Training).status, "idle");
        const n = (s.history as unknown[]).length;
        assert(n >= 4 && n < 10, `history ${n}`);
        // The stopped run was saved and predicted too: the prediction comes
        // right after training_stopped (idle first, then the map follows).
        await next(ws, done.seq as number, "latent_updated");
        assertEquals((await state()).latentVersion, 4);
        // Stopping when idle is harmless.
        const idle = await json(base, "POST", "/api/training/stop");
        assertEquals(idle.status, 202);
        assertEquals(idle.body.status, "idle");
      });

      await t.step(
        "a training error is reported, then training works again",
        async () => {
          const before = await state();
          await inject("epoch_error");
          const err = await runToEnd(2);
          assertEquals(err.type, "training_error");
          assertMatch(err.message as string, /injected fault/);
          const s = await state();
          assertEquals((s.training as Training).status, "error");
          assertMatch((s.training as Training).message!, /injected fault/);
          // Back to the last checkpoint: the failed run left no trace in the history.
          assertEquals(
            (s.history as unknown[]).length,
            (before.history as unknown[]).length,
          );

          assertEquals((await runToEnd(1)).type, "training_complete");
          assertEquals(((await state()).training as Training).status, "idle");
        },
      );

      await t.step(
        "a NaN loss (TrainingError) keeps the good epochs",
        async () => {
          const before = await state();
          await inject("nan");
          const err = await runToEnd(3);
          assertEquals(err.type, "training_error");
          assertMatch(err.message as string, /TrainingError: .*NaN/);
          assertEquals(err.checkpointSaved, true);
          const s = await state();
          assertEquals((s.training as Training).status, "error");
          // The epoch finished before the failure is kept, saved and predicted.
          assertEquals(
            (s.history as unknown[]).length,
            (before.history as unknown[]).length + 1,
          );
          assertEquals(s.latentVersion, (before.latentVersion as number) + 1);
          assert(srv.output().includes("loss is NaN"), "error not logged");
        },
      );

      await t.step(
        "a dead worker is reported and replaced from the checkpoint",
        async () => {
          const before = await state();
          const seq = lastSeq();
          await inject("crash");
          const err = await next(ws, seq, "training_error");
          assertMatch(err.message as string, /worker died/);
          await next(ws, seq, "worker_restarted");
          const s = await state();
          assertEquals(s.history, before.history);
          assertEquals(s.step, before.step);
          assert(
            (s.latentVersion as number) > (before.latentVersion as number),
          );
          assertEquals((await runToEnd(1)).type, "training_complete");
          assert(
            srv.output().includes("training worker died"),
            "death not logged",
          );
        },
      );

      await t.step(
        "a restart loads the checkpoint with its history",
        async () => {
          const before = await state();
          await ws.close();
          await srv.stop();
          const again = await startServer({
            build: false,
            dir: srv.dir,
            limit: LIMIT,
            labelsPath: srv.labelsPath,
            weightsPath: srv.weightsPath,
          });
          try {
            assertMatch(again.output(), /checkpoint loaded/);
            const s = (await json(again.url, "GET", "/api/state")).body;
            assertEquals(s.history, before.history);
            assertEquals(s.step, before.step);
            assertEquals(s.labelled, 100);
            assertEquals(s.config, before.config);
          } finally {
            await again.stop();
          }
        },
      );
    } finally {
      await ws.close().catch(() => {});
      await srv.stop();
      await Deno.remove(srv.dir, { recursive: true });
    }
  },
);

Deno.test(
  "a worker that keeps dying is not restarted forever",
  async () => {
    const srv = await startServer({
      build: false,
      limit: 300,
      testHooks: true,
    });
    const ws = await connectWs(srv.wsUrl);
    try {
      await ws.waitFor((m) => m.type === "hello");
      for (let i = 1; i <= 4; i++) {
        const seq = ws.messages.at(-1)!.seq as number;
        const f = await json(srv.url, "POST", "/api/_test/fault", {
          fault: "crash",
        });
        assertEquals(f.status, 202);
        const err = await next(ws, seq, "training_error");
        if (i < 4) {
          assertMatch(err.message as string, /restarting/);
          await next(ws, seq, "worker_restarted");
        } else {
          assertMatch(err.message as string, /training is disabled/);
        }
      }
      const r = await json(srv.url, "POST", "/api/training/start", {
        epochs: 1,
      });
      assertEquals(r.status, 503);
      assertMatch(r.body.error as string, /died 4 times/);
      // Labels and the rest of the API still work.
      const l = await json(srv.url, "PUT", "/api/labels/1", { label: 1 });
      assertEquals(l.status, 200);
      const s = await json(srv.url, "GET", "/api/state");
      assertEquals((s.body.training as Training).status, "error");
    } finally {
      await ws.close();
      await srv.stop();
    }
  },
);
