/**
 * Browser wiring of the active-learning tools (state in store.active):
 * - the suggestion queue: fetches /api/probs whenever the prediction version
 *   changes, ranks every image once per (version, strategy), and N / Space
 *   select the next suggestion (the page's old "next uncertain" is this now);
 * - the lasso/box selection: labels all its images in one batch write;
 * - undo/redo (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y): real writes of the previous
 *   values through the same label path as every other label;
 * - the per-run evaluations (/api/evaluations, then `evaluation` events).
 */
import { oneAtATime } from "./one_at_a_time.ts";
import { effect } from "@preact/signals";
import { MAX_BATCH } from "../protocol/limits.ts";
import type { DashboardApi } from "./api.ts";
import type { WriteLabels } from "./write_labels.ts";
import {
  breakdownText,
  planBatch,
  planSummary,
  predictedBreakdown,
} from "./batch_plan.ts";
import { className, dataset } from "./dataset.ts";
import { isSkips, SKIP_FOR_LABELS } from "./active_store.ts";
import { persist } from "./prefs.ts";
import { leastCertainUnlabelled } from "./latent.ts";
import { pushLog, showToast, type Store } from "./store.ts";
import { nextSuggestion, rankAll } from "./suggestions.ts";
import { applyChanges, revertChanges, type UndoChange } from "./undo.ts";

/** What the active-learning tools use: the server, and the page's label-write path. */
export interface ActiveDeps {
  api: DashboardApi;
  writeLabels: WriteLabels;
}

/** index → label maps before and after, as undo changes. */
function diffLabels(
  before: Map<number, number>,
  after: Map<number, number>,
): UndoChange[] {
  const out: UndoChange[] = [];
  for (const [index, b] of before) {
    const x = after.get(index) ?? null;
    if (x !== b) out.push({ index, before: b, after: x });
  }
  for (const [index, x] of after) {
    if (!before.has(index)) out.push({ index, before: null, after: x });
  }
  return out.sort((p, q) => p.index - q.index);
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

/** Fills in store.active's actions and keeps the suggestions and evaluations current. */
export function startActiveController(
  store: Store,
  { api, writeLabels }: ActiveDeps,
): { stop(): void; refreshProbs(): void } {
  const a = store.active;
  const disposers: Array<() => void> = [];
  // Skips are kept per data set (a skipped index means nothing in another).
  const ds = dataset.value;
  disposers.push(
    persist(a.skipped, `skipped:${ds.name}:${store.count.value}`, isSkips),
  );

  // ---- probabilities and ranking -------------------------------------------
  const refreshProbs = oneAtATime(async () => {
    try {
      const p = await api.probs();
      if (p) a.probs.value = p;
      a.error.value = null;
    } catch (e) {
      a.error.value = `Could not load the suggestions: ${(e as Error).message}`;
    }
  });
  disposers.push(effect(() => {
    const snap = store.latent.value;
    if (snap && snap.version !== a.probs.peek()?.version) refreshProbs();
  }));
  disposers.push(effect(() => {
    const p = a.probs.value;
    const strategy = a.strategy.value;
    if (!p) return;
    const r = a.ranking.peek();
    if (r && r.version === p.version && r.strategy === strategy) return;
    const ranking = rankAll(p, strategy);
    a.ranking.value = ranking;
    performance.mark("suggestions-ranked", {
      detail: { ms: ranking.ms, count: p.count, strategy },
    });
  }));

  // ---- actions --------------------------------------------------------------
  const actions = a.actions;
  /** The last image N picked: pressing N on it again walks down the queue. */
  let lastPick = -1;
  actions.nextSuggestion = () => {
    const snap = store.latent.value;
    if (!snap) return;
    const r = a.ranking.value;
    const current = store.selected.value;
    const pick =
      r && r.strategy === a.strategy.value && r.order.length === snap.count
        // From a point picked elsewhere (a click), N starts at the top.
        ? nextSuggestion(
          r,
          snap.userLabel,
          current === lastPick ? current : null,
          a.skipping.value,
        )
        // Probabilities not loaded yet: certainty from the snapshot.
        : leastCertainUnlabelled(snap, current ?? -1);
    if (pick >= 0) {
      lastPick = pick;
      store.actions.select(pick);
    } else showToast(store, "Every point is labelled", "info");
  };
  actions.skip = () => {
    const i = store.selected.value;
    const snap = store.latent.value;
    if (i === null || !snap) return;
    if (snap.userLabel[i] >= 0) {
      showToast(store, `#${i} is labelled: nothing to skip`, "info");
      return;
    }
    // The last 1,000 skips: older ones are long back in the queue anyway.
    a.skipped.value = [
      ...a.skipped.value.filter(([j]) => j !== i).slice(-999),
      [i, store.labelled.value],
    ];
    pushLog(
      store,
      `Skipped #${i} (not sure): out of the suggestions for the next ${SKIP_FOR_LABELS} labels`,
      "info",
    );
    lastPick = i;
    actions.nextSuggestion();
  };
  // The page's "N = next uncertain" is the queue's next suggestion now.
  store.actions.selectNextUncertain = () => actions.nextSuggestion();

  actions.setSelection = (indices, shape) => {
    a.selection.value = indices && indices.length > 0 ? indices : null;
    a.selectionShape.value = indices && indices.length > 0
      ? shape ?? null
      : null;
    a.excluded.value = new Set();
  };
  actions.toggleExcluded = (index) => {
    const next = new Set(a.excluded.value);
    if (next.has(index)) next.delete(index);
    else next.add(index);
    a.excluded.value = next;
  };
  actions.labelSelection = (label) => {
    const sel = a.selection.value;
    const snap = store.latent.value;
    if (!sel || !snap) return;
    const plan = planBatch(snap.userLabel, sel, a.excluded.value, label);
    if (plan.changes.length === 0) {
      showToast(
        store,
        plan.unchanged > 0
          ? `Nothing to change: every selected image is already ${
            label ?? "unlabelled"
          }`
          : "Every selected image is excluded",
        "info",
      );
      return;
    }
    if (plan.changes.length > MAX_BATCH) {
      showToast(
        store,
        `${plural(plan.changes.length, "image")} to change: at most ${
          MAX_BATCH.toLocaleString("en-US")
        } per batch`,
        "error",
      );
      return;
    }
    const summary = planSummary(plan, label, className);
    // The class by name ("7" for MNIST, "sneaker" for a folder's class).
    const cls = label === null ? "" : className(label);
    const what = label === null
      ? `remove the labels of ${plural(plan.changes.length, "image")}`
      : `label ${plural(plan.changes.length, "image")} as ${cls}`;
    const apply = async () => {
      const ok = await writeLabels(plan.changes, {
        source: "batch",
        undo: what,
        success: label === null
          ? `Removed the labels of ${plural(plan.changes.length, "image")}`
          : `Labelled ${
            plural(plan.changes.length, "image")
          } as ${cls}: ${summary} (Ctrl+Z undoes)`,
      });
      // Done with this selection (a failed write keeps it for a retry).
      if (ok && a.selection.value === sel) actions.setSelection(null);
    };
    if (!plan.confirm) {
      void apply();
      return;
    }
    store.ui.confirm.value = {
      title: label === null
        ? `Remove ${plural(plan.changes.length, "label")}?`
        : `Label ${plural(plan.changes.length, "image")} as ${cls}?`,
      lines: [
        summary + ".",
        // What the box caught, by the predictions: a box over the "0" petal
        // that also took 170 predicted 4s says so here.
        `Predicted: ${
          breakdownText(
            predictedBreakdown(snap.predClass, sel, a.excluded.value),
            className,
          )
        }.`,
        ...(plan.changed > 0
          ? [
            `It overwrites ${plural(plan.changed, "label")} you made: ${
              breakdownText(
                plan.replaced,
                (c) => `labelled ${className(c)}`,
                4,
                " ",
              )
            }.`,
          ]
          : []),
        "Ctrl+Z undoes the whole batch.",
      ],
      confirmLabel: label === null
        ? `Remove ${plan.changes.length.toLocaleString("en-US")}`
        : `Label ${plan.changes.length.toLocaleString("en-US")} as ${cls}`,
      onConfirm: () => void apply(),
    };
  };
  actions.undo = async () => {
    const e = a.undo.takeUndo();
    if (!e) {
      showToast(store, "Nothing to undo", "info");
      return;
    }
    const ok = await writeLabels(revertChanges(e), {
      source: "undo",
      success: `Undone: ${e.text}`,
    });
    if (!ok) a.undo.undoFailed(e);
  };
  actions.redo = async () => {
    const e = a.undo.takeRedo();
    if (!e) {
      showToast(store, "Nothing to redo", "info");
      return;
    }
    const ok = await writeLabels(applyChanges(e), {
      source: "redo",
      success: `Redone: ${e.text}`,
    });
    if (!ok) a.undo.redoFailed(e);
  };

  actions.thumbnails = (indices, signal) => api.thumbnails(indices, signal);
  actions.labelSources = (signal) => api.labelSources(signal);
  actions.importLabels = async (body) => {
    if (body.dryRun) return api.importLabels(body);
    // An import is one undoable action: the labels before and after it.
    const before = await api.exportLabels();
    const result = await api.importLabels(body);
    try {
      const after = await api.exportLabels();
      const changes = diffLabels(before, after);
      if (changes.length > MAX_BATCH) {
        pushLog(
          store,
          `The import changed ${changes.length} labels: too many to undo in one batch (${MAX_BATCH})`,
          "info",
        );
      } else {
        a.undo.record(
          `import ${body.name ?? "a labels file"} (${
            plural(changes.length, "change")
          })`,
          changes,
        );
      }
    } catch (e) {
      pushLog(
        store,
        `The import cannot be undone: ${(e as Error).message}`,
        "error",
      );
    }
    return result;
  };

  // ---- evaluations ----------------------------------------------------------
  async function loadEvaluations() {
    try {
      const { runs, error } = await api.evaluations();
      a.evaluations.value = runs;
      a.evaluationsError.value = error ?? null;
    } catch (e) {
      pushLog(
        store,
        `Could not load the evaluations: ${(e as Error).message}`,
        "error",
      );
    }
  }
  // At start and after every reconnect (runs may have ended meanwhile).
  disposers.push(effect(() => {
    if (store.connection.value === "open") loadEvaluations();
  }));

  return {
    stop() {
      for (const d of disposers) d();
    },
    /** Re-asks for the probabilities (after a reconnect: the server may have restarted). */
    refreshProbs,
  };
}
