import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
} from "./assert.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { resolveConfig, type SSVAEConfig } from "../lib/ssvae/config.ts";
import { emptyPrediction, SSVAE } from "../lib/ssvae/model.ts";
import {
  CheckpointError,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../lib/training/checkpoint.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";
import { CsvHistoryExporter } from "../lib/training/callbacks.ts";
import { TrainingError } from "../lib/training/types.ts";
import { makeSplit } from "../lib/training/split.ts";
import { evaluateSplit } from "../lib/training/evaluate.ts";
import { gatherRows } from "../lib/training/batches.ts";
import { shardGradients } from "../lib/training/shard.ts";
import { Rng } from "../lib/ssvae/rng.ts";

await initBackend();

// Real MNIST, a small subset: 600 images, 60 labelled (6 per class at most).
const data = await loadTrainImages({ limit: 600 });
const N = data.count;
function someLabels(count = 60): Float32Array {
  const labels = new Float32Array(N).fill(NaN);
  for (let i = 0; i < count; i++) labels[i * 7 % N] = data.labels[i * 7 % N];
  return labels;
}
const small = (o: Partial<SSVAEConfig> = {}) =>
  resolveConfig({ hidden_dims: [64, 32], batch_size: 64, ...o });
const newTrainer = (o: Partial<SSVAEConfig> = {}, threads: 1 | 2 = 1) =>
  new InteractiveTrainer(new SSVAE(small(o)), { threads });
const tmp = () => Deno.makeTempDir({ prefix: "ssvae-train-" });

/** Replaces the start of a checkpoint's header text and recomputes its checksum. */
async function reseal(
  bytes: Uint8Array,
  headStart: string,
): Promise<Uint8Array> {
  const out = bytes.slice();
  out.set(new TextEncoder().encode(headStart), 44);
  const digest = await crypto.subtle.digest("SHA-256", out.subarray(44));
  out.set(new Uint8Array(digest), 12);
  return out;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((x, i) =>
    x.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j]))))
  );
  return d;
}

Deno.test("training lowers the loss and records the history", async () => {
  const trainer = newTrainer();
  const seen: number[] = [];
  const result = await trainer.trainEpochs(3, data.images, someLabels(), {
    callbacks: [{ onEpochEnd: (epoch) => void seen.push(epoch) }],
  });
  assertEquals(result.epochsRun, 3);
  assertEquals(seen, [1, 2, 3]);
  assertEquals(trainer.history.map((h) => h.epoch), [1, 2, 3]);
  const stepsPerEpoch = Math.ceil(540 / 64); // 10% validation, partial batch kept
  assertEquals(trainer.step, 3 * stepsPerEpoch);
  const [first, last] = [trainer.history[0], trainer.history[2]];
  assert(
    last.train.loss < first.train.loss,
    `loss ${first.train.loss} → ${last.train.loss}`,
  );
  for (const split of [last.train, last.val]) {
    assertAlmostEquals(
      split.loss,
      split.reconstruction_loss + split.kl_loss +
        split.weighted_classification_loss,
      1e-6,
    );
  }
  trainer.dispose();
});

Deno.test("save, load and continue: counters and moments carry over and match an uninterrupted run", async () => {
  const dir = await tmp();
  const labels = someLabels();
  const straight = newTrainer();
  await straight.trainEpochs(3, data.images, labels);

  const first = newTrainer();
  await first.trainEpochs(2, data.images, labels);
  await saveCheckpoint(`${dir}/a.ckpt`, first);
  const before = first.exportState();
  const resumed = await loadCheckpoint(`${dir}/a.ckpt`, small(), {
    threads: 1,
  });
  const loaded = resumed.exportState();
  assertEquals(loaded.step, before.step);
  assertEquals(loaded.epoch, 2);
  assertEquals(loaded.history.length, 2);
  assertEquals(maxAbsDiff(loaded.m, before.m), 0);
  assertEquals(maxAbsDiff(loaded.v, before.v), 0);
  assert(
    loaded.m.some((a) => a.some((x) => x !== 0)),
    "moments are not all zero",
  );

  await resumed.trainEpochs(1, data.images, labels);
  assertEquals(resumed.step, straight.step);
  assertEquals(resumed.history.map((h) => h.epoch), [1, 2, 3]);
  const diff = maxAbsDiff(
    resumed.exportState().values,
    straight.exportState().values,
  );
  assert(diff < 1e-5, `resumed run differs from uninterrupted by ${diff}`);
  assertAlmostEquals(
    resumed.history[2].val.loss,
    straight.history[2].val.loss,
    1e-3,
  );
  [straight, first, resumed].forEach((t) => t.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("with zero labels, early stopping watches the total loss, not a constant 0", async () => {
  const trainer = newTrainer({ patience: 2 });
  const result = await trainer.trainEpochs(
    5,
    data.images,
    new Float32Array(N).fill(NaN),
  );
  assertEquals(result.stoppedEarly, false);
  assertEquals(result.epochsRun, 5);
  trainer.dispose();
});

Deno.test("early stopping stops after `patience` epochs without improvement", async () => {
  // A learning rate this small leaves the watched metric flat to float precision.
  const trainer = newTrainer({
    patience: 2,
    learning_rate: 1e-30,
    weight_decay: 0,
  });
  const result = await trainer.trainEpochs(10, data.images, someLabels());
  assert(result.stoppedEarly);
  assert(result.epochsRun <= 4, `ran ${result.epochsRun} epochs`);
  trainer.dispose();
});

Deno.test("a changed learning rate changes the next update and keeps the moments", async () => {
  const dir = await tmp();
  const labels = someLabels();
  // One step per epoch: the whole train split in one batch.
  const base = newTrainer({ batch_size: 1024 });
  await base.trainEpochs(2, data.images, labels);
  await saveCheckpoint(`${dir}/b.ckpt`, base);
  const slow = await loadCheckpoint(`${dir}/b.ckpt`, undefined, { threads: 1 });
  const fast = await loadCheckpoint(`${dir}/b.ckpt`, undefined, { threads: 1 });
  const start = slow.exportState();
  await slow.trainEpochs(1, data.images, labels);
  await fast.trainEpochs(1, data.images, labels, {
    overrides: { learning_rate: 1e-2 },
  });
  assertEquals(fast.config.learning_rate, 1e-2);
  const s = slow.exportState(), f = fast.exportState();
  // Same gradients, same moments: only the step size differs (10x).
  assertEquals(maxAbsDiff(s.m, f.m), 0);
  assertEquals(maxAbsDiff(s.v, f.v), 0);
  assert(
    s.m.some((a, i) => a.some((x, j) => x !== start.m[i][j])),
    "moments moved",
  );
  let ratioSum = 0, n = 0;
  s.values.forEach((a, i) =>
    a.forEach((x, j) => {
      const ds = x - start.values[i][j],
        df = f.values[i][j] - start.values[i][j];
      if (Math.abs(ds) > 1e-6) {
        ratioSum += df / ds;
        n++;
      }
    })
  );
  assertAlmostEquals(ratioSum / n, 10, 0.05);
  [base, slow, fast].forEach((t) => t.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a non-finite loss stops training with a clear error and restores the last good epoch", async () => {
  const trainer = newTrainer();
  const labels = someLabels();
  await trainer.trainEpochs(1, data.images, labels);
  const good = trainer.exportState();
  const poisoned = data.images.slice();
  poisoned[5 * 784 + 300] = Infinity;
  const err = await assertRejects(
    () => trainer.trainEpochs(2, poisoned, labels),
    TrainingError,
    "not finite",
  );
  assert(/restored/.test(err.message));
  const after = trainer.exportState();
  assertEquals(maxAbsDiff(after.values, good.values), 0);
  assertEquals(after.step, good.step);
  assertEquals(trainer.epoch, 1);
  assertEquals(trainer.running, false);
  // And training goes on from there with good data.
  await trainer.trainEpochs(1, data.images, labels);
  assertEquals(trainer.epoch, 2);
  trainer.dispose();
});

Deno.test("a stop request ends training at a batch boundary with a consistent state", async () => {
  const trainer = newTrainer({ batch_size: 8 });
  const labels = someLabels();
  const stepsPerEpoch = Math.ceil(540 / 8);
  // The stop comes in the middle of the second epoch, on its third batch.
  const result = await trainer.trainEpochs(50, data.images, labels, {
    callbacks: [{
      onBatchEnd: (b) => {
        if (b.epoch === 2 && b.batch === 3) trainer.requestStop();
      },
    }],
  });
  assert(result.stopRequested);
  // The first epoch counts; the cut one does not, but its steps are kept.
  assertEquals(result.epochsRun, 1);
  assertEquals(trainer.epoch, 1);
  assertEquals(trainer.step, stepsPerEpoch + 3);
  // The state is usable: it saves, loads and trains on.
  const dir = await tmp();
  await saveCheckpoint(`${dir}/s.ckpt`, trainer);
  const again = await loadCheckpoint(`${dir}/s.ckpt`, undefined, {
    threads: 1,
  });
  assertEquals(again.step, trainer.step);
  await again.trainEpochs(1, data.images, labels);
  assertEquals(again.step, trainer.step + stepsPerEpoch);
  [trainer, again].forEach((t) => t.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a corrupt, truncated or mismatched checkpoint is refused with a clear error", async () => {
  const dir = await tmp();
  const trainer = newTrainer();
  await trainer.trainEpochs(1, data.images, someLabels());
  const path = `${dir}/c.ckpt`;
  await saveCheckpoint(path, trainer);
  const bytes = await Deno.readFile(path);

  const flipped = bytes.slice();
  flipped[flipped.length - 100] ^= 0xff;
  await Deno.writeFile(`${dir}/flipped.ckpt`, flipped);
  await assertRejects(
    () => loadCheckpoint(`${dir}/flipped.ckpt`),
    CheckpointError,
    "checksum",
  );

  await Deno.writeFile(
    `${dir}/short.ckpt`,
    bytes.slice(0, bytes.length - 1000),
  );
  await assertRejects(
    () => loadCheckpoint(`${dir}/short.ckpt`),
    CheckpointError,
    "truncated",
  );

  await Deno.writeFile(`${dir}/junk.ckpt`, new TextEncoder().encode("hello"));
  await assertRejects(
    () => loadCheckpoint(`${dir}/junk.ckpt`),
    CheckpointError,
    "magic",
  );

  // An altered header (the step counter) is caught too, not just the weights.
  // The header is ASCII JSON after the 44-byte preamble.
  const text = new TextDecoder().decode(bytes.subarray(44, 4044));
  const at = 44 + text.indexOf('"step":') + '"step":'.length;
  const tampered = bytes.slice();
  tampered[at] = tampered[at] === 0x39 ? 0x38 : tampered[at] + 1;
  await Deno.writeFile(`${dir}/header.ckpt`, tampered);
  await assertRejects(
    () => loadCheckpoint(`${dir}/header.ckpt`),
    CheckpointError,
    "checksum",
  );

  // A well-formed file whose tensor table does not match its config is refused.
  const wrong = await encodeCheckpoint(trainer);
  const json = new TextDecoder().decode(wrong.subarray(44, 44 + 3000));
  const swapped = json.replace(
    "encoder/dense_0/kernel",
    "encoder/dense_9/kernel",
  );
  const fixed = await reseal(wrong, swapped);
  await Deno.writeFile(`${dir}/layout.ckpt`, fixed);
  await assertRejects(
    () => loadCheckpoint(`${dir}/layout.ckpt`),
    CheckpointError,
    "params[0] is encoder/dense_9/kernel",
  );

  await assertRejects(
    () => loadCheckpoint(`${dir}/missing.ckpt`),
    CheckpointError,
    "no such",
  );

  await assertRejects(
    () => loadCheckpoint(path, small({ latent_dim: 3 })),
    CheckpointError,
    "latent_dim",
  );
  // Refusing never touched the file.
  assertEquals(await Deno.readFile(path), bytes);
  trainer.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the CSV history exporter writes one row per epoch", async () => {
  const dir = await tmp();
  const trainer = newTrainer();
  const exporter = new CsvHistoryExporter(`${dir}/history.csv`);
  await trainer.trainEpochs(2, data.images, someLabels(), {
    callbacks: [exporter],
  });
  const lines = (await Deno.readTextFile(`${dir}/history.csv`)).trim().split(
    "\n",
  );
  assertEquals(lines.length, 3);
  assert(lines[0].startsWith("epoch,step,seconds,train_loss,"));
  assertEquals(lines[2].split(",")[0], "2");
  trainer.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("one-thread training is bit-exact: the same seed gives the same bits", async () => {
  const labels = someLabels();
  const [a, b] = [newTrainer({}, 1), newTrainer({}, 1)];
  try {
    await a.trainEpochs(2, data.images, labels);
    await b.trainEpochs(2, data.images, labels);
    const [sa, sb] = [a.exportState(), b.exportState()];
    assertEquals(maxAbsDiff(sa.values, sb.values), 0);
    assertEquals(maxAbsDiff(sa.m, sb.m), 0);
    assertEquals(maxAbsDiff(sa.v, sb.v), 0);
    assertEquals(a.history[1].val, b.history[1].val);
  } finally {
    a.dispose();
    b.dispose();
  }
});

Deno.test("two threads train the same model as one, to float rounding", async () => {
  const labels = someLabels();
  const one = newTrainer({}, 1);
  const two = newTrainer({}, 2);
  try {
    await one.trainEpochs(2, data.images, labels);
    await two.trainEpochs(2, data.images, labels);
    assertEquals(two.step, one.step);
    const diff = maxAbsDiff(two.exportState().values, one.exportState().values);
    assert(diff < 1e-4, `parameters differ by ${diff}`);
    // Metrics are float32 sums over differently cut chunks: equal to ~1e-5 relative.
    for (const k of ["loss", "classification_loss"] as const) {
      const want = one.history[1].val[k];
      assertAlmostEquals(
        two.history[1].val[k],
        want,
        1e-4 * Math.abs(want) + 1e-6,
      );
    }
    // A second call continues on the same helper thread.
    await two.trainEpochs(1, data.images, labels);
    assertEquals(two.epoch, 3);
  } finally {
    one.dispose();
    two.dispose();
  }
});

Deno.test("predict on two threads equals predict on one", async () => {
  const trainer = newTrainer({}, 2);
  try {
    await trainer.trainEpochs(1, data.images, someLabels());
    // Chunks of 250 rows: two full chunks and a partial one, each split in two.
    const both = await trainer.predict(data.images, N, { chunkRows: 250 });
    const one = trainer.model.predict(data.images, N);
    assertEquals(both.predClass, one.predClass);
    assertEquals(both.latent.length, one.latent.length);
    assertEquals(both.recon.length, N * 784);
    let d = 0;
    one.latent.forEach((
      v,
      i,
    ) => (d = Math.max(d, Math.abs(v - both.latent[i]))));
    one.recon.forEach((v, i) => (d = Math.max(d, Math.abs(v - both.recon[i]))));
    assert(d < 1e-5, `predictions differ by ${d}`);
    const lean = await trainer.predict(data.images, N, {
      decode: false,
      chunkRows: 250,
    });
    assertEquals(lean.recon.length, 0);
    assertEquals(lean.predClass, one.predClass);
  } finally {
    trainer.dispose();
  }
});

Deno.test("predict calls made at once run one after the other, each with its own rows", async () => {
  const trainer = newTrainer({}, 2);
  try {
    await trainer.trainEpochs(1, data.images, someLabels());
    // Both go through the same arrays shared with the helper thread.
    const [all, tail] = await Promise.all([
      trainer.predict(data.images, N, { chunkRows: 250 }),
      trainer.predict(data.images.subarray(100 * 784), N - 100, {
        decode: false,
        chunkRows: 250,
      }),
    ]);
    const one = trainer.model.predict(data.images, N);
    assertEquals(all.predClass, one.predClass);
    assertEquals(tail.predClass, one.predClass.subarray(100));
    let d = 0;
    one.recon.forEach((v, i) => (d = Math.max(d, Math.abs(v - all.recon[i]))));
    one.latent.subarray(200).forEach((v, i) =>
      d = Math.max(d, Math.abs(v - tail.latent[i]))
    );
    assert(d < 1e-5, `predictions differ by ${d}`);
  } finally {
    trainer.dispose();
  }
});

Deno.test("predict into a given output fills its rows from the given row, on one thread and two", async () => {
  for (const threads of [1, 2] as const) {
    const trainer = newTrainer({}, threads);
    try {
      await trainer.trainEpochs(1, data.images, someLabels());
      const fresh = await trainer.predict(data.images, N, { chunkRows: 250 });
      const c = trainer.config;
      const out = emptyPrediction(N + 5, c.latent_dim, 32, true, 784);
      const back = await trainer.predict(data.images, N, {
        chunkRows: 250,
        into: { out, at: 5 },
      });
      assert(back === out);
      assertEquals(out.latent.subarray(5 * c.latent_dim), fresh.latent);
      assertEquals(out.recon.subarray(5 * 784), fresh.recon);
      assertEquals(out.features.subarray(5 * 32), fresh.features);
      assertEquals(out.probs.subarray(50), fresh.probs);
      assertEquals(out.predClass.subarray(5), fresh.predClass);
      assertEquals(out.certainty.subarray(5), fresh.certainty);
      // The rows before `at` are left alone.
      assertEquals(out.certainty.subarray(0, 5), new Float32Array(5));
    } finally {
      trainer.dispose();
    }
  }
});

Deno.test("shard gradients written into given arrays are the fresh ones, bit for bit", () => {
  const model = new SSVAE(small());
  try {
    const labels = someLabels();
    const indices = Uint32Array.from({ length: 40 }, (_, i) => i * 3);
    const rows = gatherRows(data.images, labels, indices);
    const rng = new Rng(3);
    const shard = {
      ...rows,
      eps: rng.fillNormal(new Float32Array(40 * model.config.latent_dim)),
      dropoutMasks: [
        new Float32Array(40 * 64).fill(1),
        new Float32Array(40 * 64).fill(1.25),
      ],
    };
    const normalizer = { batchSize: 40, labelledCount: rows.labelledCount };
    const fresh = shardGradients(model, model.config, shard, normalizer);
    const into = model.variables().map((v) => new Float32Array(v.size).fill(7));
    const reused = shardGradients(model, model.config, shard, normalizer, into);
    assertEquals(reused.loss, fresh.loss);
    assert(reused.grads.every((g, i) => g === into[i]));
    assertEquals(reused.grads, fresh.grads);
    // No labels: the classifier's gradients are zero, not left over.
    const unlabelled = {
      ...shard,
      oneHot: new Float32Array(40 * 10),
      labelledCount: 0,
    };
    const zero = shardGradients(
      model,
      model.config,
      unlabelled,
      normalizer,
      into,
    );
    const names = model.parameterNames();
    const cls = names.findIndex((n) => n.startsWith("classifier/"));
    assert(zero.grads[cls].every((v) => v === 0));
  } finally {
    model.dispose();
  }
});

Deno.test("the validation split is fixed, disjoint and complete", () => {
  const a = makeSplit(1000, 0.1, 42), b = makeSplit(1000, 0.1, 42);
  assertEquals(a.val, b.val);
  assertEquals(a.val.length, 100);
  const all = new Set([...a.train, ...a.val]);
  assertEquals(all.size, 1000);
  assert(
    !a.val.every((v, i) => v === i),
    "the split is shuffled, not the first rows",
  );
  assert(makeSplit(1000, 0.1, 43).val.some((v, i) => v !== a.val[i]));
  const trainer = newTrainer();
  assertEquals(trainer.splitFor(N).val, trainer.splitFor(N).val);
  trainer.dispose();
});

Deno.test("classification loss averages over labelled samples only", async () => {
  const model = new SSVAE(small());
  const labels = someLabels();
  const labelled = Uint32Array.from(
    [...labels.keys()].filter((i) => !Number.isNaN(labels[i])),
  );
  const withUnlabelled = Uint32Array.from(labels.keys());
  const config = small();
  const only = await evaluateSplit(
    model,
    config,
    data.images,
    labels,
    labelled,
  );
  const diluted = await evaluateSplit(
    model,
    config,
    data.images,
    labels,
    withUnlabelled,
  );
  assertAlmostEquals(
    diluted.classification_loss,
    only.classification_loss,
    1e-5,
  );
  assert(
    only.classification_loss > 0.5,
    "an untrained classifier has a real loss",
  );
  model.dispose();
});
