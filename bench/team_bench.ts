/**
 * A team labelling at once (`deno task bench:team`): N annotators with
 * their own sessions label images of their own (disjoint slices) at R
 * labels a second each, for S seconds, while the owner's training run goes
 * on, against a real team server (accounts in SQLite) on the full 60k.
 * Prints the label-write latency (p50/p95/p99/max), the writes made, and
 * then checks the files: every acknowledged label in labels.csv (lost = 0)
 * and every one logged under the annotator who made it (misattributed = 0).
 *
 * Flags: --annotators N (default 20), --rate R (labels per second per
 * annotator, default 2), --seconds S (default 60), --limit N (images;
 * default all), --graph (run the label graph too; default off), --runs K
 * (repeat, default 1), --postgres (accounts and the shared label log in a
 * real PostgreSQL server the bench starts; default SQLite). Load generator
 * and server share the machine.
 */

import { parseArgs } from "node:util";
import { json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";
import { openAccounts } from "../lib/team/open_team.ts";
import { startPostgres } from "../support/postgres.ts";
import { SESSION_COOKIE } from "../lib/protocol/team.ts";
import { DatabaseSync } from "node:sqlite";
import { Rng } from "../lib/ssvae/rng.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    annotators: { type: "string", default: "20" },
    rate: { type: "string", default: "2" },
    seconds: { type: "string", default: "60" },
    limit: { type: "string", default: "0" },
    graph: { type: "boolean", default: false },
    runs: { type: "string", default: "1" },
    postgres: { type: "boolean", default: false },
  },
});
const N = Number(values.annotators);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const LIMIT = Number(values.limit);
const RUNS = Number(values.runs);

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}

async function run(k: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_bench_team_" });
  try {
    await using pg = values.postgres ? await startPostgres() : null;
    const teamDb = pg ? pg.url : `${dir}/labels.team.sqlite`;
    const accounts = await openAccounts(teamDb);
    const owner = await accounts.acceptInvite(
      (await accounts.invite("owner", "owner")).token,
      "correct horse battery",
    );
    const cookies: string[] = [];
    for (let a = 0; a < N; a++) {
      const s = await accounts.acceptInvite(
        (await accounts.invite(`ann${a}`, "annotator")).token,
        "correct horse battery",
      );
      cookies.push(`${SESSION_COOKIE}=${s!.token}`);
    }
    await accounts.close();
    await using srv = await startServer({
      dir,
      build: false,
      ...(LIMIT > 0 ? { limit: LIMIT } : {}),
      graph: values.graph,
      args: ["--db", teamDb],
    });
    const count = (await json(srv.url, "GET", "/api/state", undefined, {
      cookie: `${SESSION_COOKIE}=${owner!.token}`,
    })).body.count as number;
    const start = await json(srv.url, "POST", "/api/training/start", {
      epochs: 200,
    }, { cookie: `${SESSION_COOKIE}=${owner!.token}` });
    if (start.status !== 202) {
      throw new Error(`training start: ${JSON.stringify(start.body)}`);
    }
    const slice = Math.floor(count / N);
    const latencies: number[] = [];
    /** index → [label, annotator] of every acknowledged write. */
    const acked = new Map<number, [number, string]>();
    let failed = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(cookies.map(async (cookie, a) => {
      const rng = new Rng(1000 * k + a);
      let next = a * slice;
      while (performance.now() < end) {
        const i = next++;
        const label = Math.floor(rng.uniform() * 10);
        const t0 = performance.now();
        const r = await json(srv.url, "PUT", `/api/labels/${i}`, {
          label,
          source: "key",
        }, { cookie });
        latencies.push(performance.now() - t0);
        if (r.status === 200) acked.set(i, [label, `ann${a}`]);
        else failed++;
        // A person's pace: exponential gaps around 1/RATE seconds.
        const gap = -Math.log(1 - rng.uniform()) * 1000 / RATE;
        await new Promise((res) => setTimeout(res, gap));
      }
    }));
    const epochs = (await json(srv.url, "GET", "/api/state", undefined, {
      cookie: `${SESSION_COOKIE}=${owner!.token}`,
    })).body.training as { epoch?: number; status: string };
    await json(srv.url, "POST", "/api/training/stop", undefined, {
      cookie: `${SESSION_COOKIE}=${owner!.token}`,
    });
    await srv.stop();

    // The files, after the server is gone: what an acknowledgement promised.
    const csv = new Map<number, number>();
    for (
      const line of (await Deno.readTextFile(srv.labelsPath)).split("\n").slice(
        1,
      )
    ) {
      if (!line) continue;
      const [s, l] = line.split(",").map(Number);
      csv.set(s, l);
    }
    const db = new DatabaseSync(`${dir}/labels.history.sqlite`);
    const last = new Map<number, string | null>();
    for (
      const r of db.prepare("SELECT serial, annotator FROM events ORDER BY id")
        .all() as Array<{ serial: number; annotator: string | null }>
    ) last.set(r.serial, r.annotator);
    db.close();
    let lost = 0;
    let misattributed = 0;
    for (const [i, [label, who]] of acked) {
      if (csv.get(i) !== label) lost++;
      if (last.get(i) !== who) misattributed++;
    }
    latencies.sort((x, y) => x - y);
    const f = (v: number) => v.toFixed(1);
    console.log(
      `run ${k + 1} (${
        pg ? "PostgreSQL" : "SQLite"
      }): ${N} annotators × ${RATE}/s for ${SECONDS} s on ${count} images, training ${epochs.status} (epoch ${
        epochs.epoch ?? "?"
      }): ${latencies.length} writes (${
        (latencies.length / SECONDS).toFixed(1)
      }/s), ${failed} failed; latency ms p50 ${f(pct(latencies, 50))} p95 ${
        f(pct(latencies, 95))
      } p99 ${f(pct(latencies, 99))} max ${
        f(latencies.at(-1) ?? NaN)
      }; lost ${lost}, misattributed ${misattributed} (of ${acked.size} acknowledged)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

for (let k = 0; k < RUNS; k++) await run(k);
