/**
 * A stop sent at any moment after a start ends the run: right after the
 * start's 202 (before the worker has even read the run), after
 * `training_started`, after the first `batch`, after the first `epoch`, and
 * a second stop after the first. Each run asks for 200 epochs, so a lost stop
 * would show as a `training_complete` (or a timeout) instead of
 * `training_stopped`. Waits on events only, never on fixed sleeps.
 */

import { assert, assertEquals } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";

/** When, after the start's 202, the stop is sent (the event waited for first). */
const MOMENTS: Array<{ name: string; after: string | null; stops: number }> = [
  ...Array.from({ length: 5 }, () => ({ name: "at 0", after: null, stops: 1 })),
  { name: "at 0, twice", after: null, stops: 2 },
  { name: "after training_started", after: "training_started", stops: 1 },
  { name: "after the first batch", after: "batch", stops: 1 },
  { name: "after the first epoch", after: "epoch", stops: 1 },
  { name: "after the first epoch, twice", after: "epoch", stops: 2 },
];

Deno.test(
  "a stop sent at any moment after a start ends the run",
  async (t) => {
    const srv = await startServer({ build: false, limit: 600 });
    const ws = await connectWs(srv.wsUrl);
    try {
      await ws.waitFor((m) => m.type === "hello");
      // One server for every moment: each step starts its own run and waits
      // until it has stopped (after an epoch, until the map has followed),
      // so the next one starts from idle.
      for (const [i, moment] of MOMENTS.entries()) {
        await t.step(`${i + 1}: ${moment.name}`, async () => {
          const seq = ws.messages.at(-1)!.seq as number;
          const later = (type: string) =>
            ws.waitFor(
              (m) => (m.seq as number) > seq && m.type === type,
              120_000,
            );
          const start = await json(srv.url, "POST", "/api/training/start", {
            epochs: 200,
          });
          assertEquals(start.status, 202, JSON.stringify(start.body));
          if (moment.after) await later(moment.after);
          for (let k = 0; k < moment.stops; k++) {
            const stop = await json(srv.url, "POST", "/api/training/stop");
            assertEquals(stop.status, 202);
            // A second stop may land after a run stopped at 0 has already
            // ended (it ends at once): then it finds the trainer idle.
            if (k === 0) assertEquals(stop.body.status, "stopping");
            else {
              assert(
                ["stopping", "idle"].includes(stop.body.status as string),
                JSON.stringify(stop.body),
              );
            }
          }
          const done = await ws.waitFor(
            (m) =>
              (m.seq as number) > seq &&
              ["training_stopped", "training_complete", "training_error"]
                .includes(m.type as string),
            120_000,
          );
          assertEquals(done.type, "training_stopped", JSON.stringify(done));
          assert((done.epochsRun as number) < 200);
          const state = (await json(srv.url, "GET", "/api/state")).body;
          assertEquals((state.training as { status: string }).status, "idle");
          if (moment.after === "epoch") {
            // Trained epochs are saved, and the map follows the stopped model.
            assertEquals(done.checkpointSaved, true);
            await ws.waitFor(
              (m) =>
                (m.seq as number) > (done.seq as number) &&
                m.type === "latent_updated",
              120_000,
            );
          }
        });
      }
    } finally {
      await ws.close();
      await srv.stop();
    }
  },
);
