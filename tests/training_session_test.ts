/**
 * The training session (lib/training/session.ts) driven in-process, without
 * the Worker: what the worker posts, in what order, and what reaches the
 * disk. Real MNIST, a small slice, one-epoch runs, one thread (the machine's
 * other core is left to the rest of the suite).
 */

import { assert, assertEquals } from "./assert.ts";
import type { DataSpec } from "../lib/data/source.ts";
import { loadTestSet, loadTrainImages } from "../lib/data/mnist.ts";
import type {
  EvaluationMessage,
  FromWorker,
  InitMessage,
  ModelMessage,
  TrainDoneMessage,
  TrainMessage,
} from "../lib/protocol/training_worker.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/training/checkpoint.ts";
import { RunLog } from "../lib/training/run_log.ts";
import { readRuns, runsPathFor } from "../lib/training/runs.ts";
import { type Emit, TrainingSession } from "../lib/training/session.ts";
import { withTempDir } from "../support/temp_dir.ts";

// Once, outside the tests: the backend's one-time set-up is not a test's leak.
await initBackend();

const train = await loadTrainImages({ limit: 300 });
const test = await loadTestSet({ limit: 200, pixelMax: train.pixelMax });
/**
 * The slice as decoded arrays (what `--images` posts), so a run's test-set
 * evaluation scores 200 images rather than all 10,000.
 */
const DATA: DataSpec = {
  kind: "arrays",
  train: { ...train },
  test: { ...test },
};
/** 30 labels, three per class at most; the rest unlabelled (NaN). */
function labels(): Float32Array {
  const out = new Float32Array(train.count).fill(NaN);
  for (let i = 0; i < 30; i++) out[i * 7] = train.labels[i * 7];
  return out;
}

/** Every message a session emits, kept in order. */
class Recorder {
  readonly messages: FromWorker[] = [];
  /** Called on each message as it is emitted (to act at an exact moment). */
  onMessage: (msg: FromWorker) => void = () => {};
  readonly emit: Emit = (msg) => {
    this.messages.push(msg);
    this.onMessage(msg);
  };

  /** The messages' types from `from` on, without the chatty ones. */
  types(from = 0): string[] {
    return this.messages.slice(from).map((m) => m.type).filter((t) =>
      t !== "progress" && t !== "batch"
    );
  }

  /** The last message of a type. */
  last<T extends FromWorker["type"]>(
    type: T,
  ): Extract<FromWorker, { type: T }> {
    const m = this.messages.findLast((m) => m.type === type);
    assert(m, `no ${type} message`);
    return m as Extract<FromWorker, { type: T }>;
  }

  /** The progress lines. */
  progress(): string[] {
    return this.messages.flatMap((m) =>
      m.type === "progress" ? [m.message] : []
    );
  }
}

function session(rec: Recorder): TrainingSession {
  return new TrainingSession({ emit: rec.emit, trainer: { threads: 1 } });
}

function initMessage(
  weightsPath: string,
  opts: Partial<InitMessage> = {},
): InitMessage {
  return {
    type: "init",
    data: DATA,
    classCount: 10,
    weightsPath,
    sendRaw: false,
    testHooks: false,
    ...opts,
  };
}

function trainMessage(runId: number, epochs = 1): TrainMessage {
  return { type: "train", runId, epochs, overrides: {}, labels: labels() };
}

const withDir = (fn: (dir: string) => Promise<void>) =>
  withTempDir("ssvae_session_", fn);

Deno.test("a session trains and saves, and a second one continues from its checkpoint", async () => {
  await withDir(async (dir) => {
    const weights = `${dir}/model.ckpt`;
    const a = new Recorder();
    const first = session(a);
    await first.init(initMessage(weights, { sendRaw: true }));
    assertEquals(a.types(), ["data", "runs", "model", "prediction", "ready"]);
    assertEquals(a.last("data").raw?.length, 300 * 784);
    assertEquals(a.last("runs").records, []);
    assertEquals(a.last("model").fromCheckpoint, false);
    assertEquals(a.last("model").step, 0);
    assertEquals(a.last("prediction").predClass.length, 300);

    let from = a.messages.length;
    await first.train(trainMessage(1));
    // A completed run: saved, then the map and the score, then done.
    assertEquals(a.types(from), [
      "train_started",
      "epoch",
      "model",
      "prediction",
      "evaluation",
      "train_done",
    ]);
    const done = a.last("train_done");
    assertEquals(
      [done.outcome, done.epochsRun, done.checkpointSaved],
      ["complete", 1, true],
    );
    const step = a.last("model").step;
    assert(step > 0);
    const evaluation = a.last("evaluation");
    assertEquals(evaluation.saved, true);
    assertEquals(evaluation.record?.run, 1);
    assertEquals(evaluation.record?.step, step);
    assertEquals(evaluation.record?.testCount, 200);
    assertEquals(evaluation.record?.labels, 30);
    await first.close();

    const b = new Recorder();
    const second = session(b);
    await second.init(initMessage(weights));
    assertEquals(b.last("model").fromCheckpoint, true);
    // The map's prediction (images scaled chunk by chunk, not all at once)
    // is the model's output on the scaled images; reconstructions are
    // display bytes: × pixelMax, clipped, × 255, rounded.
    const reference = await loadCheckpoint(weights, undefined, { threads: 1 });
    const want = reference.model.predict(train.images, train.count);
    const got = b.last("prediction");
    assertEquals(got.latent, want.latent);
    assertEquals(got.predClass, want.predClass);
    const bytes = want.recon.map((r, i) => {
      const v = r * train.pixelMax[i % 784];
      return v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    });
    assertEquals(got.recon, Uint8Array.from(bytes));
    reference.dispose();
    assertEquals(b.last("model").step, step);
    assertEquals(b.last("runs").records.map((r) => r.run), [1]);
    from = b.messages.length;
    await second.train(trainMessage(2));
    assertEquals(b.last("train_done").outcome, "complete");
    // Step counter and history carry on from the first session's.
    assertEquals(b.last("model").step, 2 * step);
    assertEquals(b.last("model").history.map((h) => h.epoch), [1, 2]);
    assertEquals(b.last("evaluation").record?.run, 2);
    const onDisk = await readRuns(runsPathFor(weights));
    assertEquals(onDisk.map((r) => [r.run, r.step]), [[1, step], [
      2,
      2 * step,
    ]]);
    await second.close();
  });
});

Deno.test("a checkpoint written by another process is continued from between runs and kept during one", async () => {
  await withDir(async (dir) => {
    const weights = `${dir}/model.ckpt`;
    const rec = new Recorder();
    const s = session(rec);
    await s.init(initMessage(weights));
    await s.train(trainMessage(1));
    const step = rec.last("model").step;

    // Another writer (as `deno task train`) trains on and saves.
    const other = await loadCheckpoint(weights, undefined, { threads: 1 });
    await other.trainEpochs(1, train.images, labels());
    await saveCheckpoint(weights, other);
    assertEquals(other.step, 2 * step);
    other.dispose();

    let from = rec.messages.length;
    await s.train(trainMessage(2));
    assert(
      rec.progress().some((p) => /checkpoint changed on disk/.test(p)),
      rec.progress().join("\n"),
    );
    const models = rec.messages.slice(from).filter((m): m is ModelMessage =>
      m.type === "model"
    );
    // Reloaded from the other writer's file, then one more epoch on top.
    assertEquals(models.map((m) => m.step), [2 * step, 3 * step]);
    assertEquals(rec.last("train_done").outcome, "complete");

    // The other writer saves while a run trains: its file is kept, the run
    // goes beside it, and the run ends in an error saying where.
    const theirs = await Deno.readFile(weights);
    rec.onMessage = (msg) => {
      if (msg.type === "epoch" && msg.runId === 3) {
        // Synchronously, so it lands before the run's save. A rename is how
        // an atomic writer replaces the file (a new inode).
        Deno.writeFileSync(`${weights}.other`, theirs);
        Deno.renameSync(`${weights}.other`, weights);
      }
    };
    from = rec.messages.length;
    await s.train(trainMessage(3));
    assertEquals(rec.types(from), ["train_started", "epoch", "train_done"]);
    const done = rec.last("train_done");
    assertEquals(done.outcome, "error");
    assertEquals(done.checkpointSaved, false);
    assertMatches(
      done.message ?? "",
      /rewritten by another process.*saved to .*dashboard-\d+\.ckpt/,
    );
    assertEquals(await Deno.readFile(weights), theirs);
    const aside = [...Deno.readDirSync(dir)].filter((e) =>
      /^model\.dashboard-\d+\.ckpt$/.test(e.name)
    );
    assertEquals(aside.length, 1);
    await s.close();
  });
});

Deno.test("stops: before the run trains nothing is saved; mid-run, train_done comes before the map and the score", async () => {
  await withDir(async (dir) => {
    const weights = `${dir}/model.ckpt`;
    const rec = new Recorder();
    const s = session(rec);
    // Both stops come while the session is still busy with init: one after
    // its run's `train` message, one before it.
    s.receive(initMessage(weights));
    s.receive(trainMessage(1));
    s.receive({ type: "stop", runId: 1 });
    s.receive({ type: "stop", runId: 2 });
    s.receive(trainMessage(2));
    await s.settled();
    const ready = rec.messages.findIndex((m) => m.type === "ready");
    assertEquals(rec.types(ready + 1), [
      "train_started",
      "train_done",
      "train_started",
      "train_done",
    ]);
    const dones = rec.messages.filter((m): m is TrainDoneMessage =>
      m.type === "train_done"
    );
    assertEquals(
      dones.map((d) => [d.runId, d.outcome, d.epochsRun, d.checkpointSaved]),
      [[1, "stopped", 0, false], [2, "stopped", 0, false]],
    );
    assertEquals(rec.last("model").step, 0);
    assert(!(await exists(weights)), "a run that never trained saved nothing");

    // Stopped at its first batch: the partial epoch is not counted, its
    // steps are saved, and the session reports done before predicting.
    rec.onMessage = (msg) => {
      if (msg.type === "batch" && msg.runId === 3) s.stop(3);
    };
    const from = rec.messages.length;
    await s.train(trainMessage(3, 5));
    assertEquals(rec.types(from), [
      "train_started",
      "model",
      "train_done",
      "prediction",
      "evaluation",
    ]);
    const done = rec.last("train_done");
    assertEquals(
      [done.outcome, done.epochsRun, done.checkpointSaved],
      ["stopped", 0, true],
    );
    assert(rec.last("model").step > 0);
    assertEquals(rec.last("evaluation").record?.outcome, "stopped");
    assert(await exists(weights));
    await s.close();
  });
});

Deno.test("an injected NaN ends the run in an error that keeps the finished epoch", async () => {
  await withDir(async (dir) => {
    const weights = `${dir}/model.ckpt`;
    const rec = new Recorder();
    const s = session(rec);
    await s.init(initMessage(weights, { testHooks: true }));
    s.injectFault("nan");
    const from = rec.messages.length;
    await s.train(trainMessage(1, 3));
    // The fault fires at the first epoch's end, before its `epoch` message.
    assertEquals(rec.types(from), [
      "train_started",
      "model",
      "prediction",
      "evaluation",
      "train_done",
    ]);
    const done = rec.last("train_done");
    assertEquals(
      [done.outcome, done.epochsRun, done.checkpointSaved],
      ["error", 0, true],
    );
    assertMatches(done.message ?? "", /^TrainingError: injected fault/);
    assertEquals(rec.last("model").history.length, 1);
    const evaluation: EvaluationMessage = rec.last("evaluation");
    assertEquals(evaluation.record?.outcome, "error");
    assertEquals(
      (await readRuns(runsPathFor(weights))).map((r) => r.outcome),
      ["error"],
    );
    await s.close();
  });
});

Deno.test("before init: faults are refused, a run ends at once, predict is an error", async () => {
  const rec = new Recorder();
  const s = session(rec);
  s.injectFault("nan");
  s.receive({ type: "fault", fault: "crash" });
  s.receive(trainMessage(1));
  s.receive({ type: "predict" });
  await s.settled();
  assertEquals(rec.messages, [
    { type: "error", message: "fault injection is disabled", fatal: false },
    { type: "error", message: "fault injection is disabled", fatal: false },
    {
      type: "train_done",
      runId: 1,
      outcome: "error",
      epochsRun: 0,
      stoppedEarly: false,
      checkpointSaved: false,
      message: "the training worker is not initialised",
    },
    { type: "error", message: "worker not initialised", fatal: false },
  ]);
  await s.close();
});

Deno.test("a run scored on the quick graph is scored again on the real one: record and runs.json", async () => {
  await withDir(async (dir) => {
    const weights = `${dir}/model.ckpt`;
    const rec = new Recorder();
    const s = session(rec);
    await s.init(initMessage(weights));
    // The quick graph's test predictions: every test image "0".
    const quick = new Uint8Array(test.count);
    await s.train({
      ...trainMessage(1),
      graphTestPred: quick,
      graphPredictor: "quick graph",
    });
    const first = rec.last("evaluation").record!;
    assertEquals(first.predictor, "quick graph");
    const zeros = test.labels.filter((l) => l === 0).length / test.count;
    assertEquals(first.accuracy.overall, zeros);
    // The real graph's: the truth but for the first 20 test images.
    const real = test.labels.slice();
    for (let i = 0; i < 20; i++) real[i] = (real[i] + 1) % 10;
    await s.rescore({ type: "rescore", run: 1, graphTestPred: real });
    const again = rec.last("rescored");
    assertEquals(again.saved, true);
    assertEquals(again.record?.run, 1);
    assertEquals(again.record?.predictor, "graph");
    assertEquals(
      again.record?.accuracy.overall,
      (test.count - 20) / test.count,
    );
    assertEquals(again.record?.firstScore, {
      overall: zeros,
      predictor: "quick graph",
    });
    // The confusion matrix is the new predictions' too.
    assertEquals(
      again.record?.confusion.flat().reduce((a, b) => a + b),
      test.count,
    );
    const onDisk = await readRuns(runsPathFor(weights));
    assertEquals(onDisk.length, 1);
    assertEquals(onDisk[0].accuracy.overall, (test.count - 20) / test.count);
    assertEquals(onDisk[0].firstScore?.predictor, "quick graph");
    // A run with no record, or predictions of another length: said, nothing written.
    await s.rescore({ type: "rescore", run: 7, graphTestPred: real });
    assertMatches(
      rec.last("rescored").message ?? "",
      /run 7 not scored again: run 7 has no record/,
    );
    await s.rescore({
      type: "rescore",
      run: 1,
      graphTestPred: real.subarray(0, 5),
    });
    assertMatches(
      rec.last("rescored").message ?? "",
      /5 graph predictions for 200 test images/,
    );
    assertEquals(
      (await readRuns(runsPathFor(weights)))[0].accuracy.overall,
      (test.count - 20) / test.count,
    );
    await s.close();
  });
});

Deno.test("an unreadable runs file is never written: records stay in memory and say why", async () => {
  await withDir(async (dir) => {
    const weights = `${dir}/model.ckpt`;
    await Deno.writeTextFile(weights, "a checkpoint");
    await Deno.writeTextFile(runsPathFor(weights), "{not json");
    const log = await RunLog.open(weights, 10);
    assertMatches(log.error ?? "", /RunsFileError: .*not JSON/);
    const record = {
      ...structuredClone(rec0),
      run: log.nextRun,
    };
    const result = await log.append(record);
    assertEquals(result.saved, false);
    assertMatches(result.message ?? "", /^not appended to runs.json: /);
    assertEquals(log.records.map((r) => r.run), [1]);
    assertEquals(await Deno.readTextFile(runsPathFor(weights)), "{not json");
  });
});

/** A minimal run record for the run-log test. */
const rec0 = {
  run: 1,
  timestamp: new Date(0).toISOString(),
  labels: 10,
  labelsPerClass: new Array(10).fill(1),
  config: {},
  epochs: 1,
  targetEpochs: 1,
  totalEpochs: 1,
  step: 10,
  outcome: "complete" as const,
  durationSeconds: 1,
  evalSeconds: 1,
  testCount: 1,
  accuracy: { overall: 0.5, perClass: new Array(10).fill(0.5) },
  confusion: [],
};

/** Asserts that `text` matches `re`, showing the text when not. */
function assertMatches(text: string, re: RegExp): void {
  assert(re.test(text), `${JSON.stringify(text)} does not match ${re}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
