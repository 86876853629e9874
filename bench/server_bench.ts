/**
 * Dashboard server benchmark (`deno task bench:server`), on the full 60k set:
 *
 * - time from process start to ready, without and with a checkpoint;
 * - label-write latency (p50/p95/p99) with 50 concurrent clients, and the
 *   sustained labels/s;
 * - the same while a training run is going (the main thread must stay free);
 * - /api/latent: size, first (encode) and cached fetch times;
 * - stop → idle: from `POST /api/training/stop` sent mid-epoch to the
 *   `training_stopped` event (status idle), and to the stopped run's
 *   `latent_updated` (the map follows).
 *
 * Flags: --seconds N (per load phase, default 5), --clients N (default 50),
 * --limit N (images; default all), --stop-only (only the stop → idle phase),
 * --stops N (stops measured, default 3). Load generator and server share the
 * machine.
 */

import { parseArgs } from "node:util";
import { json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    clients: { type: "string", default: "50" },
    limit: { type: "string", default: "0" },
    "stop-only": { type: "boolean", default: false },
    stops: { type: "string", default: "3" },
  },
});
const STOPS = Number(values.stops);
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const LIMIT = Number(values.limit);

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}

function rssMb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

interface LoadResult {
  latencies: number[];
  ok: number;
  failed: number;
  seconds: number;
}

/** What the benchmark last wrote per index: every write then changes the label. */
const written = new Map<number, number>();

/**
 * CLIENTS loops, each doing one PUT at a time on scattered indices, for
 * `seconds`. Each PUT changes the stored label (never an idempotent no-op),
 * so every acknowledged write cost a real atomic file write.
 */
async function labelLoad(
  base: string,
  count: number,
  seconds: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0, failed = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const client = async (k: number) => {
    let n = 0;
    while (performance.now() < end) {
      const index = (k * 7919 + n++ * 104729) % count;
      const label = ((written.get(index) ?? (k % 10)) + 1) % 10;
      written.set(index, label);
      const t = performance.now();
      const res = await fetch(`${base}/api/labels/${index}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ label }),
      });
      await res.body?.cancel();
      latencies.push(performance.now() - t);
      if (res.status === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
  return {
    latencies: latencies.sort((a, b) => a - b),
    ok,
    failed,
    seconds: (performance.now() - t0) / 1000,
  };
}

function report(name: string, r: LoadResult) {
  const l = r.latencies;
  console.log(
    `${name}: ${r.ok} writes in ${r.seconds.toFixed(1)} s = ${
      (r.ok / r.seconds).toFixed(0)
    } labels/s sustained; latency p50 ${pct(l, 50).toFixed(1)} ms, p95 ${
      pct(l, 95).toFixed(1)
    } ms, p99 ${pct(l, 99).toFixed(1)} ms, max ${l.at(-1)?.toFixed(1)} ms` +
      (r.failed ? `; ${r.failed} FAILED` : ""),
  );
}

async function timeToReady(dir: string, label: string) {
  const t0 = performance.now();
  const srv = await startServer({
    dir,
    limit: LIMIT,
    readyTimeoutMs: 120_000,
    build: true,
  });
  const listening = (performance.now() - t0) / 1000;
  const state = await json(srv.url, "GET", "/api/state");
  const ready = (performance.now() - t0) / 1000;
  console.log(
    `start to ready, ${label}: ${ready.toFixed(2)} s ` +
      `(listening line after ${
        listening.toFixed(2)
      } s; ${state.body.count} images; ` +
      `server RSS ${rssMb(srv.child.pid).toFixed(0)} MB)`,
  );
  return srv;
}

/**
 * Stop → idle, `STOPS` times: start a 3-epoch run, wait for its first epoch,
 * then stop half an epoch later (a fixed wait is fine in a benchmark: it only
 * puts the stop mid-epoch). Prints the time from sending the stop to the
 * `training_stopped` event and to the run's `latent_updated`.
 */
async function stopToIdle(base: string) {
  const ws = new WebSocket(base.replace("http", "ws") + "/api/ws");
  const messages: Array<{ type: string; seq: number; at: number }> = [];
  const waiters: Array<() => void> = [];
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data));
    messages.push({ type: m.type, seq: m.seq, at: performance.now() });
    for (const w of waiters.splice(0)) w();
  };
  await new Promise((r) => (ws.onopen = r));
  const waitFor = async (type: string, afterSeq: number) => {
    while (true) {
      const hit = messages.find((m) => m.type === type && m.seq > afterSeq);
      if (hit) return hit;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const lastSeq = () => messages.at(-1)?.seq ?? 0;
  const idle: number[] = [];
  const mapped: number[] = [];
  for (let i = 0; i < STOPS; i++) {
    const seq = lastSeq();
    const r = await json(base, "POST", "/api/training/start", { epochs: 3 });
    if (r.status !== 202) throw new Error(`start: ${JSON.stringify(r.body)}`);
    const first = await waitFor("epoch", seq);
    const epochMs = first.at - (await waitFor("training_started", seq)).at;
    await new Promise((r) => setTimeout(r, epochMs / 2));
    const t0 = performance.now();
    const stop = await json(base, "POST", "/api/training/stop");
    if (stop.status !== 202) throw new Error(`stop: ${stop.status}`);
    const done = await waitFor("training_stopped", seq);
    idle.push(done.at - t0);
    mapped.push((await waitFor("latent_updated", first.seq)).at - t0);
  }
  ws.close();
  const fmt = (a: number[]) => a.map((x) => x.toFixed(0)).join(", ");
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  console.log(
    `stop → idle (training_stopped), mid-epoch: median ${
      median(idle).toFixed(0)
    } ms (${fmt(idle)}); stop → map updated (latent_updated): median ${
      median(mapped).toFixed(0)
    } ms (${fmt(mapped)})`,
  );
}

const dir = await Deno.makeTempDir({ prefix: "ssvae_bench_" });
if (values["stop-only"]) {
  try {
    const srv = await startServer({
      dir,
      limit: LIMIT,
      readyTimeoutMs: 300_000,
    });
    try {
      const count = (await json(srv.url, "GET", "/api/state")).body.count;
      console.log(`stop benchmark: ${count} images, ${STOPS} stops`);
      await stopToIdle(srv.url);
    } finally {
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  Deno.exit(0);
}
try {
  console.log(
    `server benchmark: ${
      LIMIT || "all"
    } images, ${CLIENTS} clients, ${SECONDS} s per phase`,
  );
  // 1. Cold start without a checkpoint.
  let srv = await timeToReady(dir, "no checkpoint");
  const count = (await json(srv.url, "GET", "/api/state")).body
    .count as number;

  // 2. /api/latent.
  let t = performance.now();
  let res = await fetch(`${srv.url}/api/latent`);
  const size = (await res.arrayBuffer()).byteLength;
  const firstMs = performance.now() - t;
  t = performance.now();
  res = await fetch(`${srv.url}/api/latent`);
  await res.arrayBuffer();
  const cachedMs = performance.now() - t;
  const etag = res.headers.get("etag")!;
  t = performance.now();
  res = await fetch(`${srv.url}/api/latent`, {
    headers: { "if-none-match": etag },
  });
  await res.body?.cancel();
  const revalidateMs = performance.now() - t;
  console.log(
    `/api/latent: ${(size / 1024).toFixed(0)} KiB; first ${
      firstMs.toFixed(1)
    } ms, ` +
      `cached ${cachedMs.toFixed(1)} ms, 304 revalidation ${
        revalidateMs.toFixed(1)
      } ms`,
  );

  // 3. Label writes, idle server.
  report(
    `label writes, ${CLIENTS} clients, idle`,
    await labelLoad(srv.url, count, SECONDS),
  );

  // 4. Label writes during training (one epoch is long enough on 60k).
  const started = performance.now();
  const ws = new WebSocket(srv.url.replace("http", "ws") + "/api/ws");
  const done = new Promise<number>((resolve) => {
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data));
      if (
        ["training_complete", "training_stopped", "training_error"].includes(
          m.type,
        )
      ) {
        resolve((performance.now() - started) / 1000);
      }
    };
  });
  await new Promise((r) => (ws.onopen = r));
  const start = await json(srv.url, "POST", "/api/training/start", {
    epochs: 1,
  });
  if (start.status !== 202) {
    throw new Error(`start: ${JSON.stringify(start.body)}`);
  }
  const stateLat: number[] = [];
  const statePoll = (async () => {
    const end = performance.now() + SECONDS * 1000;
    while (performance.now() < end) {
      const t1 = performance.now();
      await json(srv.url, "GET", "/api/state");
      stateLat.push(performance.now() - t1);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  report(
    `label writes, ${CLIENTS} clients, during training`,
    await labelLoad(srv.url, count, SECONDS),
  );
  await statePoll;
  stateLat.sort((a, b) => a - b);
  console.log(
    `GET /api/state during training: p50 ${
      pct(stateLat, 50).toFixed(1)
    } ms, p95 ${pct(stateLat, 95).toFixed(1)} ms`,
  );
  const runSeconds = await done;
  ws.close();
  console.log(
    `1-epoch run via the API (train + save + predict ${count}): ${
      runSeconds.toFixed(1)
    } s`,
  );
  const labelled = (await json(srv.url, "GET", "/api/state")).body.labelled;

  // 5. Stop → idle.
  await stopToIdle(srv.url);
  await srv.stop();

  // 6. Warm start with the checkpoint (and the labels) the run left behind.
  srv = await timeToReady(dir, `with checkpoint, ${labelled} labels`);
  await srv.stop();
} finally {
  await Deno.remove(dir, { recursive: true });
}
