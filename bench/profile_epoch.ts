/**
 * `deno task bench:profile`: where the time of one SSVAE epoch goes (60k MNIST,
 * batch 256, preset "original" unless `--preset graph`).
 *
 * Part 1, one thread: the trainer's step (lib/training/trainer.ts) replayed
 * phase by phase with timers — host work (gathering rows, drawing noise), copies
 * into the wasm heap (input tensors, the updated parameters) and out of it (the
 * gradients), the forward/backward pass, the AdamW loop — and every tfjs kernel
 * timed from inside (each wasm kernel is wrapped), so the forward/backward's
 * time splits into kernel time per kernel and dispatch overhead (tfjs' engine,
 * autograd tape, tensor bookkeeping: the rest). Then the evaluation pass the
 * same way.
 *
 * Part 2, two threads: one real epoch of the Trainer, with its step counters
 * (this thread's shard, the wait for the helper, the helper's own time, the
 * update), i.e. the thread split.
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { labelsPerClass } from "../lib/data/label_sample.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import * as backendModule from "../lib/ssvae/backend.ts";
import { isPreset, presetConfig, resolveConfig } from "../lib/ssvae/config.ts";
import { ssvaeLoss } from "../lib/ssvae/loss.ts";
import {
  CLASSIFIER_HIDDEN,
  IMAGE_SIZE,
  NUM_CLASSES,
  SSVAE,
} from "../lib/ssvae/model.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import { AdamW } from "../lib/training/adamw.ts";
import { gatherRows } from "../lib/training/batches.ts";
import { evalSums } from "../lib/training/shard.ts";
import { makeSplit } from "../lib/training/split.ts";
import { Trainer } from "../lib/training/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "original" },
    "skip-two": { type: "boolean", default: false },
  },
});
if (!isPreset(values.preset)) {
  console.error(
    "usage: profile_epoch.ts [--preset original|graph] [--skip-two]",
  );
  Deno.exit(2);
}

await backendModule.initBackend();
const engineOf = (backendModule as { matMulEngine?: () => string })
  .matMulEngine;
console.log(
  `matMul engine: ${
    engineOf ? engineOf() : "tfjs wasm (XNNPACK)"
  }; preset ${values.preset}`,
);

/** Wall time per kernel name, measured around every wasm kernel call. */
const kernelMs = new Map<string, number>();
const kernelCalls = new Map<string, number>();
let kernelsOn = false;
for (const k of tf.getKernelsForBackend("wasm")) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, "wasm");
  tf.registerKernel({
    ...k,
    // The backend already ran the setup of the original registration.
    setupFunc: undefined,
    kernelFunc: (args) => {
      if (!kernelsOn) return inner(args);
      const t = performance.now();
      const out = inner(args);
      kernelMs.set(
        k.kernelName,
        (kernelMs.get(k.kernelName) ?? 0) + performance.now() - t,
      );
      kernelCalls.set(k.kernelName, (kernelCalls.get(k.kernelName) ?? 0) + 1);
      return out;
    },
  });
}
const kernelTotal = () => [...kernelMs.values()].reduce((a, b) => a + b, 0);
const resetKernels = () => {
  kernelMs.clear();
  kernelCalls.clear();
};

const train = await loadTrainImages();
const labels = labelsPerClass(train.labels, 10, 42);
const config = resolveConfig(
  { patience: 1_000_000 },
  presetConfig(values.preset),
);
const split = makeSplit(train.count, config.val_split, config.random_seed);

const phases = new Map<string, number>();
const timed = <T>(name: string, f: () => T): T => {
  const t = performance.now();
  try {
    return f();
  } finally {
    phases.set(name, (phases.get(name) ?? 0) + performance.now() - t);
  }
};

// ---- Part 1: one thread, the step phase by phase --------------------------
const model = new SSVAE(config);
const vars = model.variables();
const opt = new AdamW(vars, vars.map((v) => v.name.endsWith("/kernel")));
const rng = new Rng(config.random_seed + 1);
const L = config.latent_dim;
const settings = {
  learningRate: config.learning_rate,
  weightDecay: config.weight_decay,
  gradClipNorm: config.grad_clip_norm,
};

function step(indices: Uint32Array): void {
  const rows = timed("host: gather rows + draw noise", () => {
    const r = gatherRows(train.images, labels, indices);
    const eps = rng.fillNormal(new Float32Array(r.count * L));
    const masks = CLASSIFIER_HIDDEN.map((w) => {
      const m = new Float32Array(r.count * w);
      for (let i = 0; i < m.length; i++) {
        m[i] = rng.uniform() >= config.dropout_rate
          ? 1 / (1 - config.dropout_rate)
          : 0;
      }
      return m;
    });
    return { ...r, eps, masks };
  });
  const n = rows.count;
  const inputs = timed("copy in: batch tensors", () => ({
    x: tf.tensor2d(rows.x, [n, IMAGE_SIZE]),
    oneHot: tf.tensor2d(rows.oneHot, [n, NUM_CLASSES]),
    eps: tf.tensor2d(rows.eps, [n, L]),
    masks: rows.masks.map((m) => tf.tensor2d(m, [n, m.length / n])),
  }));
  kernelsOn = true;
  const t0 = performance.now();
  const k0 = kernelTotal();
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(inputs.x, {
      eps: inputs.eps,
      dropoutMasks: inputs.masks,
    });
    return ssvaeLoss(
      inputs.x,
      out,
      { oneHot: inputs.oneHot, labelledCount: rows.labelledCount },
      config,
    ).total;
  }, vars);
  kernelsOn = false;
  const fb = performance.now() - t0, kb = kernelTotal() - k0;
  phases.set(
    "forward+backward: kernels",
    (phases.get("forward+backward: kernels") ?? 0) + kb,
  );
  phases.set(
    "forward+backward: dispatch (tfjs engine, tape)",
    (phases.get("forward+backward: dispatch (tfjs engine, tape)") ?? 0) + fb -
      kb,
  );
  const host = timed("copy out: loss + gradients", () => ({
    loss: value.dataSync()[0],
    g: vars.map((v) =>
      grads[v.name]
        ? grads[v.name].dataSync() as Float32Array
        : new Float32Array(v.size)
    ),
  }));
  timed("dispose tensors", () =>
    tf.dispose([
      value,
      ...Object.values(grads),
      inputs.x,
      inputs.oneHot,
      inputs.eps,
      ...inputs.masks,
    ]));
  // AdamW.apply = the update loop + pushing the values into the variables.
  const tPush0 = performance.now();
  timed("host: AdamW update + copy in of parameters", () => {
    if (Number.isFinite(host.loss)) opt.apply(host.g, settings);
  });
  void tPush0;
}

const order = rng.shuffle(Uint32Array.from(split.train));
// Warm-up: a few steps so JIT compilation is not in the figures.
for (let s = 0; s < 5 * 256; s += 256) step(order.subarray(s, s + 256));
phases.clear();
resetKernels();
const tTrain = performance.now();
for (let s = 0; s < order.length; s += config.batch_size) {
  step(order.subarray(s, s + config.batch_size));
}
const trainMs = performance.now() - tTrain;
const trainKernels = new Map(kernelMs), trainCalls = new Map(kernelCalls);

// Evaluation pass, one thread: gather + evalSums per chunk of 4096.
resetKernels();
let evalGather = 0, evalWall = 0;
const tEval = performance.now();
for (const idx of [split.train, split.val]) {
  for (let s = 0; s < idx.length; s += 4096) {
    const t = performance.now();
    const r = gatherRows(train.images, labels, idx.subarray(s, s + 4096));
    evalGather += performance.now() - t;
    kernelsOn = true;
    const t2 = performance.now();
    evalSums(model, r.x, r.oneHot, r.labelledCount);
    evalWall += performance.now() - t2;
    kernelsOn = false;
  }
}
const evalMs = performance.now() - tEval;
const evalKernels = new Map(kernelMs);

const pct = (x: number, of: number) => `${(100 * x / of).toFixed(1)}%`;
const line = (name: string, ms: number, of: number) =>
  console.log(
    `  ${name.padEnd(48)} ${(ms / 1000).toFixed(3).padStart(8)} s  ${
      pct(ms, of).padStart(6)
    }`,
  );
console.log(
  `\none thread, one epoch = train pass ${
    (trainMs / 1000).toFixed(2)
  } s + evaluation pass ${(evalMs / 1000).toFixed(2)} s = ${
    ((trainMs + evalMs) / 1000).toFixed(2)
  } s`,
);
console.log(" train pass:");
const phaseSum = [...phases.values()].reduce((a, b) => a + b, 0);
for (const [k, v] of [...phases].sort((a, b) => b[1] - a[1])) {
  line(k, v, trainMs);
}
line("other (loop, GC)", trainMs - phaseSum, trainMs);
console.log(" train-pass kernels (of the train pass):");
const kSorted = [...trainKernels].sort((a, b) => b[1] - a[1]);
for (const [k, v] of kSorted.slice(0, 8)) {
  line(`${k} ×${trainCalls.get(k)}`, v, trainMs);
}
const rest = kSorted.slice(8).reduce((a, [, v]) => a + v, 0);
line(`${kSorted.length - 8} other kernels`, rest, trainMs);
console.log(" evaluation pass:");
const evalK = [...evalKernels.values()].reduce((a, b) => a + b, 0);
const evalMatMul = (evalKernels.get("BatchMatMul") ?? 0) +
  (evalKernels.get("_FusedMatMul") ?? 0);
line("kernels: matMul", evalMatMul, evalMs);
line("kernels: others", evalK - evalMatMul, evalMs);
line("dispatch + copies (evalSums wall − kernels)", evalWall - evalK, evalMs);
line("host: gather rows", evalGather, evalMs);
model.dispose();

// ---- Part 2: two threads, one real epoch ---------------------------------
if (!values["skip-two"]) {
  const trainer = new Trainer(new SSVAE(config), { threads: 2 });
  // Epoch 1 starts the helper and warms up; epoch 2 is measured.
  await trainer.run(1, train.images, labels);
  const stats =
    (trainer as unknown as { stepStats?: Record<string, number> }).stepStats;
  if (stats) { for (const k of Object.keys(stats)) stats[k] = 0; }
  const t = performance.now();
  await trainer.run(1, train.images, labels);
  const wall = performance.now() - t;
  const h = trainer.history[trainer.history.length - 1];
  console.log(
    `\ntwo threads (Trainer), one epoch: ${
      (wall / 1000).toFixed(2)
    } s (history says ${h.seconds.toFixed(2)} s)`,
  );
  if (stats) {
    for (const [k, v] of Object.entries(stats)) {
      console.log(
        `  ${k.padEnd(48)} ${
          k.endsWith("Ms")
            ? `${(v / 1000).toFixed(3).padStart(8)} s  ${
              pct(v, wall).padStart(6)
            }`
            : v.toFixed(3).padStart(8)
        }`,
      );
    }
  } else {
    console.log("  (this version of the Trainer keeps no step counters)");
  }
  trainer.dispose();
}
