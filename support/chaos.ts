/**
 * The reliability probes, shared by the quick suite (tests/chaos_test.ts) and
 * the long one (`deno task bench:chaos`): bad requests to every route, path
 * traversal, damaged files of every kind the server reads, and SIGKILLs in
 * the middle of writes, saves and builds. Each probe returns a row of
 * tried / handled / lost with what it saw.
 */

import { json, rawRequest } from "./api_client.ts";
import {
  readLabelsCsv,
  type ServerProcess,
  startServer,
} from "./server_process.ts";
import { labelFromFolders, writeImageFolder } from "./image_fixtures.ts";
import { waitUntil } from "./wait.ts";
import type { ApiState } from "../lib/protocol/api.ts";
import { BODY_LIMITS, MAX_BATCH } from "../lib/protocol/limits.ts";

/** One line of the table. */
export interface ChaosRow {
  area: string;
  tried: number;
  /** Refused with a clear 4xx / a clear start error, or reported and rebuilt. */
  handled: number;
  /** Acknowledged labels gone, a user's file changed, a damaged file used silently. */
  lost: number;
  /** What was not handled, or the figures (e.g. writes/s). */
  notes: string[];
  /** Each case and what became of it (the bench prints them). */
  cases?: string[];
}

/** An empty row of `area`. */
function newRow(area: string): ChaosRow {
  return { area, tried: 0, handled: 0, lost: 0, notes: [] };
}

/** A request that must be refused: a 4xx JSON `{ error }`, nothing written. */
interface BadRequest {
  name: string;
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = { "content-type": "application/json" };

/** Bad requests to every route (a sample of each kind of mistake). */
export function badRequests(count: number): BadRequest[] {
  const put = (path: string, body: string, name: string): BadRequest => ({
    name,
    method: "PUT",
    path,
    body,
    headers: JSON_TYPE,
  });
  const post = (path: string, body: string, name: string): BadRequest => ({
    name,
    method: "POST",
    path,
    body,
    headers: JSON_TYPE,
  });
  const get = (path: string, name: string): BadRequest => ({
    name,
    method: "GET",
    path,
  });
  return [
    // Labels, one image.
    ...[
      "-1",
      "abc",
      "1.5",
      String(count),
      "1e3",
      "0x10",
      "99999999999999999999",
    ]
      .map((i) =>
        put(`/api/labels/${i}`, '{"label":1}', `PUT label index ${i}`)
      ),
    ...[
      '{"label":10}',
      '{"label":-1}',
      '{"label":1.5}',
      '{"label":"3"}',
      '{"label":null}',
      "{}",
      "[]",
      "null",
      '{"label":1',
      "not json",
    ]
      .map((b) => put("/api/labels/1", b, `PUT label body ${b}`)),
    {
      ...put("/api/labels/1", '{"label":1}', "PUT label as text/plain"),
      headers: { "content-type": "text/plain" },
    },
    put(
      "/api/labels/1",
      `{"label":1,"pad":"${"x".repeat(BODY_LIMITS.json + 10)}"}`,
      "PUT label body over the cap",
    ),
    { name: "DELETE label index -1", method: "DELETE", path: "/api/labels/-1" },
    get("/api/labels/abc", "GET label index abc"),
    get(`/api/labels/${count}/history`, "GET history index out of range"),
    // Labels, batches.
    ...[
      '{"changes":{}}',
      '{"changes":[{"index":-1,"label":1}]}',
      '{"changes":[{"index":1,"label":11}]}',
      '{"changes":[{"index":1}]}',
      '{"changes":[{"index":1,"label":1},{"index":1,"label":2}]}',
      '{"changes":"x"}',
    ]
      .map((b) => put("/api/labels", b, `PUT batch ${b.slice(0, 40)}`)),
    put(
      "/api/labels",
      JSON.stringify({
        changes: Array.from(
          { length: MAX_BATCH + 1 },
          (_, i) => ({ index: i % count, label: 1 }),
        ),
      }),
      "PUT batch over MAX_BATCH",
    ),
    ...[
      '{"csv":"Serial,label\\n1,99\\n"}',
      '{"csv":"nope"}',
      '{"csv":5}',
      '{"csv":"Serial,label\\n-4,1\\n"}',
      '{"csv":"Serial,label\\n1,1\\n","dryRun":"yes"}',
    ]
      .map((b) => post("/api/labels/import", b, `import ${b.slice(0, 40)}`)),
    ...['{"ops":"x"}', '{"ops":[{"index":-1,"label":1}]}', "{}"]
      .map((b) => post("/api/labels/sync", b, `sync ${b}`)),
    post("/api/labels/batches/abc/revert", "{}", "revert batch abc"),
    post(
      "/api/labels/batches/999999/revert",
      "{}",
      "revert a batch that does not exist",
    ),
    // Reading.
    ...["-1", "x", String(count), "1/2"].map((i) =>
      get(`/api/samples/${i}`, `sample ${i}`)
    ),
    ...[
      "",
      "?indices=",
      "?indices=a,b",
      `?indices=${count}`,
      `?indices=${"1,".repeat(5000)}1`,
    ]
      .map((q) => get(`/api/thumbnails${q}`, `thumbnails ${q.slice(0, 30)}`)),
    get("/api/images/nope/0", "image chunk of another set"),
    get("/api/review?limit=-5", "review limit -5"),
    post("/api/review/1/confirm", '{"label":99}', "confirm label 99"),
    get("/api/state/extra", "unknown route"),
    // Training.
    ...[
      '{"epochs":0}',
      '{"epochs":-1}',
      '{"epochs":"ten"}',
      '{"epochs":1e9}',
      '{"learning_rate":-1}',
      '{"kl_weight":"x"}',
    ]
      .map((b) => post("/api/training/start", b, `train ${b}`)),
    // Origins and hosts.
    {
      ...put("/api/labels/1", '{"label":1}', "cross-site write"),
      headers: { ...JSON_TYPE, origin: "http://evil.example" },
    },
    {
      ...put(
        "/api/labels/1",
        '{"label":1}',
        "write with Sec-Fetch-Site cross-site",
      ),
      headers: { ...JSON_TYPE, "sec-fetch-site": "cross-site" },
    },
    {
      ...put("/api/labels/1", '{"label":1}', 'write with Origin "null"'),
      headers: { ...JSON_TYPE, origin: "null" },
    },
  ];
}

/** Paths that try to leave static/ or reach the user's files. */
export const TRAVERSALS = [
  "/static/../deno.json",
  "/static/..%2fdeno.json",
  "/static/%2e%2e/%2e%2e/etc/passwd",
  "/static/..%5c..%5cdeno.json",
  "/static//etc/passwd",
  "/static/%00app.css",
  "/static/.hidden",
  "/static/build/../../main.ts",
  "/%2e%2e/deno.json",
  "/api/samples/..%2f..%2fetc%2fpasswd",
  `/static/${"a".repeat(300)}`,
  `/static/${"a/".repeat(2000)}x`,
];

/**
 * Sends every bad request and traversal to `srv`; handled = a 4xx (or
 * the right refusal) with a JSON error that names no path of this machine;
 * lost = labels.csv changed by any of them.
 */
export async function probeBadInputs(srv: ServerProcess): Promise<ChaosRow[]> {
  const state = (await json(srv.url, "GET", "/api/state"))
    .body as unknown as ApiState;
  const before = await Deno.readTextFile(srv.labelsPath);
  const rows: ChaosRow[] = [];
  const root = new URL("../", import.meta.url).pathname;
  const row: ChaosRow = newRow("bad requests, every route");
  for (const r of badRequests(state.count)) {
    row.tried++;
    const res = await fetch(srv.url + r.path, {
      method: r.method,
      headers: r.headers,
      body: r.body,
    });
    const text = await res.text();
    let error = "";
    try {
      error = String(JSON.parse(text).error ?? "");
    } catch { /* not JSON: not handled */ }
    if (
      res.status >= 400 && res.status < 500 && error !== "" &&
      !text.includes(root)
    ) row.handled++;
    else row.notes.push(`${r.name}: ${res.status} ${text.slice(0, 80)}`);
  }
  // A foreign Host (DNS rebinding) on a read.
  row.tried++;
  const host = await rawRequest(srv.port, [
    "GET /api/state HTTP/1.1",
    "Host: evil.example",
  ]);
  if (host.status === 403 && !host.text.includes('"count"')) row.handled++;
  else row.notes.push(`foreign Host: ${host.status}`);
  rows.push(row);

  const trav: ChaosRow = newRow("path traversal");
  for (const path of TRAVERSALS) {
    trav.tried++;
    // Raw, so the client does not normalise the dots away.
    const res = await rawRequest(srv.port, [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${srv.port}`,
    ]);
    const leaked =
      /nodeModulesDir|root:x:0|startServer|\/work\//.test(res.text) ||
      res.text.includes(root);
    if (res.status >= 400 && res.status < 500 && !leaked) trav.handled++;
    else {trav.notes.push(
        `${path.slice(0, 40)}: ${res.status}${leaked ? " (leaked)" : ""}`,
      );}
  }
  rows.push(trav);
  const after = await Deno.readTextFile(srv.labelsPath);
  if (after !== before) rows[0].lost++;
  return rows;
}

/** A folder of 3 × `perClass` images, its labels (10 labelled) and a trained checkpoint with every file the server writes. */
export async function makeBaseline(
  dir: string,
  perClass = 20,
): Promise<{ imagesDir: string; labelled: number }> {
  const fx = await writeImageFolder(`${dir}/images`, {
    classes: [0, 1, 7],
    perClass,
  });
  const srv = await startServer({
    dir: `${dir}/state`,
    keepDir: true,
    args: ["--images", fx.dir, "--holdout", "0.2"],
    graph: true,
    build: false,
  });
  try {
    const { labelled } = await labelFromFolders(srv.url, 4);
    await waitUntil("the graph ready", async () => {
      const s = (await json(srv.url, "GET", "/api/state"))
        .body as unknown as ApiState;
      return s.graph?.status === "ready" && !s.graph.provisional;
    }, { timeoutMs: 120_000 });
    const start = await json(srv.url, "POST", "/api/training/start", {
      epochs: 1,
    }, { origin: srv.url });
    if (start.status !== 202) throw new Error(`training: ${start.status}`);
    await waitUntil("the run saved and scored", async () => {
      const s = (await json(srv.url, "GET", "/api/state"))
        .body as unknown as ApiState;
      if (s.training.status === "error") throw new Error(s.training.message);
      return s.training.status === "idle" && s.history.length > 0 &&
        (await Deno.stat(`${dir}/state/ssvae.ckpt.runs.json`).then(
          () => true,
          () => false,
        ));
    }, { timeoutMs: 300_000 });
    return { imagesDir: fx.dir, labelled };
  } finally {
    await srv.stop();
  }
}

/** How a file is damaged. */
export type Corruption = "flip" | "truncate" | "garbage";

function corrupt(bytes: Uint8Array, how: Corruption): Uint8Array {
  if (how === "truncate") return bytes.slice(0, Math.floor(bytes.length / 2));
  if (how === "garbage") return new TextEncoder().encode("garbage\n");
  const out = bytes.slice();
  const mid = Math.floor(out.length / 2);
  for (let i = mid; i < Math.min(out.length, mid + 64); i++) out[i] ^= 0xff;
  return out;
}

/** The files of a baseline the server reads, by kind (glob-free: found by name). */
function filesOf(state: string): Array<{ kind: string; path: string }> {
  const names = [...Deno.readDirSync(state)].map((e) => e.name);
  const cache = [...Deno.readDirSync(`${state}/cache`)].map((e) => e.name);
  const pick = (list: string[], re: RegExp) => list.find((n) => re.test(n));
  return [
    { kind: "checkpoint", path: `${state}/ssvae.ckpt` },
    { kind: "labels.csv", path: `${state}/labels.csv` },
    { kind: "image index", path: `${state}/labels.index.csv` },
    {
      kind: "pixel cache",
      path: `${state}/${pick(names, /\.images-.*\.cache$/)}`,
    },
    {
      kind: "label graph cache",
      path: `${state}/cache/${pick(cache, /^label-graph-.*\.bin$/)}`,
    },
    {
      kind: "feature choice cache",
      path: `${state}/cache/${pick(cache, /^features-.*\.json$/)}`,
    },
    { kind: "runs.json", path: `${state}/ssvae.ckpt.runs.json` },
    { kind: "label history", path: `${state}/labels.history.sqlite` },
  ];
}

/**
 * For every kind of file and every corruption: a copy of the baseline with
 * that file damaged, a start on it, and what became of it. Handled: the start
 * is refused naming the file (which is left as it was), or the server starts,
 * says so (terminal or page) and does not use it. Lost: it started silently
 * on the damaged file, or labels went missing.
 */
export async function probeCorruptFiles(
  baseline: string,
  imagesDir: string,
  labelled: number,
  corruptions: Corruption[],
): Promise<ChaosRow> {
  const row: ChaosRow = newRow("damaged files at start");
  for (const how of corruptions) {
    for (const { kind, path } of filesOf(`${baseline}/state`)) {
      row.tried++;
      const dir = await Deno.makeTempDir({ prefix: "ssvae_chaos_" });
      try {
        await copyDir(`${baseline}/state`, dir);
        const file = path.replace(`${baseline}/state`, dir);
        const name = file.split("/").pop()!;
        // SQLite keeps recent pages in its -wal: damage the pair as one.
        await Deno.remove(`${file}-wal`).catch(() => {});
        await Deno.remove(`${file}-shm`).catch(() => {});
        const damaged = corrupt(await Deno.readFile(file), how);
        await Deno.writeFile(file, damaged);
        const outcome = await startOn(dir, imagesDir, name);
        const untouched = await Deno.readFile(file).then(
          (b) =>
            b.length === damaged.length && b.every((v, i) => v === damaged[i]),
          () => false,
        );
        (row.cases ??= []).push(
          `${kind} (${how}): ${outcome.kind}${
            untouched ? "" : ", file changed"
          } — ${outcome.detail.slice(0, 160)}`,
        );
        const userFile = kind === "checkpoint" || kind === "labels.csv" ||
          kind === "image index";
        if (outcome.kind === "refused" && untouched) row.handled++;
        else if (
          outcome.kind === "reported" &&
          outcome.labelled === expectedLabels(kind, labelled, outcome.labelled)
        ) {
          row.handled++;
        } else if (outcome.kind === "silent" && !userFile) {
          row.lost++;
          row.notes.push(`${kind} (${how}): used without a word`);
        } else if (outcome.kind === "silent" && kind === "labels.csv") {
          // A cut CSV can still be a valid one: the user's text, loaded as written.
          row.handled++;
          row.notes.push(
            `${kind} (${how}): still a valid CSV, loaded as written (${outcome.labelled} labels)`,
          );
        } else {
          row.notes.push(
            `${kind} (${how}): ${outcome.kind}${
              untouched ? "" : ", file changed"
            }: ${outcome.detail.slice(0, 120)}`,
          );
          if (!untouched && userFile) row.lost++;
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  }
  return row;
}

/** The labels count a start should show: all of them, unless labels.csv itself was damaged. */
function expectedLabels(kind: string, labelled: number, got: number): number {
  return kind === "labels.csv" ? got : labelled;
}

interface StartOutcome {
  kind: "refused" | "reported" | "silent";
  labelled: number;
  detail: string;
}

async function startOn(
  dir: string,
  imagesDir: string,
  name: string,
): Promise<StartOutcome> {
  let srv: ServerProcess;
  try {
    srv = await startServer({
      dir,
      keepDir: true,
      args: ["--images", imagesDir, "--holdout", "0.2"],
      graph: true,
      build: false,
      readyTimeoutMs: 60_000,
    });
  } catch (e) {
    const text = (e as Error).message;
    return {
      kind: text.includes(name) ? "refused" : "silent",
      labelled: 0,
      detail: text.split("\n").slice(-4).join(" | "),
    };
  }
  try {
    // The graph worker reads its caches after the listening line.
    const state = await waitUntil("the graph ready", async () => {
      const s = (await json(srv.url, "GET", "/api/state"))
        .body as unknown as ApiState;
      return s.graph?.status === "ready" && !s.graph.provisional ? s : null;
    }, { timeoutMs: 60_000 });
    const evaluations = (await json(srv.url, "GET", "/api/evaluations")).body;
    const said = srv.output().includes(name) ||
      (state.notices ?? []).some((n) => n.title.includes(name)) ||
      JSON.stringify(evaluations).includes(name);
    const labelled = await readLabelsCsv(`${dir}/labels.csv`).then(
      (m) => m.size,
      () => -1,
    );
    const line = srv.output().split("\n").find((l) => l.includes(name)) ??
      (state.notices ?? []).find((n) => n.title.includes(name))?.title ??
      (said ? "in /api/evaluations" : "");
    return { kind: said ? "reported" : "silent", labelled, detail: line };
  } finally {
    await srv.stop();
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) {
      await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  }
}

/** A seeded stream of numbers in [0, 1) (mulberry32): the kill moments repeat. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Temp files (`.*.tmp`) anywhere under `dir`. */
function tempFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...tempFiles(p));
    else if (e.name.startsWith(".") && e.name.endsWith(".tmp")) out.push(p);
  }
  return out;
}

/**
 * SIGKILL in a storm of label writes (16 clients, each its own images), at a
 * random count of acknowledged writes; then a restart. Tried: acknowledged
 * writes; lost: those missing after the restart (or a CSV that no longer
 * parses, which loses them all).
 */
export async function probeKillDuringWrites(
  rounds: number,
  seed = 1,
): Promise<ChaosRow> {
  const row: ChaosRow = newRow("SIGKILL during label writes");
  const rnd = seeded(seed);
  const dir = await Deno.makeTempDir({ prefix: "ssvae_chaos_kill_" });
  const n = 2000;
  try {
    for (let round = 0; round < rounds; round++) {
      const srv = await startServer({
        build: false,
        dir,
        keepDir: true,
        limit: n,
      });
      const target = 500 + Math.floor(rnd() * 2500);
      // Each image's last acknowledged state, and how many writes were acknowledged.
      const acked = new Map<number, number | null>();
      let acks = 0;
      let stop = false;
      const client = async (k: number) => {
        for (let m = 0; !stop; m++) {
          const index = (k + 16 * m) % n;
          const del = (round + m) % 5 === 4;
          const label = (index * 7 + round) % 10;
          try {
            const res = await fetch(`${srv.url}/api/labels/${index}`, {
              method: del ? "DELETE" : "PUT",
              headers: JSON_TYPE,
              body: del ? undefined : JSON.stringify({ label }),
            });
            await res.body?.cancel();
            if (res.status === 200) {
              acked.set(index, del ? null : label);
              acks++;
            }
          } catch {
            break; // cut off by the kill: not acknowledged
          }
        }
      };
      const clients = Array.from({ length: 16 }, (_, k) => client(k));
      await waitUntil(
        `${target} acknowledged writes`,
        () => acks >= target,
        { intervalMs: 2 },
      );
      await srv.kill();
      stop = true;
      await Promise.all(clients);
      row.tried += acks;
      let csv: Map<number, number>;
      try {
        csv = await readLabelsCsv(`${dir}/labels.csv`);
      } catch (e) {
        row.lost += acks;
        row.notes.push(
          `round ${round}: labels.csv unreadable: ${(e as Error).message}`,
        );
        continue;
      }
      // An image whose last acknowledged state is not in the file lost (at
      // least) that write; every other acknowledged write is accounted for.
      let lost = 0;
      for (const [index, label] of acked) {
        if (!(label === null ? !csv.has(index) : csv.get(index) === label)) {
          lost++;
        }
      }
      row.lost += lost;
      row.handled += acks - lost;
      // The restart reads it all back, and sweeps the killed writer's temp files.
      const again = await startServer({
        build: false,
        dir,
        keepDir: true,
        limit: n,
      });
      const state = (await json(again.url, "GET", "/api/state"))
        .body as unknown as ApiState;
      await again.stop();
      if (state.labelled !== csv.size) {
        row.notes.push(
          `round ${round}: ${state.labelled} labelled after restart, CSV has ${csv.size}`,
        );
      }
      const left = tempFiles(dir).filter((p) => !p.includes("/cache/"));
      if (left.length > 0) {
        row.notes.push(`round ${round}: temp files left: ${left.join(", ")}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return row;
}

/**
 * SIGKILL while a training run trains and saves (a random moment in its
 * first seconds, the end-of-run save included for some), then a restart on
 * the same files. Handled: the restart loads the checkpoint (the old or the
 * new one) or, before the first save, starts fresh; lost: it refuses a
 * damaged checkpoint, or labels are gone.
 */
export async function probeKillDuringSaves(
  rounds: number,
  seed = 2,
): Promise<ChaosRow> {
  const row: ChaosRow = newRow("SIGKILL during training and checkpoint saves");
  const rnd = seeded(seed);
  const dir = await Deno.makeTempDir({ prefix: "ssvae_chaos_save_" });
  try {
    await Deno.writeTextFile(
      `${dir}/labels.csv`,
      "Serial,label\n" + Array.from({ length: 50 }, (_, i) =>
        `${i},${i % 10}`).join("\n") +
        "\n",
    );
    for (let round = 0; round < rounds; round++) {
      row.tried++;
      let srv: ServerProcess;
      try {
        srv = await startServer({
          build: false,
          dir,
          keepDir: true,
          limit: 3000,
        });
      } catch (e) {
        row.lost++;
        row.notes.push(
          `round ${round}: restart refused: ${
            (e as Error).message.split("\n").slice(-2).join(" | ")
          }`,
        );
        break;
      }
      const start = await json(srv.url, "POST", "/api/training/start", {
        epochs: 2,
      }, { origin: srv.url });
      if (start.status !== 202) {
        row.notes.push(`round ${round}: training ${start.status}`);
      }
      // Epochs of 3000 images take ~1-2 s here; the save follows the last.
      await new Promise((r) => setTimeout(r, 500 + rnd() * 4000));
      await srv.kill();
      const labels = await readLabelsCsv(`${dir}/labels.csv`).catch(() =>
        new Map()
      );
      if (labels.size !== 50) {
        row.lost++;
        row.notes.push(`round ${round}: ${labels.size} labels after the kill`);
        continue;
      }
      row.handled++;
    }
    // The last restart too.
    try {
      const last = await startServer({
        build: false,
        dir,
        keepDir: true,
        limit: 3000,
      });
      row.notes.push(
        `last start: ${
          /checkpoint loaded|fresh model/.exec(last.output())?.[0] ?? "?"
        }`,
      );
      await last.stop();
    } catch (e) {
      row.lost++;
      row.notes.push(
        `last restart refused: ${
          (e as Error).message.split("\n").slice(-2).join(" | ")
        }`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return row;
}

/**
 * SIGKILL while the label graph is built (a quick graph serving, the real one
 * in its worker, 16k images), at a random moment; then a restart that must
 * reach a ready graph (built or from cache), with no temp file left.
 */
export async function probeKillDuringBuilds(
  rounds: number,
  seed = 3,
): Promise<ChaosRow> {
  const row: ChaosRow = newRow("SIGKILL during label graph builds");
  const rnd = seeded(seed);
  const dir = await Deno.makeTempDir({ prefix: "ssvae_chaos_graph_" });
  const opts = { build: false, dir, keepDir: true, limit: 16000, graph: true };
  try {
    for (let round = 0; round < rounds; round++) {
      row.tried++;
      const srv = await startServer(opts);
      await new Promise((r) => setTimeout(r, 1000 + rnd() * 15000));
      await srv.kill();
      const again = await startServer(opts);
      try {
        const s = await waitUntil("a ready graph", async () => {
          const st = (await json(again.url, "GET", "/api/state"))
            .body as unknown as ApiState;
          return st.graph?.status === "ready" && !st.graph.provisional ||
              st.graph?.status === "error"
            ? st
            : null;
        }, { timeoutMs: 240_000 });
        const left = tempFiles(dir);
        if (s.graph?.status === "ready" && left.length === 0) row.handled++;
        else {
          row.lost++;
          row.notes.push(
            `round ${round}: ${s.graph?.status} ${s.graph?.message ?? ""} ${
              left.join(", ")
            }`,
          );
        }
      } finally {
        await again.stop();
      }
      // Next round builds again: the cache is removed.
      await Deno.remove(`${dir}/cache`, { recursive: true }).catch(() => {});
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return row;
}

/**
 * Label writes from 16 clients for `seconds`, idle or while a training run
 * trains: writes per second, the p95 latency of an acknowledged write, and
 * the server's resident memory before and after (it must stay flat).
 */
export async function loadFigures(
  seconds: number,
  duringTraining: boolean,
): Promise<
  { writes: number; perSecond: number; p95: number; rssMiB: [number, number] }
> {
  const srv = await startServer({ build: false, limit: 10000 });
  const rss = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(
      Deno.readTextFileSync(`/proc/${srv.child.pid}/status`),
    );
    return m ? Number(m[1]) / 1024 : NaN;
  };
  try {
    if (duringTraining) {
      await json(srv.url, "PUT", "/api/labels", {
        changes: Array.from(
          { length: 50 },
          (_, i) => ({ index: i, label: i % 10 }),
        ),
      }, { origin: srv.url });
      await json(srv.url, "POST", "/api/training/start", { epochs: 50 }, {
        origin: srv.url,
      });
    }
    const times: number[] = [];
    let end = 0;
    const client = async (k: number) => {
      for (let m = 0; performance.now() < end; m++) {
        const t0 = performance.now();
        const res = await fetch(
          `${srv.url}/api/labels/${(k * 613 + m) % 10000}`,
          {
            method: "PUT",
            headers: JSON_TYPE,
            body: JSON.stringify({ label: m % 10 }),
          },
        );
        await res.body?.cancel();
        if (res.status === 200) times.push(performance.now() - t0);
      }
    };
    const storm = async (ms: number) => {
      end = performance.now() + ms;
      await Promise.all(Array.from({ length: 16 }, (_, k) => client(k)));
    };
    // A warm-up first: the memory of what a start still sets up (the
    // training floats after `ready`, the first writes) is not a leak.
    await storm(3000);
    times.length = 0;
    const rssBefore = rss();
    await storm(seconds * 1000);
    times.sort((a, b) => a - b);
    return {
      writes: times.length,
      perSecond: times.length / seconds,
      p95: times[Math.floor(times.length * 0.95)] ?? NaN,
      rssMiB: [rssBefore, rss()],
    };
  } finally {
    await srv.stop();
  }
}
