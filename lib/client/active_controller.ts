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
import { classForKey } from "./dataset.ts";
import { effect } from "@preact/signals";
import { MAX_BATCH } from "./active_store.ts";
import type { Api } from "./api.ts";
import { isTypingTarget, type WriteOptions } from "./controller.ts";
import { leastCertainUnlabelled } from "./latent.ts";
import { pushLog, showToast, type Store } from "./store.ts";
import { nextSuggestion, rankAll } from "./suggestions.ts";
import type { LabelChange } from "./types.ts";
import { applyChanges, revertChanges } from "./undo.ts";

export interface ActiveDeps {
  api: Api;
  writeLabels(changes: LabelChange[], opts?: WriteOptions): Promise<boolean>;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

export function startActiveController(
  store: Store,
  { api, writeLabels }: ActiveDeps,
): { stop(): void; refreshProbs(): void } {
  const a = store.active;
  const disposers: Array<() => void> = [];

  // ---- probabilities and ranking -------------------------------------------
  let fetching = false;
  let again = false;
  async function refreshProbs() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      const p = await api.probs();
      if (p) a.probs.value = p;
      a.error.value = null;
    } catch (e) {
      a.error.value = `Could not load the suggestions: ${(e as Error).message}`;
    } finally {
      fetching = false;
      if (again) {
        again = false;
        refreshProbs();
      }
    }
  }
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
        )
        // Probabilities not loaded yet: certainty from the snapshot.
        : leastCertainUnlabelled(snap, current ?? -1);
    if (pick >= 0) {
      lastPick = pick;
      store.actions.select(pick);
    } else showToast(store, "Every point is labelled", "info");
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
  actions.labelSelection = async (label) => {
    const sel = a.selection.value;
    if (!sel) return;
    const excluded = a.excluded.value;
    const changes: LabelChange[] = [];
    for (const index of sel) {
      if (!excluded.has(index)) changes.push({ index, label });
    }
    if (changes.length === 0) {
      showToast(store, "Every selected image is excluded", "info");
      return;
    }
    if (changes.length > MAX_BATCH) {
      showToast(
        store,
        `${plural(changes.length, "image")} selected: at most ${
          MAX_BATCH.toLocaleString("en-US")
        } per batch`,
        "error",
      );
      return;
    }
    const what = label === null
      ? `remove the labels of ${plural(changes.length, "image")}`
      : `label ${plural(changes.length, "image")} as ${label}`;
    const ok = await writeLabels(changes, {
      undo: what,
      success: label === null
        ? `Removed the labels of ${plural(changes.length, "image")}`
        : `Saved: ${plural(changes.length, "image")} labelled ${label}`,
    });
    // Done with this selection (a failed write keeps it for a retry).
    if (ok && a.selection.value === sel) actions.setSelection(null);
  };
  actions.undo = async () => {
    const e = a.undo.takeUndo();
    if (!e) {
      showToast(store, "Nothing to undo", "info");
      return;
    }
    const ok = await writeLabels(revertChanges(e), {
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
      success: `Redone: ${e.text}`,
    });
    if (!ok) a.undo.redoFailed(e);
  };

  actions.thumbnails = (indices, signal) => api.thumbnails(indices, signal);
  actions.importLabels = (body) => api.importLabels(body);

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

  // ---- keys -----------------------------------------------------------------
  const onKey = (ev: KeyboardEvent) => {
    if (ev.defaultPrevented || isTypingTarget(ev.target)) return;
    const key = ev.key;
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey) {
      const k = key.toLowerCase();
      if (k === "z" && !ev.shiftKey) {
        ev.preventDefault();
        actions.undo();
      } else if ((k === "z" && ev.shiftKey) || (k === "y" && !ev.shiftKey)) {
        ev.preventDefault();
        actions.redo();
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (key === " ") {
      // Space on a button presses it; elsewhere it is "next suggestion".
      const t = ev.target as HTMLElement | null;
      if (t && t.closest?.("button, a, summary, [role=button]")) return;
      ev.preventDefault();
      actions.nextSuggestion();
      return;
    }
    if (!a.selection.value) return;
    // With a lasso/box selection, labels go to all of it.
    const cls = classForKey(key);
    if (cls !== null) {
      ev.preventDefault();
      actions.labelSelection(cls);
    } else if (key === "Delete" || key === "Backspace") {
      ev.preventDefault();
      actions.labelSelection(null);
    } else if (key === "Escape") {
      ev.preventDefault();
      actions.setSelection(null);
    }
  };
  // Capture phase: runs before the page's own key handler, which skips
  // events handled here (defaultPrevented).
  addEventListener("keydown", onKey, true);

  return {
    stop() {
      removeEventListener("keydown", onKey, true);
      for (const d of disposers) d();
    },
    /** Re-asks for the probabilities (after a reconnect: the server may have restarted). */
    refreshProbs,
  };
}
