/**
 * This project's side of `deno task bench:compare` (run as a child process by
 * bench/compare.ts, so its peak RSS is its own): trains the SSVAE for a few
 * epochs on the folder compare.ts wrote and prints one JSON line with each
 * epoch's seconds (train pass + evaluation pass over train and validation, as
 * the trainer reports it), predict times and peak RSS.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/ssvae/backend.ts";
import { resolveConfig, type SSVAEConfig } from "../lib/ssvae/config.ts";
import { IMAGE_SIZE, SSVAE } from "../lib/ssvae/model.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    config: { type: "string" },
    epochs: { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
    predict: { type: "boolean", default: false },
  },
});
if (!values.data || !values.config) {
  console.error(
    "usage: ours_ssvae.ts --data DIR --config JSON [--epochs N] [--threads 1|2] [--predict]",
  );
  Deno.exit(2);
}

/** Peak resident set size of this process (every thread), from the kernel. */
export async function peakRssMb(): Promise<number> {
  const status = await Deno.readTextFile("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const read = async (name: string) =>
  (await Deno.readFile(`${values.data}/${name}`)).buffer;

await initBackend();
const tLoad = performance.now();
const images = new Float32Array(await read("images.f32"));
const labels = new Float32Array(await read("labels.f32"));
const loadSeconds = (performance.now() - tLoad) / 1000;
const count = labels.length;
if (images.length !== count * IMAGE_SIZE) {
  throw new Error("images/labels mismatch");
}

const config: SSVAEConfig = resolveConfig({
  ...JSON.parse(values.config),
  patience: 1_000_000,
});
const threads = Number(values.threads) as 1 | 2;
const trainer = new InteractiveTrainer(new SSVAE(config), { threads });
const epochs: { seconds: number }[] = [];
await trainer.trainEpochs(Number(values.epochs), images, labels, {
  callbacks: [{
    onEpochEnd: (_e, _m, h) =>
      void epochs.push({ seconds: h[h.length - 1].seconds }),
  }],
});
const last = trainer.history[trainer.history.length - 1];

let predict: Record<string, number> | null = null;
if (values.predict) {
  predict = {};
  for (const decode of [true, false]) {
    const t = performance.now();
    await trainer.predict(images, count, { decode });
    predict[decode ? "withRecon" : "latentClasses"] = (performance.now() - t) /
      1000;
  }
}
trainer.dispose();
console.log(JSON.stringify({
  impl: "ours",
  backend: tf.getBackend(),
  threads: trainer.threads,
  count,
  loadSeconds,
  epochs,
  valLoss: last.val.loss,
  predict,
  peakRssMb: await peakRssMb(),
}));
// The helper worker is gone; leave without waiting on anything else.
Deno.exit(0);
