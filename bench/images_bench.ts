/**
 * `deno task bench:images [--count 60000] [--dir PATH] [--keep]`: writes
 * `count` Fashion-MNIST PNGs in one sub-folder per class (named), then times
 * the first decode into the cache, a cached read, and dashboard starts on
 * the cached folder and on the embedded MNIST (same flags), and prints the
 * figures (wall and CPU time: the machine may be shared) and peak memory.
 * `--with-graph` adds a user's start: the label graph built, one epoch.
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { encode } from "fast-png";
import { readIdxFile } from "../lib/data/idx.ts";
import { prepareImageFolder } from "../lib/images/prepare.ts";
import {
  FASHION_DIR as FASHION,
  FASHION_NAMES as NAMES,
} from "../support/image_fixtures.ts";
import { startServer } from "../support/server_process.ts";
import { connectWs, json } from "../support/api_client.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "60000" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
    "no-server": { type: "boolean", default: false },
    /** Only the two dashboard starts (the folder and its cache exist from a run before). */
    "starts-only": { type: "boolean", default: false },
    /**
     * Also a start as a user runs it: label graph on (built afresh), then
     * one training epoch; seconds and peak memory after each.
     */
    "with-graph": { type: "boolean", default: false },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) {
  throw new Error(`--count: ${values.count}`);
}
const root = values.dir ??
  await Deno.makeTempDir({ prefix: "ssvae_bench_images_" });
const imagesDir = `${root}/images`;
const labelsPath = `${root}/state/labels.csv`;

function rssMiB(): number {
  return Deno.memoryUsage().rss / 2 ** 20;
}

async function writeFolder() {
  const existing = await Deno.stat(`${imagesDir}/.complete`).then(
    () => true,
    () => false,
  );
  if (existing) return;
  const images = await readIdxFile(`${FASHION}/train-images-idx3-ubyte.gz`);
  const labels = await readIdxFile(`${FASHION}/train-labels-idx1-ubyte.gz`);
  const t0 = performance.now();
  for (const name of NAMES) {
    await Deno.mkdir(`${imagesDir}/${name}`, { recursive: true });
  }
  for (let i = 0; i < count; i++) {
    // Beyond 60k the images repeat, shifted by one pixel so every file differs.
    const k = i % 60000, shift = Math.floor(i / 60000);
    const px = images.data.slice(k * 784, (k + 1) * 784);
    if (shift > 0) px.copyWithin(shift, 0, 784 - shift);
    const png = encode({ width: 28, height: 28, data: px, channels: 1 });
    await Deno.writeFile(
      `${imagesDir}/${NAMES[labels.data[k]]}/${String(i).padStart(6, "0")}.png`,
      png,
    );
  }
  await Deno.writeTextFile(`${imagesDir}/.complete`, "");
  console.log(
    `wrote ${count} PNGs in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s to ${imagesDir}`,
  );
}

if (!values["starts-only"]) await decodeTwice();

async function decodeTwice() {
  await writeFolder();
  await Deno.remove(`${root}/state`, { recursive: true }).catch(() => {});
  const shape = { width: 28, height: 28, channels: 1 as const };
  let t0 = performance.now();
  let cpu0 = process.cpuUsage();
  const cpuSeconds = () => {
    const c = process.cpuUsage(cpu0);
    cpu0 = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };
  let last = 0;
  const cold = await prepareImageFolder({
    dir: imagesDir,
    labelsPath,
    shape,
    onProgress: (p) => {
      if (p.seconds - last >= 10) {
        last = p.seconds;
        console.log(
          `  ${p.done}/${p.total} decoded, ${p.seconds.toFixed(0)} s, ETA ${
            p.etaSeconds?.toFixed(0)
          } s`,
        );
      }
    },
  });
  const coldSeconds = (performance.now() - t0) / 1000;
  const coldCpu = cpuSeconds();
  const coldRss = rssMiB();
  t0 = performance.now();
  const warm = await prepareImageFolder({ dir: imagesDir, labelsPath, shape });
  const warmSeconds = (performance.now() - t0) / 1000;
  const warmCpu = cpuSeconds();
  console.log(
    `decode + cache ${cold.report.decoded} PNGs (2 threads): ${
      coldSeconds.toFixed(1)
    } s wall, ${coldCpu.toFixed(1)} s CPU`,
  );
  console.log(
    `cached read of the folder: ${warmSeconds.toFixed(2)} s wall, ${
      warmCpu.toFixed(2)
    } s CPU (${warm.report.fromCache} from the cache)`,
  );
  console.log(
    `bench process RSS after both: ${coldRss.toFixed(0)} / ${
      rssMiB().toFixed(0)
    } MiB`,
  );
}

/** Starts main.ts with `args`; seconds to "listening", the server's own figure, peak RSS. */
async function timeStart(
  labelsPath: string,
  weightsPath: string,
  args: string[] = [],
) {
  const t = performance.now();
  const srv = await startServer({
    labelsPath,
    weightsPath,
    build: false,
    args,
    readyTimeoutMs: 600_000,
  });
  const seconds = (performance.now() - t) / 1000;
  // CPU seconds of the whole process (all threads, workers included) until
  // listening: less at the mercy of other work on the machine than wall time.
  const pid = srv.child.pid;
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]
    .split(" ");
  const cpu = (Number(stat[11]) + Number(stat[12])) / 100;
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const hwm = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
  await srv.stop();
  const out = srv.output();
  return {
    seconds,
    cpu,
    ready: out.match(/ready in ([\d.]+) s/)?.[1],
    images: out.match(/decoded in ([\d.]+) s/)?.[1],
    hwm,
  };
}

if (!values["no-server"]) {
  // Both with a fresh model (no checkpoint) and no label graph, so the
  // difference is the data: the cached folder against the embedded MNIST.
  const folder = await timeStart(labelsPath, `${root}/state/ssvae.ckpt`, [
    "--images",
    imagesDir,
  ]);
  const mnist = await timeStart(
    `${root}/state/mnist-labels.csv`,
    `${root}/state/mnist.ckpt`,
  );
  console.log(
    `dashboard start, cached folder of ${count}: ${
      folder.seconds.toFixed(1)
    } s to listening, ${folder.cpu.toFixed(1)} s CPU ` +
      `(folder read ${folder.images} s of it); peak RSS ${
        folder.hwm.toFixed(0)
      } MiB`,
  );
  console.log(
    `dashboard start, embedded MNIST (same flags): ${
      mnist.seconds.toFixed(1)
    } s to listening, ${mnist.cpu.toFixed(1)} s CPU; peak RSS ${
      mnist.hwm.toFixed(0)
    } MiB`,
  );
}
if (values["with-graph"]) await userRun();

/**
 * `deno task start --images` as a user runs it: the label graph on (its cache
 * beside a fresh checkpoint path, so it is built), then one epoch. Waits on
 * the server's events: the first `latent_updated` from the labels is the
 * graph's first propagation.
 */
async function userRun() {
  const state = `${root}/graph-run`;
  await Deno.remove(state, { recursive: true }).catch(() => {});
  await Deno.mkdir(state, { recursive: true });
  const t0 = performance.now();
  const srv = await startServer({
    labelsPath,
    weightsPath: `${state}/ssvae.ckpt`,
    build: false,
    graph: true,
    args: ["--images", imagesDir],
    readyTimeoutMs: 600_000,
  });
  const peak = async () => {
    const status = await Deno.readTextFile(`/proc/${srv.child.pid}/status`);
    return Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
  };
  const since = (t: number) => ((performance.now() - t) / 1000).toFixed(1);
  try {
    const ws = await connectWs(`${srv.url.replace(/^http/, "ws")}/api/ws`);
    try {
      console.log(
        `user start (label graph on): listening after ${since(t0)} s, ` +
          `peak ${(await peak()).toFixed(0)} MiB`,
      );
      const t1 = performance.now();
      await ws.waitFor(
        (m) => m.type === "latent_updated" && m.source === "labels",
        1_800_000,
      );
      console.log(
        `  label graph built and propagated ${since(t1)} s later; peak ${
          (await peak()).toFixed(0)
        } MiB`,
      );
      const seq = ws.lastSeq();
      const t2 = performance.now();
      const r = await json(srv.url, "POST", "/api/training/start", {
        epochs: 1,
      });
      if (r.status !== 202) throw new Error(`train: ${JSON.stringify(r.body)}`);
      const after = (m: Record<string, unknown>) => (m.seq as number) > seq;
      const end = await ws.waitFor(
        (m) =>
          after(m) &&
          ["training_complete", "training_stopped", "training_error"]
            .includes(m.type as string),
        1_800_000,
      );
      if (end.type !== "training_complete") {
        throw new Error(`training: ${JSON.stringify(end)}`);
      }
      await ws.waitFor(
        (m) => after(m) && m.type === "latent_updated" && m.source !== "labels",
        1_800_000,
      );
      console.log(
        `  one epoch and its new map: ${since(t2)} s; peak ${
          (await peak()).toFixed(0)
        } MiB`,
      );
    } finally {
      await ws.close();
    }
  } finally {
    await srv.stop();
  }
}

console.log(
  `load average at the end: ${
    Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
  } (2 cores)`,
);
if (!values.keep && !values.dir) await Deno.remove(root, { recursive: true });
