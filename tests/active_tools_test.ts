/**
 * The active-learning tools without a server: the probabilities format, the
 * suggestion queue's ranking and "next", undo/redo bookkeeping, the batch and
 * import validation and diff, the evaluation figures and the store's
 * `evaluation` event, and all of that on 60k rows (how fast is for
 * `deno task bench:queue`).
 */
import { assert, assertEquals } from "./assert.ts";
import { decodeProbs, encodeProbs } from "../lib/protocol/probs_format.ts";
import { MAX_BATCH } from "../lib/protocol/limits.ts";
import {
  nextSuggestion,
  randomSeed,
  rankAll,
  topUnlabelled,
} from "../lib/client/suggestions.ts";
import { QUEUE_IMAGES, queueOf60k } from "../support/probs_fixture.ts";
import { acquisitionScores, topSuggestions } from "../lib/active/strategies.ts";
import {
  applyChanges,
  revertChanges,
  UndoHistory,
} from "../lib/client/undo.ts";
import {
  importDiff,
  parseBatchBody,
  parseImportBody,
  parseImportCsv,
} from "../lib/server/bulk_labels.ts";
import { HTTPException } from "hono/http-exception";
import {
  accuracyTraces,
  compactCount,
  confusionLayout,
  confusionTraces,
} from "../lib/client/eval_figures.ts";
import { applyServerMessage, createStore } from "../lib/client/store.ts";
import { suggestionShapes } from "../lib/client/figures.ts";
import type { RunRecord } from "../lib/protocol/api.ts";
import type { LatentSnapshot } from "../lib/protocol/latent_format.ts";

function rows(...dists: number[][]): Float32Array {
  return Float32Array.from(
    dists.flatMap((d) => [...d, ...new Array(10 - d.length).fill(0)]),
  );
}

function throwsHttp(fn: () => unknown, status: number, match: RegExp) {
  try {
    fn();
  } catch (e) {
    assert(e instanceof HTTPException, `HTTPException, got ${e}`);
    assertEquals(e.status, status, e.message);
    assert(match.test(e.message), `${e.message} ~ ${match}`);
    return;
  }
  throw new Error(`expected an HTTPException ${status}`);
}

Deno.test("probs: encoded by the server, decoded by the page (1/255 steps)", () => {
  const p = rows([0.97, 0.03], [0.5, 0.5], [0.4, 0.3, 0.3]);
  const bytes = encodeProbs(p, 3, 10, 7, {
    phase: "coverage",
    order: Uint32Array.from([2, 0]),
  });
  // Header, 30 probability bytes padded to 32, then phase, M and 2 indices.
  assertEquals(bytes.length, 16 + 32 + 8 + 8);
  const snap = decodeProbs(bytes.slice().buffer);
  assertEquals([snap.version, snap.count, snap.classes], [7, 3, 10]);
  assertEquals([...snap.queue], [2, 0]);
  assertEquals(snap.queuePhase, "coverage");
  // A body without the queue trailer still decodes (no default queue).
  const bare = decodeProbs(bytes.slice(0, 16 + 30).buffer);
  assertEquals([bare.queue.length, bare.queuePhase], [0, null]);
  for (let i = 0; i < 30; i++) {
    assert(Math.abs(snap.probs[i] - p[i]) <= 0.5 / 255 + 1e-6, `p[${i}]`);
  }
  let threw = false;
  try {
    decodeProbs(new Uint8Array(20).buffer);
  } catch {
    threw = true;
  }
  assert(threw, "bad magic refused");
});

Deno.test("queue: ranking, top unlabelled, and N walking down the queue", () => {
  // 0 confident, 1 a tie, 2 spread over three, 3 top 0.5 + thin rest.
  const p = rows(
    [0.97, 0.03],
    [0.5, 0.5],
    [0.4, 0.3, 0.3],
    [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],
  );
  const snap = {
    version: 1,
    count: 4,
    classes: 10,
    probs: p,
    queue: new Uint32Array(0),
    queuePhase: null,
  };
  const ul = new Int8Array(4).fill(-1);
  const lc = rankAll(snap, "least_confidence");
  assertEquals([...lc.order], [2, 1, 3, 0]);
  assertEquals([...topUnlabelled(lc, ul, 2)], [2, 1]);
  assertEquals([...rankAll(snap, "margin").order].slice(0, 1), [1]);
  assertEquals([...rankAll(snap, "entropy").order].slice(0, 1), [3]);
  // The same order as the lead's topSuggestions.
  assertEquals(
    [...lc.order],
    [
      ...topSuggestions(
        acquisitionScores(p, "least_confidence"),
        new Float32Array(4).fill(NaN),
        4,
      ),
    ],
  );
  // N: nothing selected → best; the best selected → the next; then on.
  assertEquals(nextSuggestion(lc, ul, null), 2);
  assertEquals(nextSuggestion(lc, ul, 2), 1);
  assertEquals(nextSuggestion(lc, ul, 1), 3);
  assertEquals(nextSuggestion(lc, ul, 0), 2, "wraps to the top");
  // Labelling the best: the queue moves on; a labelled current → the top.
  ul[2] = 4;
  assertEquals([...topUnlabelled(lc, ul, 2)], [1, 3]);
  assertEquals(nextSuggestion(lc, ul, 2), 1);
  ul.fill(5);
  assertEquals(nextSuggestion(lc, ul, null), -1);
  // Random is a fixed draw per prediction version.
  assertEquals(
    [...rankAll(snap, "random").order],
    [...rankAll(snap, "random").order],
  );
});

Deno.test("queue on 60k images: every strategy ranks them all, best first; a label moves the top on", () => {
  const { snap, probs } = queueOf60k();
  assertEquals(snap.count, QUEUE_IMAGES);
  // The wire keeps each probability to the nearest 1/255.
  let worst = 0;
  for (let i = 0; i < probs.length; i++) {
    worst = Math.max(worst, Math.abs(snap.probs[i] - probs[i]));
  }
  assert(worst <= 0.5 / 255 + 1e-7, `probabilities off by ${worst}`);
  for (
    const s of ["least_confidence", "margin", "entropy", "random"] as const
  ) {
    const { order } = rankAll(snap, s);
    assertEquals(order.length, QUEUE_IMAGES);
    assertEquals(new Set(order).size, QUEUE_IMAGES, `${s}: every image once`);
    // Best first: the strategy's own scores never rise along the order.
    const scores = acquisitionScores(snap.probs, s, randomSeed(snap.version));
    for (let k = 1; k < order.length; k++) {
      if (scores[order[k]] > scores[order[k - 1]]) {
        throw new Error(`${s}: rank ${k} scores above rank ${k - 1}`);
      }
    }
  }
  // Each label moves the top-20 on by one: the ranking is walked, not redone.
  const r = rankAll(snap, "entropy");
  const ul = new Int8Array(QUEUE_IMAGES).fill(-1);
  for (let k = 0; k < 100; k++) {
    ul[r.order[k]] = 1;
    assertEquals([...topUnlabelled(r, ul, 20)], [
      ...r.order.slice(k + 1, k + 21),
    ]);
  }
});

Deno.test("undo history: record, undo, redo, failures, no-ops", () => {
  const h = new UndoHistory();
  assertEquals(h.record("nothing", [{ index: 1, before: 3, after: 3 }]), null);
  const a = h.record("label #1 as 3", [{ index: 1, before: null, after: 3 }])!;
  const b = h.record("batch", [
    { index: 2, before: 1, after: 7 },
    { index: 4, before: null, after: 7 },
  ])!;
  assertEquals(h.undoDepth.value, 2);
  const u = h.takeUndo()!;
  assertEquals(u, b);
  assertEquals(revertChanges(u), [
    { index: 2, label: 1 },
    { index: 4, label: null },
  ]);
  assertEquals([h.undoDepth.value, h.redoDepth.value], [1, 1]);
  // A failed undo puts the action back.
  h.undoFailed(u);
  assertEquals([h.undoDepth.value, h.redoDepth.value], [2, 0]);
  h.takeUndo();
  const r = h.takeRedo()!;
  assertEquals(applyChanges(r), [{ index: 2, label: 7 }, {
    index: 4,
    label: 7,
  }]);
  h.redoFailed(r);
  assertEquals([h.undoDepth.value, h.redoDepth.value], [1, 1]);
  // A new action clears redo; a failed write discards its entry.
  const c = h.record("label #9 as 0", [{ index: 9, before: null, after: 0 }])!;
  assertEquals(h.redoDepth.value, 0);
  h.discard(c);
  assertEquals(h.takeUndo(), a);
  assertEquals(h.takeUndo(), null);
});

Deno.test("batch body: all-or-nothing validation naming the entry", () => {
  const ok = parseBatchBody({
    changes: [{ index: 0, label: 3 }, { index: 9, label: null }],
    clientTime: 5,
  }, 10);
  assertEquals(ok.changes, [{ index: 0, label: 3 }, { index: 9, label: null }]);
  assertEquals(ok.clientTime, 5);
  throwsHttp(() => parseBatchBody({}, 10), 400, /changes/);
  throwsHttp(() => parseBatchBody({ changes: [] }, 10), 400, /empty/);
  throwsHttp(
    () => parseBatchBody({ changes: [{ index: 1, label: 1 }], x: 1 }, 10),
    400,
    /unknown field "x"/,
  );
  throwsHttp(
    () =>
      parseBatchBody({
        changes: [{ index: 1, label: 1 }, { index: 10, label: 1 }],
      }, 10),
    400,
    /changes\[1\]: index 10/,
  );
  throwsHttp(
    () => parseBatchBody({ changes: [{ index: 1, label: 10 }] }, 10),
    400,
    /changes\[0\]: label 10/,
  );
  throwsHttp(
    () => parseBatchBody({ changes: [{ index: 1, label: "3" }] }, 10),
    400,
    /label "3"/,
  );
  throwsHttp(
    () => parseBatchBody({ changes: [{ index: 1 }] }, 10),
    400,
    /missing "label"/,
  );
  throwsHttp(
    () =>
      parseBatchBody({
        changes: [{ index: 2, label: 1 }, { index: 2, label: 2 }],
      }, 10),
    400,
    /twice/,
  );
  throwsHttp(
    () =>
      parseBatchBody({
        changes: Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({
          index: i,
          label: 1,
        })),
      }, 100_000),
    413,
    /at most 20000/,
  );
});

Deno.test("import: validation, bad rows named, merge vs replace diff", () => {
  assertEquals(parseImportBody({ csv: "x" }).mode, "merge");
  throwsHttp(() => parseImportBody({ csv: 1 }), 400, /csv/);
  throwsHttp(() => parseImportBody({ csv: "", mode: "all" }), 400, /mode/);
  throwsHttp(() => parseImportBody({ csv: "", dryRun: "yes" }), 400, /dryRun/);
  try {
    parseImportCsv("Serial,label\n1,2\n3,x\n", 10, "mine.csv");
    throw new Error("accepted a bad row");
  } catch (e) {
    assert(e instanceof HTTPException);
    assertEquals((e as HTTPException & { line?: number }).line, 3);
    assert(/mine\.csv: line 3: label/.test(e.message), e.message);
  }
  const current = Float32Array.from([NaN, 1, 2, 3, NaN]);
  const incoming = parseImportCsv("Serial,label\n0,5\n1,1\n2,9\n", 5, "f");
  const merge = importDiff(current, incoming, "merge");
  assertEquals(
    [merge.added, merge.changed, merge.removed, merge.unchanged],
    [1, 1, 0, 1],
  );
  assertEquals(merge.changes, [{ index: 0, label: 5 }, { index: 2, label: 9 }]);
  assertEquals(merge.labelledAfter, 4);
  const replace = importDiff(current, incoming, "replace");
  assertEquals(
    [replace.added, replace.changed, replace.removed, replace.unchanged],
    [1, 1, 1, 1],
  );
  assertEquals(replace.sample.removed, [{ index: 3, before: 3, after: null }]);
  assertEquals(replace.labelledAfter, 3);
});

function run(n: number, labels: number, overall: number): RunRecord {
  const confusion = Array.from(
    { length: 10 },
    (_, t) => Array.from({ length: 10 }, (_, p) => (t === p ? 90 : 1)),
  );
  return {
    run: n,
    timestamp: "2026-01-01T00:00:00Z",
    labels,
    labelsPerClass: new Array(10).fill(labels / 10),
    config: {},
    epochs: 1,
    targetEpochs: 1,
    totalEpochs: n,
    step: 10 * n,
    outcome: "complete",
    durationSeconds: 1,
    evalSeconds: 0.2,
    testCount: 990,
    accuracy: { overall, perClass: new Array(10).fill(0.9) },
    confusion,
  };
}

Deno.test("evaluation figures and the `evaluation` event", () => {
  const runs = [run(1, 10, 0.5), run(2, 40, 0.75)];
  const [acc] = accuracyTraces(runs);
  assertEquals(acc.x, [10, 40]);
  assertEquals(acc.y, [50, 75]);
  // The line joins runs by label count, not run order (no zig-zag); the
  // newest run has the big marker.
  const [zig] = accuracyTraces([
    run(1, 40, 0.7),
    run(2, 10, 0.5),
    run(3, 20, 0.6),
  ]);
  assertEquals(zig.x, [10, 20, 40]);
  assertEquals(zig.marker.size, [7, 11, 7]);
  assertEquals(compactCount(999), "999");
  assertEquals(compactCount(1135), "1.1k");
  const [heat] = confusionTraces(runs[1]);
  assertEquals(heat.type, "heatmap");
  assertEquals(heat.text[3][3], "90");
  assert(Math.abs(heat.z[3][3] - 90 / 99) < 1e-9);
  assertEquals(confusionLayout(runs[1]).yaxis.ticktext[0], "0 · 90%");

  const store = createStore();
  applyServerMessage(store, { type: "evaluation", record: runs[0] });
  applyServerMessage(store, { type: "evaluation", record: runs[0] });
  applyServerMessage(store, { type: "evaluation", record: runs[1] });
  assertEquals(store.active.evaluations.value.map((r) => r.run), [1, 2]);
  assert(store.log.value.at(-1)!.text.includes("75.0% with 40 labels"));
});

Deno.test("suggestion rings: pixel circles at the points, the best one thicker", () => {
  const snap: LatentSnapshot = {
    version: 1,
    count: 3,
    x: Float32Array.from([0, 1, 2]),
    y: Float32Array.from([5, 6, 7]),
    predClass: new Uint8Array(3),
    certainty: new Uint8Array(3),
    userLabel: new Int8Array(3).fill(-1),
  };
  // Each ring is a white halo under a dark circle.
  const shapes = suggestionShapes(snap, [2, 0]);
  const rings = shapes.filter((s) => s.line.color !== "#ffffff");
  assertEquals(rings.map((s) => [s.xanchor, s.yanchor]), [[2, 7], [0, 5]]);
  assertEquals(rings[0].xsizemode, "pixel");
  assert(rings[0].line.width > rings[1].line.width);
  // The store's suggestions follow the ranking and every label.
  const store = createStore();
  store.latent.value = snap;
  store.active.probs.value = {
    version: 1,
    count: 3,
    classes: 10,
    probs: rows([0.9, 0.1], [0.4, 0.6], [0.5, 0.5]),
    queue: new Uint32Array(0),
    queuePhase: null,
  };
  store.active.strategy.value = "margin";
  store.active.ranking.value = rankAll(store.active.probs.value!, "margin");
  assertEquals([...store.active.suggestions.value], [2, 1, 0]);
  store.latent.value = { ...snap, userLabel: Int8Array.from([-1, -1, 3]) };
  assertEquals([...store.active.suggestions.value], [1, 0]);
  // A ranking of another strategy is not shown as this one's.
  store.active.strategy.value = "entropy";
  assertEquals([...store.active.suggestions.value], []);
});

Deno.test("queue: Auto is the server's queue first, then every other image by margin", () => {
  const p = rows([0.97, 0.03], [0.5, 0.5], [0.4, 0.3, 0.3], [0.6, 0.4]);
  const snap = {
    version: 3,
    count: 4,
    classes: 10,
    probs: p,
    queue: Uint32Array.from([3, 0, 3]),
    queuePhase: "coverage" as const,
  };
  const r = rankAll(snap, "auto");
  // 3 and 0 from the queue (the repeat dropped), then margin order: 1, 2.
  assertEquals([...r.order], [3, 0, 1, 2]);
  assertEquals([...r.rank], [1, 2, 3, 0]);
});

Deno.test("queue: Auto without the graph's queue breaks margin ties by a seeded shuffle, not by index", () => {
  // An untrained model: every image as unsure as the next (one tie).
  const n = 200;
  const flat = new Float32Array(n * 10).fill(0.1);
  const snap = {
    version: 1,
    count: n,
    classes: 10,
    probs: flat,
    queue: new Uint32Array(0),
    queuePhase: null,
  };
  const first = [...rankAll(snap, "auto").order.subarray(0, 10)];
  assert(
    first.some((i) => i >= 10),
    `the first ten are the first ten indices: ${first}`,
  );
  assertEquals([...rankAll(snap, "auto").order.subarray(0, 10)], first);
  // Real margins still rank: a sure image goes after all the ties.
  flat.set([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 150 * 10);
  assertEquals(rankAll(snap, "auto").order.at(-1), 150);
});
