import {
  boundsTrace,
  epochAxis,
  epochTicks,
  latentLayout,
  lossLayout,
  lossTraces,
  selectionShapes,
  suggestionShapes,
} from "../lib/client/figures.ts";
import {
  baseColors,
  labelledPoints,
  selectedPoints,
} from "../lib/client/point_colors.ts";
import { PointIndex } from "../lib/client/point_index.ts";
import {
  breakdownText,
  planBatch,
  planSummary,
  predictedBreakdown,
} from "../lib/client/batch_plan.ts";
import { dispatchKey, KEY_ACTIONS } from "../lib/client/key_actions.ts";
import { CLASS_COLORS, SELECTION_COLOR } from "../lib/client/palette.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import {
  applyServerMessage,
  createStore,
  fmtLoss,
  pushLog,
} from "../lib/client/store.ts";
import type { ApiState, GraphInfo, HistoryEntry } from "../lib/protocol/api.ts";
import { queueNote } from "../lib/client/suggestions.ts";
import { encodeLatentSource } from "../lib/server/latent_cache.ts";
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
    encodeLatentSource({
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
  const epoch1 = {
    type: "epoch",
    epoch: 1,
    targetEpochs: 2,
    metrics: entry(1, 50),
    entry: entry(1, 50),
  } as const;
  applyServerMessage(s, epoch1, 0);
  // The same epoch twice (replay) does not duplicate the point.
  applyServerMessage(s, epoch1, 0);
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

Deno.test("the label graph's status: from hello and graph_status, an error logged once, the queue's note", () => {
  const s = createStore({ state: state() });
  const building = (message?: string): GraphInfo => ({
    status: "building",
    revision: -1,
    ms: 0,
    phase: null,
    ...(message ? { message } : {}),
  });
  applyServerMessage(s, { type: "hello", graph: building() });
  assertEquals(s.graph.value?.status, "building");
  assertEquals(
    queueNote(null, s.graph.value),
    "Building the label graph: until it is ready, suggestions go by margin and the predictions are the model's.",
  );
  applyServerMessage(s, {
    type: "graph_status",
    graph: building("neighbour graph"),
  });
  assert(
    queueNote(null, s.graph.value).startsWith(
      "Building the label graph (neighbour graph):",
    ),
  );
  const failed: GraphInfo = {
    ...building(),
    status: "error",
    message: "graph worker died: out of memory",
  };
  applyServerMessage(s, { type: "graph_status", graph: failed }, 5);
  applyServerMessage(s, { type: "graph_status", graph: failed }, 6);
  assertEquals(
    s.log.value.filter((l) => l.text.includes("label graph failed")).length,
    1,
  );
  assertEquals(s.log.value.at(-1)?.kind, "error");
  assertEquals(
    queueNote(null, s.graph.value),
    "The label graph failed (graph worker died: out of memory): suggestions go by margin.",
  );
  applyServerMessage(s, {
    type: "graph_status",
    graph: { ...failed, status: "ready", message: undefined },
  });
  assertEquals(
    queueNote(null, s.graph.value),
    "By margin until the label graph is ready.",
  );
  // Once the graph propagates, the queue's own phase says what it does.
  assert(queueNote("coverage", s.graph.value).startsWith("Typical images"));
  assertEquals(
    queueNote(null, { ...failed, status: "off" }),
    "By margin (the label graph is off).",
  );
  // The quick graph, then the full one: said once in the log.
  const quick: GraphInfo = {
    ...building(),
    status: "ready",
    provisional: true,
  };
  applyServerMessage(s, { type: "graph_status", graph: quick }, 7);
  applyServerMessage(s, {
    type: "graph_status",
    graph: { ...quick, message: "spectral embedding" },
  }, 8);
  assertEquals(
    s.log.value.filter((l) => l.text.includes("full label graph")).length,
    0,
  );
  applyServerMessage(s, {
    type: "graph_status",
    graph: { ...quick, provisional: false },
  }, 9);
  applyServerMessage(s, {
    type: "graph_status",
    graph: { ...quick, provisional: false },
  }, 10);
  const ready = s.log.value.filter((l) => l.text.includes("full label graph"));
  assertEquals(ready.length, 1);
  assertEquals(ready[0].kind, "success");
});

Deno.test("latent map colours: one RGBA array per mode, labels on their own layer", () => {
  const snap = snapshot(5);
  const hex = (c: string) =>
    [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));
  // User labels: every base point grey (a label never recolours the 60k).
  const l = baseColors(snap, "labels");
  assertEquals(l.length, 20);
  assertEquals(Array.from(l.subarray(0, 4)), Array.from(l.subarray(8, 12)));
  // Predicted class 3 → class 3's colour.
  const p = baseColors(snap, "predicted");
  assertEquals(Array.from(p.subarray(0, 3)), hex(CLASS_COLORS[3]));
  // Certainty 50% sits between the scale's ends.
  const c = baseColors(snap, "certainty");
  assert(c[0] !== p[0] || c[1] !== p[1], "certainty differs from class");
  // The labelled layer: only #2, in label 4's colour, opaque.
  const lab = labelledPoints(snap);
  assertEquals(Array.from(lab.index), [2]);
  assertEquals(Array.from(lab.xy), [snap.x[2], snap.y[2]]);
  assertEquals(Array.from(lab.rgba), [...hex(CLASS_COLORS[4]), 255]);
  // The selection layer leaves out the excluded points.
  const sel = selectedPoints(snap, Uint32Array.from([0, 1, 3]), new Set([1]));
  assertEquals(Array.from(sel.index), [0, 3]);
  assertEquals(Array.from(sel.rgba.subarray(0, 3)), hex(SELECTION_COLOR));
});

Deno.test("point index: the nearest point within a pixel radius, at any zoom", () => {
  // A 100×100 grid of points one latent unit apart, plus a point far away.
  const n = 10_001;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < 10_000; i++) {
    x[i] = i % 100;
    y[i] = Math.floor(i / 100);
  }
  x[10_000] = 1000;
  y[10_000] = 1000;
  const idx = new PointIndex(x, y);
  const near = { sx: 10, sy: -10 }; // 10 px per unit
  assertEquals(idx.nearest(42.2, 17.1, 5, near), 17 * 100 + 42);
  // 0.45 units = 4.5 px away: within 5 px, not within 4.
  assertEquals(idx.nearest(42.45, 17, 5, near), 17 * 100 + 42);
  assertEquals(idx.nearest(42.45, 17, 4, near), -1);
  // Zoomed out (0.01 px per unit) the far point is near in pixels too.
  assertEquals(idx.nearest(990, 990, 1, { sx: 0.01, sy: -0.01 }), 10_000);
  // Arrow keys: right of (42, 17) is (43, 17); "up" on screen is y + 1.
  assertEquals(idx.step(17 * 100 + 42, 1, 0, near), 17 * 100 + 43);
  assertEquals(idx.step(17 * 100 + 42, 0, -1, near), 18 * 100 + 42);
  // Brute force agrees on random queries.
  let s = 7;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  for (let k = 0; k < 200; k++) {
    const qx = rand() * 100, qy = rand() * 100, r = 1 + rand() * 20;
    let best = -1, bestD = r * r;
    for (let i = 0; i < n; i++) {
      const d = ((x[i] - qx) * 10) ** 2 + ((y[i] - qy) * 10) ** 2;
      if (d < bestD || (d === bestD && i < best)) {
        bestD = d;
        best = i;
      }
    }
    assertEquals(idx.nearest(qx, qy, r, near), best);
  }
});

Deno.test("latent figure: invisible corner points, fixed padded ranges, X and rings as shapes", () => {
  const snap = snapshot(5);
  const idx = new PointIndex(snap.x, snap.y);
  const t = boundsTrace(idx);
  assertEquals(t.x, [idx.x0, idx.x1]);
  assertEquals(t.marker.opacity, 0);
  const lay = latentLayout(1, "zoom", idx);
  assert(lay.xaxis.range[0] < idx.x0 && lay.xaxis.range[1] > idx.x1);
  // Rings: a white halo and a dark ring each; one close to another is skipped.
  const rings = suggestionShapes(snap, [0, 1, 4], 0);
  assertEquals(rings.length, 6);
  assertEquals(rings[0].name, "suggestion-top");
  assertEquals(suggestionShapes(snap, [0, 1, 4], 100).length, 2);
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
  // Whole-epoch ticks only ("0 1 1 2 2" before).
  assertEquals(epochTicks(2), { tick0: 0, dtick: 1 });
  assertEquals(epochTicks(40).dtick, 5);
  assertEquals(lossLayout(3).xaxis.dtick, 1);
  // The running epoch's loss shows before its epoch ends.
  const live = lossTraces(h, { x: 3.5, loss: 6.5 }).at(-1)!;
  assertEquals([live.x, live.y], [[3.5], [6.5]]);
  assertEquals(lossTraces(h, null).length, lossTraces(h).length);
});

Deno.test("batch progress moves the bar inside an epoch and clears at the end", () => {
  const s = createStore({ state: state() });
  applyServerMessage(s, { type: "training_started", targetEpochs: 4 });
  applyServerMessage(s, {
    type: "batch",
    epoch: 2,
    targetEpochs: 4,
    batch: 10,
    batches: 40,
    elapsedMs: 5000,
    etaMs: 9000,
    loss: 123,
  });
  assertEquals(s.progress.value?.batch, 10);
  assertEquals(s.training.value.epoch, 1, "epoch 1 done while in epoch 2");
  applyServerMessage(s, { type: "training_stopped" });
  assertEquals(s.progress.value, null);
  assertEquals(s.training.value.status, "idle");
});

Deno.test("batch plan: new, changed and unchanged; asks when labels change or > 200", () => {
  const ul = new Int8Array([-1, -1, 3, 7, 7, -1]);
  const p = planBatch(ul, [0, 1, 2, 3, 4, 5], new Set([5]), 7);
  assertEquals([p.added, p.changed, p.unchanged], [2, 1, 2]);
  assertEquals(p.changes, [
    { index: 0, label: 7 },
    { index: 1, label: 7 },
    { index: 2, label: 7 },
  ]);
  assert(p.confirm, "a label would change");
  assertEquals(planSummary(p, 7), "2 new, 1 changed, 2 already 7");
  // The label it replaces, by class: the dialog names it.
  assertEquals(p.replaced, [[3, 1]]);
  assertEquals(
    breakdownText(p.replaced, (c) => `labelled ${c}`, 4, " "),
    "1 labelled 3",
  );
  // What the selection is predicted to be, most first, the excluded left out.
  const pred = new Uint8Array([0, 4, 0, 0, 9, 4]);
  const parts = predictedBreakdown(pred, [0, 1, 2, 3, 4, 5], new Set([5]));
  assertEquals(parts, [[0, 3], [4, 1], [9, 1]]);
  assertEquals(breakdownText(parts), "3 × 0, 1 × 4, 1 × 9");
  assertEquals(breakdownText(parts, String, 1), "3 × 0, 2 other");
  const fresh = planBatch(ul, [0, 1], new Set(), 4);
  assert(!fresh.confirm, "2 new labels: no question");
  const many = planBatch(
    new Int8Array(300).fill(-1),
    [...Array(300).keys()],
    new Set(),
    1,
  );
  assert(many.confirm, "300 new labels: asks");
  const removal = planBatch(ul, [2, 3, 0], new Set(), null);
  assertEquals([removal.added, removal.changed, removal.unchanged], [0, 2, 1]);
  assertEquals(planSummary(removal, null), "2 labels removed");
});

Deno.test("key table: digits label the selection when there is one, ? toggles help", () => {
  const s = createStore({ state: state() });
  const calls: string[] = [];
  s.actions.setLabel = (d) => calls.push(`one ${d}`);
  s.active.actions.labelSelection = (d) => calls.push(`batch ${d}`);
  s.active.actions.undo = () => calls.push("undo");
  const key = (key: string, mods: Partial<KeyboardEvent> = {}) => {
    const ev = {
      key,
      ctrlKey: false,
      metaKey: false,
      altKey: false,
      shiftKey: false,
      defaultPrevented: false,
      target: null,
      preventDefault() {
        this.defaultPrevented = true;
      },
      ...mods,
    };
    return dispatchKey(s, ev as unknown as KeyboardEvent);
  };
  assertEquals(key("7"), "label");
  s.active.selection.value = Uint32Array.from([1, 2]);
  key("8");
  assertEquals(key("z", { ctrlKey: true }), "undo");
  assertEquals(calls, ["one 7", "batch 8", "undo"]);
  assertEquals(key("?"), "help");
  assert(s.ui.helpOpen.value);
  assertEquals(key("5"), null, "keys are off while the help is open");
  assertEquals(key("Escape"), "help");
  assert(!s.ui.helpOpen.value);
  // With a question open, keys belong to the dialog.
  s.ui.confirm.value = {
    title: "t",
    lines: [],
    confirmLabel: "ok",
    onConfirm() {},
  };
  assertEquals(key("3"), null);
  // Every entry has keys, a label and a group; ids are unique.
  assertEquals(new Set(KEY_ACTIONS.map((a) => a.id)).size, KEY_ACTIONS.length);
  for (const a of KEY_ACTIONS) assert(a.keys.length > 0 && a.label && a.group);
});

Deno.test("queue note names the label graph's feature space and its validation score", () => {
  const graph: GraphInfo = {
    status: "ready",
    revision: 3,
    ms: 300,
    phase: "coverage",
    features: {
      kind: "hog",
      accuracy: 0.864,
      scoredOn: 6000,
      candidates: [{ kind: "pixels", accuracy: 0.82 }, {
        kind: "hog",
        accuracy: 0.864,
      }],
    },
  };
  assert(
    queueNote("coverage", graph).endsWith(
      " Similar images by HOG features (86% on validation, best of 2).",
    ),
    queueNote("coverage", graph),
  );
  assert(
    queueNote("coverage", {
      ...graph,
      features: { ...graph.features!, accuracy: null, scoredOn: 0 },
    }).includes("the default: no classes to compare spaces on"),
  );
  // The quick graph says it is one, and what the full build is doing.
  const quick = queueNote("coverage", {
    ...graph,
    provisional: true,
    message: "neighbour graph",
  });
  assert(
    quick.includes("quick graph of plain pixels") &&
      quick.includes("(neighbour graph)") && !quick.includes("validation"),
    quick,
  );
});
