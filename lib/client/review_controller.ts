/**
 * Browser wiring of the review queue (state in store.review): fetches
 * GET /api/review whenever the labels' self-check is new (the queue is made
 * from it in the graph worker) and on reconnect; R selects the next label of
 * the queue, Enter confirms the selected one (POST /api/review/:i/confirm)
 * and moves on. A digit relabels it through the page's one label path.
 */
import { effect } from "@preact/signals";
import type { ReviewItem } from "../protocol/api.ts";
import type { DashboardApi } from "./api.ts";
import { className } from "./dataset.ts";
import { mayDo, pushLog, showToast, type Store } from "./store.ts";
import { oneAtATime } from "./one_at_a_time.ts";

/** The queue's items still open on this page: labels unchanged since it was made. */
export function openItems(store: Store): ReviewItem[] {
  const q = store.review.queue.value;
  const snap = store.latent.value;
  if (!q) return [];
  return q.items.filter((it) =>
    !snap || it.index >= snap.count || snap.userLabel[it.index] === it.label
  );
}

/** The review item of image `index`, if it is open. */
export function reviewItemOf(
  store: Store,
  index: number | null,
): ReviewItem | null {
  if (index === null) return null;
  return openItems(store).find((it) => it.index === index) ?? null;
}

/** "12%", or "<1%" for what rounds to none. */
export function percent(p: number): string {
  return p < 0.005 ? "<1%" : `${Math.round(100 * p)}%`;
}

/** "Labelled 4; held out, the other labels say 9 (82%) and give 4 only <1%." */
export function reviewReason(it: ReviewItem): string {
  const pct = percent;
  const predicted = it.score + it.labelProbability;
  return `Labelled ${className(it.label)}; held out, the other labels say ${
    className(it.predicted)
  } (${pct(predicted)}) and give ${className(it.label)} only ${
    pct(it.labelProbability)
  }.`;
}

/** Fills in the review actions and keeps the queue current. */
export function startReviewController(
  store: Store,
  api: DashboardApi,
): { stop(): void } {
  const r = store.review;
  const refresh = oneAtATime(async () => {
    if (!mayDo(store, "review")) return;
    try {
      r.queue.value = await api.review();
      r.error.value = null;
    } catch (e) {
      r.error.value = `Could not load the review queue: ${
        (e as Error).message
      }`;
    }
  });
  const disposers: Array<() => void> = [];
  let seenCheck = -2;
  disposers.push(effect(() => {
    const check = store.graph.value?.check?.revision ?? -1;
    if (store.connection.value !== "open") return;
    if (check !== seenCheck) {
      seenCheck = check;
      void refresh();
    }
  }));

  store.actions.reviewNext = () => {
    const items = openItems(store);
    if (items.length === 0) {
      showToast(
        store,
        store.review.queue.value
          ? "Nothing to review: no label disagrees with the rest"
          : "The review queue is not ready yet",
        "info",
      );
      return;
    }
    const at = items.findIndex((it) => it.index === store.selected.value);
    store.actions.select(items[(at + 1) % items.length].index);
  };
  store.actions.confirmReview = async () => {
    const it = reviewItemOf(store, store.selected.value);
    if (!it) return;
    try {
      await api.confirmReview(it.index, it.label);
    } catch (e) {
      showToast(store, (e as Error).message, "error");
      return;
    }
    pushLog(
      store,
      `Confirmed #${it.index} as ${className(it.label)}`,
      "success",
    );
    // Off the list at once; the next fetch agrees.
    const q = r.queue.value;
    const next = openItems(store).filter((x) => x.index !== it.index);
    if (q) {
      r.queue.value = {
        ...q,
        items: q.items.filter((x) => x.index !== it.index),
        confirmed: q.confirmed + 1,
      };
    }
    if (next.length > 0) {
      const after = next.find((x) => x.score <= it.score) ?? next[0];
      store.actions.select(after.index);
    }
  };
  return {
    stop() {
      for (const d of disposers) d();
    },
  };
}
