/**
 * `deno task bench:compare`: this project's SSVAE training against PyTorch's on
 * the same machine, side by side in one run.
 *
 * Both sides get the same folder (written here): the scaled MNIST images, the
 * same 100 labels (10 per class, seed 42) and the same train/validation split,
 * and do the same work per epoch: the model of one preset (default "original",
 * the reference SSVAE the issue measured), batch 256, a shuffled train pass
 * with AdamW, then the evaluation pass over train and validation. Each side is
 * a child process (bench/ours_ssvae.ts, bench/pytorch_ssvae.py), run one after
 * the other, `--repeat` times, so machine noise hits both; every run is printed.
 * PyTorch runs with torch.set_num_threads(2), the two threads this project uses.
 *
 * Options: --epochs N (per run, default 3; the first epoch of each run also pays
 * for start-up and is reported apart), --repeat R (default 2), --sizes
 * 10000,30000,60000 (seconds per epoch at each size), --pytorch-sizes 60000
 * (the sizes PyTorch also runs at; default all), --preset original|graph,
 * --rss-epochs N (also one N-epoch run of ours for its peak RSS; 0 = skip),
 * --threads 1|2.
 */
import { parseArgs } from "node:util";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { isPreset, presetConfig } from "../lib/ssvae/config.ts";
import { IMAGE_SIZE } from "../lib/ssvae/model.ts";
import { makeSplit } from "../lib/training/split.ts";

const PYTHON = "/usr/bin/python3";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    epochs: { type: "string", default: "3" },
    repeat: { type: "string", default: "2" },
    sizes: { type: "string", default: "10000,30000,60000" },
    preset: { type: "string", default: "original" },
    "rss-epochs": { type: "string", default: "0" },
    threads: { type: "string", default: "2" },
    "pytorch-sizes": { type: "string" },
  },
});
const epochs = Number(values.epochs);
const repeat = Number(values.repeat);
const sizes = values.sizes.split(",").map(Number);
// Sizes at which PyTorch runs too (default: all); fewer saves time on a busy machine.
const torchSizes = values["pytorch-sizes"]?.split(",").map(Number) ?? sizes;
const threads = Number(values.threads);
const rssEpochs = Number(values["rss-epochs"]);
if (
  !isPreset(values.preset) || !(epochs >= 2) || !(repeat >= 1) ||
  sizes.some((n) => !Number.isInteger(n) || n < 1000 || n > 60000) ||
  (threads !== 1 && threads !== 2)
) {
  console.error(
    "usage: compare.ts [--epochs N≥2] [--repeat R] [--sizes 10000,30000,60000] [--preset original|graph] [--rss-epochs N] [--threads 1|2]",
  );
  Deno.exit(2);
}
const config = presetConfig(values.preset);

/** What each child prints (the fields both sides share). */
interface RunResult {
  impl: string;
  threads: number;
  count: number;
  epochs: { seconds: number }[];
  predict: { withRecon: number; latentClasses: number } | null;
  peakRssMb: number;
  version?: string;
}

/** Writes the inputs of both sides for the first `n` images. */
async function writeData(
  dir: string,
  images: Float32Array,
  trueLabels: Uint8Array,
  n: number,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const bytes = (a: ArrayBufferView) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const labels = labelsPerClass(trueLabels.subarray(0, n), 10, 42);
  // The trainer draws the same split from the config's seed; PyTorch reads it.
  const split = makeSplit(n, config.val_split, config.random_seed);
  await Deno.writeFile(
    `${dir}/images.f32`,
    bytes(images.subarray(0, n * IMAGE_SIZE)),
  );
  await Deno.writeFile(`${dir}/labels.f32`, bytes(labels));
  await Deno.writeFile(`${dir}/train.u32`, bytes(split.train));
  await Deno.writeFile(`${dir}/val.u32`, bytes(split.val));
}

/** Runs one child and parses its JSON line; null when it could not run. */
async function runChild(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  clearEnv: string[] = [],
): Promise<RunResult | null> {
  const fullEnv = { ...Deno.env.toObject(), ...env };
  for (const k of clearEnv) delete fullEnv[k];
  let out;
  try {
    out = await new Deno.Command(cmd, {
      args,
      env: fullEnv,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    console.log(`  ${cmd}: cannot run (${(err as Error).message})`);
    return null;
  }
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) {
    console.log(
      `  ${cmd} exited with ${out.code}: ${
        stderr.split("\n").slice(-3).join(" | ")
      }`,
    );
    return null;
  }
  return JSON.parse(stdout.split("\n").pop()!) as RunResult;
}

/** The flags both sides take: the same data, model, epochs and threads. */
const sameWork = (dir: string, n: number, predict: boolean) => [
  "--data",
  dir,
  "--config",
  JSON.stringify(config),
  "--epochs",
  String(n),
  "--threads",
  String(threads),
  ...(predict ? ["--predict"] : []),
];

const ours = (dir: string, n: number, predict: boolean) =>
  runChild(Deno.execPath(), [
    "run",
    "-A",
    new URL("./ours_ssvae.ts", import.meta.url).pathname,
    ...sameWork(dir, n, predict),
  ]);

let torchMissing = false;
const pytorch = async (dir: string, n: number, predict: boolean) => {
  if (torchMissing) return null;
  const r = await runChild(
    PYTHON,
    [
      new URL("./pytorch_ssvae.py", import.meta.url).pathname,
      ...sameWork(dir, n, predict),
    ],
    {},
    // The stack notes' PyTorch figures were taken with these unset: OpenBLAS
    // then picks its kernels for this CPU itself.
    ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"],
  );
  if (!r) torchMissing = true;
  return r;
};

const steady = (r: RunResult) => r.epochs.slice(1).map((e) => e.seconds);
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f2 = (x: number) => x.toFixed(2);

const train = await loadTrainImages();
const root = await Deno.makeTempDir({ prefix: "ssvae-compare-" });
console.log(
  `bench:compare — preset "${values.preset}", batch ${config.batch_size}, ${epochs} epochs per run, ${repeat} runs per side, ${threads} threads each (torch.set_num_threads(${threads}))`,
);
console.log(
  `epoch = shuffled train pass (${
    100 - 100 * config.val_split
  }% of the images) + evaluation pass over train and validation; first epoch of a run reported apart`,
);
try {
  const perSize: { n: number; ours: number[]; torch: number[] }[] = [];
  const predicts: {
    ours: RunResult["predict"];
    torch: RunResult["predict"];
  }[] = [];
  for (const n of sizes) {
    const dir = `${root}/n${n}`;
    await writeData(dir, train.images, train.labels, n);
    const entry = { n, ours: [] as number[], torch: [] as number[] };
    console.log(`\n${n} images`);
    for (let r = 0; r < repeat; r++) {
      const withPredict = n === train.count;
      const a = await ours(dir, epochs, withPredict);
      const b = torchSizes.includes(n)
        ? await pytorch(dir, epochs, withPredict)
        : null;
      for (const [name, res] of [["ours", a], ["pytorch", b]] as const) {
        if (!res) continue;
        const s = steady(res);
        (name === "ours" ? entry.ours : entry.torch).push(...s);
        console.log(
          `  run ${r + 1} ${name.padEnd(8)} epochs ${
            res.epochs.map((e) => f2(e.seconds)).join(" ")
          } s  steady mean ${f2(mean(s))} s` +
            (res.predict
              ? `  predict 60k ${
                f2(res.predict.latentClasses)
              } s (latent+classes), ${f2(res.predict.withRecon)} s (with recon)`
              : "") +
            `  peak RSS ${res.peakRssMb.toFixed(0)} MB`,
        );
      }
      if (withPredict) {
        predicts.push({ ours: a?.predict ?? null, torch: b?.predict ?? null });
      }
      if (a && b) {
        console.log(
          `  run ${r + 1} ratio ours/pytorch (steady epoch means): ${
            (mean(steady(a)) / mean(steady(b))).toFixed(2)
          }`,
        );
      }
    }
    perSize.push(entry);
    await Deno.remove(dir, { recursive: true });
  }
  if (torchMissing) {
    console.log(
      `\nPyTorch could not run (${PYTHON} with torch 1.13 from Debian's python3-torch is needed): only this project's times are shown.`,
    );
  }
  console.log("\nsummary (median of steady epochs over all runs)");
  console.log(
    "  images   ours s/epoch   pytorch s/epoch   ratio   ours s per 10k images",
  );
  for (const e of perSize) {
    const o = median(e.ours), t = e.torch.length ? median(e.torch) : NaN;
    console.log(
      `  ${String(e.n).padStart(6)}   ${f2(o).padStart(12)}   ${
        f2(t).padStart(15)
      }   ${(o / t).toFixed(2).padStart(5)}   ${
        (o / e.n * 10000).toFixed(3).padStart(8)
      }`,
    );
  }
  for (const [i, p] of predicts.entries()) {
    console.log(
      `  predict 60k, run ${i + 1}: ours ${
        p.ours ? f2(p.ours.latentClasses) : "-"
      } / ${p.ours ? f2(p.ours.withRecon) : "-"} s, pytorch ${
        p.torch ? f2(p.torch.latentClasses) : "-"
      } / ${
        p.torch ? f2(p.torch.withRecon) : "-"
      } s (latent+classes / with reconstructions)`,
    );
  }
  if (rssEpochs > 0) {
    const dir = `${root}/rss`;
    await writeData(dir, train.images, train.labels, train.count);
    const r = await ours(dir, rssEpochs, false);
    if (r) {
      console.log(
        `  ours, ${rssEpochs} epochs on 60k: peak RSS ${
          r.peakRssMb.toFixed(0)
        } MB (target ≤ 1024 MB), mean epoch ${f2(mean(steady(r)))} s`,
      );
    }
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
