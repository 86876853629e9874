import {
  epochAxis,
  labelledSubset,
  latentLayout,
  latentTraces,
  lossTraces,
  pointToIndex,
  selectionShapes,
  TRACE_LABELLED,
  TRACE_POINTS,
} from "../lib/client/figures.ts";
import { decodeLatent } from "../lib/client/latent.ts";
import {
  applyServerMessage,
  createStore,
  fmtLoss,
  pushLog,
} from "../lib/client/store.ts";
import type { ApiState, HistoryEntry } from "../lib/client/types.ts";
import { encodeLatent } from "../lib/server/latent_snapshot.ts";
import { assert, assertEquals } from "./assert.ts";

function entry(epoch: number, loss: number): HistoryEntry {
  const m = {
    loss,
    reconstruction_loss: loss / 2,
    kl_loss: 1,
    classification_loss: 0.5,
    weighted_classification_loss: 0.5,
  };
  return {
    epoch,
    step: epoch * 10,
    seconds: 1,
    train: m,
    val: { ...m, loss: loss + 1 },
  };
}

function state(over: Partial<ApiState> = {}): ApiState {
  return {
    count: 100,
    labelled: 2,
    countsPerClass: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    training: { status: "idle", epoch: 0, targetEpochs: 0 },
    config: { recon_weight: 900, kl_weight: 0.2, learning_rate: 0.002 },
    history: [],
    latentVersion: 1,
    ...over,
  };
}

function snapshot(n = 5, version = 1) {
  const labels = new Float32Array(n).fill(NaN);
  labels[2] = 4;
  return decodeLatent(
    encodeLatent({
      latent: new Float32Array(2 * n).map((_, i) => i),
      latentDim: 2,
      predClass: new Uint8Array(n).fill(3),
      certainty: new Float32Array(n).fill(0.5),
      labels,
      count: n,
    }, version).buffer as ArrayBuffer,
  );
}

Deno.test("createStore takes defaults from the page props", () => {
  const s = createStore({ state: state({ history: [entry(1, 10)] }) });
  assertEquals(s.count.value, 100);
  assertEquals(s.params.reconWeight.value, 900);
  assertEquals(s.params.klWeight.value, 0.2);
  assertEquals(s.params.learningRate.value, 0.002);
  assertEquals(s.lastEntry.value?.epoch, 1);
  assertEquals(s.isTraining.value, false);
  const empty = createStore();
  assertEquals(empty.count.value, 0);
  assertEquals(empty.params.learningRate.value, 1e-3);
  // Out-of-range config values are clamped to the slider ranges.
  const big = createStore({
    state: state({ config: { recon_weight: 1e5, learning_rate: 0.5 } }),
  });
  assertEquals(big.params.reconWeight.value, 5000);
  assertEquals(big.params.learningRate.value, 1e-2);
});

Deno.test("a training run moves the store through its states", () => {
  const s = createStore({ state: state() });
  applyServerMessage(s, { type: "training_started", targetEpochs: 2 }, 0);
  assertEquals(s.training.value.status, "training");
  assert(s.isTraining.value);
  applyServerMessage(s, {
    type: "epoch",
    epoch: 1,
    targetEpochs: 2,
    metrics: entry(1, 50),
    entry: entry(1, 50),
  }, 0);
  // The same epoch twice (replay) does not duplicate the point.
  applyServerMessage(s, {
    type: "epoch",
    epoch: 1,
    targetEpochs: 2,
    metrics: entry(1, 50),
    entry: entry(1, 50),
  }, 0);
  assertEquals(s.history.value.length, 1);
  assertEquals(s.training.value.epoch, 1);
  const f = applyServerMessage(s, { type: "latent_updated", version: 2 }, 0);
  assert(f.refetchLatent && f.refetchSample);
  assertEquals(s.latentVersion.value, 2);
  applyServerMessage(s, { type: "training_complete" }, 0);
  assertEquals(s.training.value.status, "idle");
  assert(!s.isTraining.value);
  assertEquals(
    s.log.value.map((m) => m.text),
    [
      "Training started: 2 epochs",
      "Epoch 1/2: train 50.00, val 51.00",
      "Training complete",
    ],
  );
});

Deno.test("training errors are kept as red log lines and in the status", () => {
  const s = createStore();
  applyServerMessage(s, { type: "training_error", message: "loss is NaN" }, 0);
  assertEquals(s.training.value.status, "error");
  assertEquals(s.training.value.message, "loss is NaN");
  assertEquals(s.log.value.at(-1)?.kind, "error");
  assert(s.log.value.at(-1)!.text.includes("loss is NaN"));
});

Deno.test("the log keeps the last 10 messages", () => {
  const s = createStore();
  for (let i = 0; i < 15; i++) pushLog(s, `m${i}`);
  assertEquals(s.log.value.length, 10);
  assertEquals(s.log.value[0].text, "m5");
  assertEquals(s.log.value[9].text, "m14");
});

Deno.test("labels_changed updates the snapshot, the open sample and the counts", () => {
  const s = createStore({ state: state() });
  s.latent.value = snapshot();
  s.sample.value = {
    index: 1,
    label: null,
    predClass: 3,
    certainty: 0.5,
    probs: [],
    original: "",
    recon: "",
  };
  const before = s.latent.value;
  applyServerMessage(s, {
    type: "labels_changed",
    changes: [{ index: 1, label: 7 }, { index: 2, label: null }],
    counts: { labelled: 1, countsPerClass: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0] },
  });
  assert(s.latent.value !== before);
  assertEquals(Array.from(s.latent.value!.userLabel), [-1, 7, -1, -1, -1]);
  assertEquals(s.sample.value.label, 7);
  assertEquals(s.labelled.value, 1);
  // Without counts in the message they are derived from the snapshot.
  applyServerMessage(s, {
    type: "labels_changed",
    changes: [{ index: 0, label: 7 }],
  });
  assertEquals(s.labelled.value, 2);
  assertEquals(s.countsPerClass.value[7], 2);
});

Deno.test("hello replaces the state and asks for a latent refetch", () => {
  const s = createStore({ state: state() });
  const f = applyServerMessage(s, {
    type: "hello",
    status: { status: "training", epoch: 3, targetEpochs: 9 },
    history: [entry(1, 5), entry(2, 4)],
    latentVersion: 4,
    counts: { count: 100, labelled: 9, countsPerClass: new Array(10).fill(0) },
  });
  assert(f.refetchLatent);
  assertEquals(s.training.value.epoch, 3);
  assertEquals(s.history.value.length, 2);
  assertEquals(s.latentVersion.value, 4);
  assertEquals(s.labelled.value, 9);
});

Deno.test("latent figure: typed arrays as is, overlay maps back to indices, X as a shape", () => {
  const snap = snapshot(5);
  const labelled = labelledSubset(snap);
  assertEquals(Array.from(labelled.index), [2]);
  const t = latentTraces({ snap, mode: "labels", labelled });
  assertEquals(t.length, 2);
  assert(t[TRACE_POINTS].x === snap.x, "x passed without copying");
  assertEquals(t[TRACE_POINTS].type, "scattergl");
  assertEquals(Array.from(t[TRACE_LABELLED].x), [snap.x[2]]);
  const p = latentTraces({ snap, mode: "predicted", labelled });
  assert(p[TRACE_POINTS].marker.color === snap.predClass);
  assertEquals(p[TRACE_LABELLED].x.length, 0);
  const c = latentTraces({ snap, mode: "certainty", labelled });
  assert(c[TRACE_POINTS].marker.color === snap.certainty);
  assertEquals(c[TRACE_POINTS].marker.showscale, true);
  assertEquals(pointToIndex(TRACE_POINTS, 3, labelled), 3);
  assertEquals(pointToIndex(TRACE_LABELLED, 0, labelled), 2);
  assertEquals(pointToIndex(7, 0, labelled), null);
  const x = selectionShapes(snap, 4);
  assertEquals(x.length, 2);
  assertEquals(x[1].xanchor, snap.x[4]);
  assertEquals(x[1].yanchor, snap.y[4]);
  assertEquals(x[1].xsizemode, "pixel");
  assertEquals(selectionShapes(snap, null), []);
  assertEquals(selectionShapes(snap, 99), []);
  // Same version keeps zoom (uirevision); a new version resets it.
  assertEquals(latentLayout(3).uirevision, latentLayout(3).uirevision);
  assert(latentLayout(3).uirevision !== latentLayout(4).uirevision);
});

Deno.test("loss figure: bold totals last, components lighter, epochs on x", () => {
  const h = [entry(1, 10), entry(2, 8), entry(3, 7)];
  const t = lossTraces(h);
  const train = t.find((x) => x.name === "train total")!;
  const val = t.find((x) => x.name === "val total")!;
  assertEquals(train.y, [10, 8, 7]);
  assertEquals(val.y, [11, 9, 8]);
  assertEquals(val.line.dash, "dash");
  assert(train.line.width > t[0].line.width);
  assert(t[0].opacity < 1);
  assertEquals(train.x, [1, 2, 3]);
  // Non-increasing epochs (several runs restarting at 1) fall back to 1..n.
  assertEquals(epochAxis([entry(1, 1), entry(1, 1)]), [1, 2]);
  assertEquals(fmtLoss(NaN), "–");
  assertEquals(fmtLoss(1234.56), "1235");
  assertEquals(fmtLoss(0.012345), "0.0123");
});
