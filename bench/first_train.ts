/**
 * `deno run -A bench/first_train.ts [--think 3000]`: the first Train after a
 * start, as a user meets it. Starts the dashboard on MNIST (fresh model, no
 * label graph), waits `--think` ms as a person looking at the page would,
 * then starts a 1-epoch run and prints the time from the POST to the first
 * batch event and to the end of the run.
 */
import { parseArgs } from "node:util";
import { startServer } from "../support/server_process.ts";
import { connectWs, json } from "../support/api_client.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { think: { type: "string", default: "3000" } },
});
const srv = await startServer({ build: false, graph: false });
try {
  // A person's pause before pressing Train, not a wait for an event.
  await new Promise((r) => setTimeout(r, Number(values.think)));
  const ws = await connectWs(`${srv.url.replace(/^http/, "ws")}/api/ws`);
  try {
    const t0 = performance.now();
    const r = await json(srv.url, "POST", "/api/training/start", { epochs: 1 });
    if (r.status !== 202) throw new Error(`train: ${JSON.stringify(r.body)}`);
    await ws.waitFor((m) => m.type === "batch", 300_000);
    const firstBatch = performance.now() - t0;
    await ws.waitFor((m) => m.type === "training_complete", 300_000);
    console.log(
      `first Train, ${values.think} ms after listening: first batch ${
        firstBatch.toFixed(0)
      } ms after the POST, 1-epoch run ${
        ((performance.now() - t0) / 1000).toFixed(2)
      } s`,
    );
  } finally {
    await ws.close();
  }
} finally {
  await srv.stop();
}
