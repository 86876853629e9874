/**
 * The dashboard and `deno task train` on the same checkpoint: a run started in
 * the dashboard after the CLI trained continues from the CLI's checkpoint, and a
 * checkpoint the CLI writes during a dashboard run is not overwritten.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import { runDeno, startServer } from "../support/server_process.ts";

const LIMIT = 600;

async function cliTrain(weights: string, labels: string, epochs: number) {
  const out = await runDeno([
    ...["cli/train.ts", "--limit", String(LIMIT)],
    ...["--weights", weights, "--labels", labels],
    ...["--max-epochs", String(epochs)],
  ]);
  assertEquals(out.code, 0, out.output);
}

Deno.test(
  "dashboard and CLI share the checkpoint without losing each other's training",
  async () => {
    const srv = await startServer({ build: false, limit: LIMIT });
    const ws = await connectWs(srv.wsUrl);
    const state = async () => (await json(srv.url, "GET", "/api/state")).body;
    const runOnce = async () => {
      const seq = ws.messages.at(-1)?.seq as number ?? 0;
      const r = await json(srv.url, "POST", "/api/training/start", {
        epochs: 1,
      });
      assertEquals(r.status, 202, JSON.stringify(r.body));
      return await ws.waitFor(
        (m) =>
          (m.seq as number) > seq &&
          ["training_complete", "training_error"].includes(m.type as string),
        120_000,
      );
    };
    try {
      await ws.waitFor((m) => m.type === "hello");
      const first = await runOnce();
      assertEquals(first.type, "training_complete", JSON.stringify(first));
      const afterDashboard = (await state()).step as number;
      assert(afterDashboard > 0);

      // The CLI trains two more epochs on the same files.
      await cliTrain(srv.weightsPath, srv.labelsPath, 2);
      const second = await runOnce();
      assertEquals(second.type, "training_complete", JSON.stringify(second));
      // 1 dashboard epoch + 2 CLI epochs + 1 dashboard epoch, all in one line.
      assertEquals((await state()).step, afterDashboard * 4);
      assertMatch(srv.output(), /checkpoint changed on disk/);

      // The CLI saves while a dashboard run is going: the CLI's file is kept and
      // the dashboard's run goes to a file beside it, with a red error.
      const seq = ws.messages.at(-1)!.seq as number;
      const long = await json(srv.url, "POST", "/api/training/start", {
        epochs: 200,
      });
      assertEquals(long.status, 202);
      await ws.waitFor(
        (m) => (m.seq as number) > seq && m.type === "epoch",
        120_000,
      );
      await cliTrain(srv.weightsPath, srv.labelsPath, 1);
      const cliBytes = await Deno.readFile(srv.weightsPath);
      await json(srv.url, "POST", "/api/training/stop");
      const done = await ws.waitFor(
        (m) =>
          (m.seq as number) > seq &&
          ["training_complete", "training_stopped", "training_error"].includes(
            m.type as string,
          ),
        120_000,
      );
      assertEquals(done.type, "training_error", JSON.stringify(done));
      assertMatch(
        String(done.message),
        /rewritten by another process.*saved to .*dashboard-\d+\.ckpt/,
      );
      assertEquals(await Deno.readFile(srv.weightsPath), cliBytes);
      const aside = [...Deno.readDirSync(srv.dir)].filter((e) =>
        /\.dashboard-\d+\.ckpt$/.test(e.name)
      );
      assertEquals(aside.length, 1);
    } finally {
      ws.close();
      await srv.stop();
    }
  },
);
