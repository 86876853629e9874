/**
 * Keeps the offline copies (lib/client/offline_copies.ts) in step with what
 * the page shows: the snapshot with every label the page knows of (its own,
 * other tabs', the queued ones) and the state, each written 0.8 s after its
 * last change (a burst of labels is one write) and the snapshot at once when
 * the page is left. `pwa.dataCached` once both have been written.
 */
import { effect } from "@preact/signals";
import { dataset } from "./dataset.ts";
import type { OfflineCopies } from "./offline_copies.ts";
import { pwa } from "./pwa_state.ts";
import type { Store } from "./store.ts";
import type { ApiState } from "../protocol/api.ts";
import type { LatentSnapshot } from "../protocol/latent_format.ts";

const PERSIST_DELAY_MS = 800;

/** The state an offline page starts from: the store's, with no run in progress. */
export function offlineState(store: Store): ApiState {
  const training = store.training.value;
  return {
    count: store.count.value,
    labelled: store.labelled.value,
    countsPerClass: store.countsPerClass.value,
    // A run in progress is not "in progress" for a page opened offline.
    training: training.status === "error"
      ? training
      : { status: "idle", epoch: training.epoch, targetEpochs: 0 },
    config: store.config.value,
    history: store.history.value,
    latentVersion: store.latentVersion.value,
    // Class names and image shape: an offline page must name and draw them.
    dataset: dataset.value,
  };
}

/** Starts keeping the copies; returns the disposer. */
export function persistCopies(
  store: Store,
  copies: Pick<OfflineCopies, "putLatent" | "putState">,
): () => void {
  let latentTimer: ReturnType<typeof setTimeout> | undefined;
  let stateTimer: ReturnType<typeof setTimeout> | undefined;
  let latentSaved = false;
  let stateSaved = false;
  const markCached = () => pwa.dataCached.value = latentSaved && stateSaved;

  const saveLatent = (snap: LatentSnapshot) =>
    copies.putLatent(snap).then(() => {
      latentSaved = true;
      markCached();
      // An event to wait on (tests, tools): which labels the copy now holds.
      let labelled = 0;
      for (let i = 0; i < snap.count; i++) {
        if (snap.userLabel[i] >= 0) labelled++;
      }
      performance.mark("offline-copy-saved", {
        detail: { version: snap.version, labelled },
      });
    }, () => {});

  const disposers = [
    effect(() => {
      const snap = store.latent.value;
      if (!snap) return;
      clearTimeout(latentTimer);
      latentTimer = setTimeout(() => {
        latentTimer = undefined;
        // The page's latest (the queue may have been laid over it since).
        void saveLatent(store.latent.peek() ?? snap);
      }, PERSIST_DELAY_MS);
    }),
    effect(() => {
      void store.history.value;
      void store.config.value;
      void store.labelled.value;
      void store.count.value;
      void store.training.value;
      clearTimeout(stateTimer);
      stateTimer = setTimeout(() => {
        if (store.count.peek() === 0) return;
        copies.putState(offlineState(store)).then(() => {
          stateSaved = true;
          markCached();
        }, () => {});
      }, PERSIST_DELAY_MS);
    }),
  ];
  // Leaving (reload, close): write a copy still waiting for its timer now.
  const onPageHide = () => {
    const snap = store.latent.peek();
    if (latentTimer !== undefined && snap) {
      clearTimeout(latentTimer);
      void saveLatent(snap);
    }
  };
  addEventListener("pagehide", onPageHide);

  return () => {
    for (const d of disposers) d();
    clearTimeout(latentTimer);
    clearTimeout(stateTimer);
    removeEventListener("pagehide", onPageHide);
  };
}
