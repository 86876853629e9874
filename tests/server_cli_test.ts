/**
 * The dashboard and `deno task train` on the same checkpoint: a run started in
 * the dashboard after the CLI trained continues from the CLI's checkpoint, and a
 * checkpoint the CLI writes during a dashboard run is not overwritten.
 */
import { assert, assertEquals, assertMatch } from "./server_assert.ts";
import { connectWs, json, startServer } from "./server_helpers.ts";

const LIMIT = 600;
const ROOT = new URL("../", import.meta.url).pathname;

async function cliTrain(weights: string, labels: string, epochs: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", "cli/train.ts", "--limit", String(LIMIT)],
      ...[
        "--weights",
        weights,
        "--labels",
        labels,
        "--max-epochs",
        String(epochs),
      ],
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
}

Deno.test(
  "dashboard and CLI share the checkpoint without losing each other's training",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const srv = await startServer({ limit: LIMIT });
    const ws = await connectWs(srv.wsUrl);
    const state = async () => (await json(srv.base, "GET", "/api/state")).body;
    const runOnce = async () => {
      const seq = ws.messages.at(-1)?.seq as number ?? 0;
      const r = await json(srv.base, "POST", "/api/training/start", {
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
      const long = await json(srv.base, "POST", "/api/training/start", {
        epochs: 200,
      });
      assertEquals(long.status, 202);
      await ws.waitFor(
        (m) => (m.seq as number) > seq && m.type === "epoch",
        120_000,
      );
      await cliTrain(srv.weightsPath, srv.labelsPath, 1);
      const cliBytes = await Deno.readFile(srv.weightsPath);
      await json(srv.base, "POST", "/api/training/stop");
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
      await Deno.remove(srv.dir, { recursive: true });
    }
  },
);
