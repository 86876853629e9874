/**
 * Browser-side wiring: fills the store's actions with calls to the API it is
 * given (the server's, or the offline layer's wrapping it: islands/main.tsx
 * decides), keeps the one WebSocket, refetches the latent snapshot when its
 * version changes, caches samples and handles the keyboard. Nothing here runs
 * on the server.
 */
import type { LabelSource } from "../protocol/label_events.ts";
import { className, setDataset } from "./dataset.ts";
import { startActiveController } from "./active_controller.ts";
import { startReviewController } from "./review_controller.ts";
import { startAgreementController } from "./agreement_controller.ts";
import { ApiError, type DashboardApi } from "./api.ts";
import { dispatchKey } from "./key_actions.ts";
import { pwa } from "./pwa_state.ts";
import { leastCertainUnlabelled, withLabels } from "./latent.ts";
import { LiveSocket, socketUrl } from "./socket.ts";
import {
  applyLabelChanges,
  applyServerMessage,
  fmtLoss,
  pushLog,
  recountFromLatent,
  showToast,
  type Store,
} from "./store.ts";
import type { LabelChange, Sample } from "../protocol/api.ts";
import type { WriteLabels, WriteOptions } from "./write_labels.ts";

const SAMPLE_CACHE = 256;

/** `p`, or a rejection as soon as `signal` aborts (`p` itself goes on). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    p.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", stop)
    );
  });
}

function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) {
    return e.name === "TypeError" ? `network error (${e.message})` : e.message;
  }
  return String(e);
}

/** The running controller (the offline layer revalidates the snapshot through it). */
export interface Controller {
  writeLabels: WriteLabels;
  socket: LiveSocket;
  /** Refetches the snapshot (a 304 when unchanged; `force`: unconditionally). */
  refreshLatent(force?: boolean): Promise<void>;
  stop(): void;
}

/** Starts the page's wiring over `api`: snapshot, socket, actions, keys. */
export function startController(store: Store, api: DashboardApi): Controller {
  // ---- latent snapshot ----------------------------------------------------
  let fetching = false;
  let again = false;
  let againForce = false;
  /** Label changes seen while a fetch was in flight; replayed on its result. */
  let pending: LabelChange[] = [];
  /**
   * This page's label writes not yet answered: a snapshot fetched meanwhile
   * may predate them on the server, so they are replayed on it too (else N
   * could offer an image labelled a moment ago).
   */
  const unsaved = new Set<LabelChange[]>();
  let autoSelected = false;

  async function refreshLatent(force = false): Promise<void> {
    if (fetching) {
      again = true;
      againForce ||= force;
      return;
    }
    fetching = true;
    pending = [];
    try {
      let snap = await api.latent(force || store.latent.value === null);
      if (snap) {
        performance.mark("latent-loaded", {
          detail: { version: snap.version, count: snap.count },
        });
        const mine = [...unsaved].flat();
        if (pending.length > 0 || mine.length > 0) {
          snap = withLabels(snap, [...pending, ...mine]);
        }
        const versionChanged = store.latent.value?.version !== snap.version;
        store.latent.value = snap;
        store.latentError.value = null;
        if (snap.version > store.latentVersion.value) {
          store.latentVersion.value = snap.version;
        }
        if (versionChanged) {
          samples.clear();
          const sel = store.selected.value;
          if (sel !== null && store.sample.value) loadSample(sel, true);
        }
        if (!autoSelected && store.selected.value === null) {
          // A good first thing to look at: the model's least certain guess.
          autoSelected = true;
          const pick = leastCertainUnlabelled(snap);
          if (pick >= 0) actions.select(pick);
        }
      }
    } catch (e) {
      store.latentError.value = `Could not load the latent space: ${
        errorText(e)
      }`;
    } finally {
      fetching = false;
      pending = [];
      if (again) {
        const f = againForce;
        again = againForce = false;
        refreshLatent(f);
      }
    }
  }

  // ---- samples ------------------------------------------------------------
  const samples = new Map<number, Sample>();
  let sampleAbort: AbortController | null = null;
  const inflight = new Map<number, Promise<Sample>>();

  /**
   * One request per image, shared by every caller; `signal` stops only this
   * caller's wait. (The shared request once carried its first caller's
   * signal: a second load of the same image aborted the first and then
   * awaited that aborted request, and the page said "Could not load
   * sample: signal is aborted".)
   */
  function fetchSample(index: number, signal?: AbortSignal): Promise<Sample> {
    const hit = samples.get(index);
    if (hit) return Promise.resolve(hit);
    let p = inflight.get(index);
    if (!p) {
      const version = store.latent.value?.version;
      p = api.sample(index).then((s) => {
        if (store.latent.value?.version === version && !s.offline) {
          samples.set(index, s);
          if (samples.size > SAMPLE_CACHE) {
            samples.delete(samples.keys().next().value!);
          }
        }
        return s;
      }).finally(() => inflight.delete(index));
      inflight.set(index, p);
    }
    return signal ? abortable(p, signal) : p;
  }

  /** The history of image `index`, once it is the selected one's. */
  let historyToken = 0;
  async function loadHistory(index: number) {
    const token = ++historyToken;
    if (store.labelHistory.peek()?.index !== index) {
      store.labelHistory.value = null;
    }
    try {
      const h = await api.labelHistory(index);
      if (token === historyToken && store.selected.peek() === index) {
        store.labelHistory.value = h;
      }
    } catch (e) {
      if (token !== historyToken) return;
      store.labelHistory.value = {
        index,
        events: [],
        warning: `history not loaded: ${errorText(e)}`,
      };
    }
  }

  async function loadSample(index: number, refresh = false) {
    void loadHistory(index);
    sampleAbort?.abort();
    const ctl = new AbortController();
    sampleAbort = ctl;
    if (refresh) samples.delete(index);
    const cached = samples.get(index);
    if (cached) {
      store.sample.value = cached;
      store.sampleLoading.value = false;
      store.sampleError.value = null;
      return;
    }
    store.sampleLoading.value = true;
    try {
      const s = await fetchSample(index, ctl.signal);
      if (store.selected.value !== index) return;
      store.sample.value = s;
      store.sampleError.value = null;
    } catch (e) {
      if (ctl.signal.aborted || store.selected.value !== index) return;
      store.sampleError.value = `Could not load sample #${index}: ${
        errorText(e)
      }`;
    } finally {
      if (sampleAbort === ctl) store.sampleLoading.value = false;
    }
  }

  // ---- labels -------------------------------------------------------------
  function currentLabel(index: number): number | null {
    const snap = store.latent.value;
    if (snap && index < snap.count) {
      const l = snap.userLabel[index];
      return l < 0 ? null : l;
    }
    const s = store.sample.value;
    return s && s.index === index ? s.label : null;
  }

  /**
   * The one client path for label writes: single labels, lasso batches, undo
   * and redo. Optimistic (plot and counts change now, reverted if the save
   * fails); one change goes to PUT|DELETE /api/labels/:i, several to the
   * batch PUT /api/labels (one atomic write on the server). With `undo` the
   * action is recorded for Ctrl+Z. Resolves true once the server holds it.
   */
  async function writeLabels(
    changes: LabelChange[],
    opts: WriteOptions = {},
  ): Promise<boolean> {
    const befores = changes.map((c) => currentLabel(c.index));
    const entry = opts.undo
      ? store.active.undo.record(
        opts.undo,
        changes.map((c, k) => ({
          index: c.index,
          before: befores[k],
          after: c.label,
        })),
      )
      : null;
    // Optimistic: the plot and counts change now; reverted if the save fails.
    applyLabelChanges(store, changes);
    recountFromLatent(store);
    unsaved.add(changes);
    try {
      return await saveLabels(changes, befores, entry, opts);
    } finally {
      unsaved.delete(changes);
    }
  }

  /** `writeLabels`' request and its outcome, after the optimistic change. */
  async function saveLabels(
    changes: LabelChange[],
    befores: (number | null)[],
    entry: ReturnType<Store["active"]["undo"]["record"]> | null,
    opts: WriteOptions,
  ): Promise<boolean> {
    const rollback = () => {
      applyLabelChanges(
        store,
        changes.map((c, k) => ({ index: c.index, label: befores[k] })),
      );
      recountFromLatent(store);
      if (entry) store.active.undo.discard(entry);
    };
    if (changes.length === 1) {
      const { index, label } = changes[0];
      try {
        const res = label === null
          ? await api.deleteLabel(index, opts.source)
          : await api.setLabel(index, label, opts.source);
        if (!res.applied) {
          // A newer change (another tab) won: show what the server kept.
          applyLabelChanges(store, [{ index, label: res.label }]);
          if (entry) store.active.undo.discard(entry);
          showToast(
            store,
            `#${index}: a newer change from elsewhere was kept`,
            "info",
          );
          return false;
        }
        if (res.pending) {
          // Overlap: the annotator's own label, blind to the others', until
          // enough annotators have labelled the image.
          const p = res.pending;
          showToast(
            store,
            p.disagreement
              ? `Saved your ${
                className(label!)
              } for #${index}: the annotators differ, a reviewer decides`
              : `Saved your ${className(label!)} for #${index}: ${
                p.need - p.have
              } more annotator${
                p.need - p.have === 1 ? "" : "s"
              } to go before it counts`,
            "success",
          );
          return true;
        }
        if (res.queued) {
          // Offline: it is on this device only until the next sync.
          showToast(
            store,
            `Queued offline: ${
              label === null
                ? `#${index} unlabelled`
                : `#${index} labelled ${className(label)}`
            } (syncs when back online)`,
            "info",
          );
          return true;
        }
        showToast(
          store,
          opts.success ??
            (label === null
              ? `Removed the label of #${index}`
              : `Saved: #${index} labelled ${className(label)}`),
          "success",
        );
        return true;
      } catch (e) {
        rollback();
        showToast(store, `Label not saved: ${errorText(e)}`, "error");
        return false;
      }
    }
    try {
      const res = await api.setLabels(changes, opts.source);
      if (res.stale.length > 0) {
        applyLabelChanges(store, res.stale);
        recountFromLatent(store);
      }
      if (res.queued) {
        showToast(
          store,
          `Queued offline: ${changes.length} label changes (sync when back online)`,
          "info",
        );
        return true;
      }
      showToast(
        store,
        (opts.success ?? `Saved ${changes.length} labels`) +
          (res.stale.length > 0
            ? ` (${res.stale.length} newer changes from elsewhere kept)`
            : ""),
        "success",
      );
      return true;
    } catch (e) {
      rollback();
      showToast(store, `Labels not saved: ${errorText(e)}`, "error");
      return false;
    }
  }

  function changeLabel(label: number | null, source: LabelSource) {
    const index = store.selected.value;
    if (index === null) {
      showToast(store, "Select a point first (click it in the plot)", "info");
      return;
    }
    // A relabel of an image the review queue lists is the review's.
    const reviewed = store.review.queue.peek()?.items.some((it) =>
      it.index === index
    );
    void writeLabels([{ index, label }], {
      source: reviewed ? "review" : source,
      undo: label === null
        ? `remove the label of #${index}`
        : `label #${index} as ${className(label)}`,
    });
  }

  // ---- actions ------------------------------------------------------------
  const actions = store.actions;
  /** The images shown, in order, and where [ and ] are in them. */
  const visits: number[] = [];
  let visitAt = -1;
  /** Shows image `index`; a step through `visits` does not record itself. */
  const show = (index: number, record: boolean) => {
    const snap = store.latent.value;
    if (snap && (index < 0 || index >= snap.count)) return;
    if (record && visits[visitAt] !== index) {
      visits.splice(visitAt + 1);
      visits.push(index);
      // A long session keeps its last 500 images.
      if (visits.length > 500) visits.shift();
      visitAt = visits.length - 1;
    }
    store.selected.value = index;
    loadSample(index);
  };
  actions.select = (index: number) => show(index, true);
  actions.back = () => {
    if (visitAt <= 0) {
      showToast(store, "No image before this one", "info");
      return;
    }
    show(visits[--visitAt], false);
  };
  actions.forward = () => {
    if (visitAt >= visits.length - 1) {
      showToast(store, "No image after this one", "info");
      return;
    }
    show(visits[++visitAt], false);
  };
  actions.setLabel = (label: number, source: LabelSource = "key") =>
    changeLabel(label, source);
  actions.deleteLabel = (source: LabelSource = "key") =>
    changeLabel(null, source);
  actions.selectNextUncertain = () => {
    const snap = store.latent.value;
    if (!snap) return;
    const pick = leastCertainUnlabelled(snap, store.selected.value ?? -1);
    if (pick >= 0) actions.select(pick);
    else showToast(store, "Every point is labelled", "info");
  };
  actions.prefetch = (index: number) => {
    if (!samples.has(index)) fetchSample(index).catch(() => {});
  };
  actions.startTraining = async () => {
    if (!pwa.online.value || store.connection.value !== "open") {
      pushLog(
        store,
        "Training needs the server: reconnect first (labels made offline sync then)",
        "error",
      );
      return;
    }
    const p = store.params;
    const body = {
      // Sent as typed: the server validates (1-200) and its 400 is shown.
      epochs: p.epochs.value,
      recon_weight: p.reconWeight.value,
      kl_weight: p.klWeight.value,
      learning_rate: Number(p.learningRate.value.toPrecision(3)),
    };
    const previous = store.training.value;
    store.training.value = {
      status: "training",
      epoch: 0,
      targetEpochs: body.epochs,
    };
    try {
      await api.startTraining(body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Already running (another tab?): show the server's view.
        api.state().then((s) => store.training.value = s.training).catch(
          () => {},
        );
      } else {
        store.training.value = previous;
      }
      pushLog(store, `Could not start training: ${errorText(e)}`, "error");
    }
  };
  actions.stopTraining = async () => {
    const prev = store.training.value;
    if (prev.status === "training") {
      store.training.value = { ...prev, status: "stopping" };
    }
    pushLog(store, "Stopping after the current batch…", "info");
    try {
      await api.stopTraining();
    } catch (e) {
      pushLog(store, `Could not stop training: ${errorText(e)}`, "error");
    }
  };

  // ---- socket -------------------------------------------------------------
  let hellos = 0;
  const socket = new LiveSocket({
    url: socketUrl(location),
    onSessionEnded: () => store.signedOut.value = true,
    onStatus: (s) => {
      store.connection.value = s;
      if (s === "reconnecting" && hellos > 0) {
        pushLog(store, "Connection lost, reconnecting…", "error");
      }
    },
    onMessage: (msg) => {
      if (msg.type === "labels_changed" && fetching) {
        pending.push(...msg.changes);
      }
      if (msg.type === "labels_changed") {
        // The selected image's history gained an event (here or elsewhere).
        const sel = store.selected.peek();
        if (sel !== null && msg.changes.some((c) => c.index === sel)) {
          void loadHistory(sel);
        }
      }
      const known = store.latent.value?.version;
      const follow = applyServerMessage(store, msg);
      if (msg.type === "hello") {
        hellos++;
        if (hellos > 1) {
          pushLog(store, "Reconnected", "success");
          // Labels may have changed while we were away, and the server may
          // have restarted with another model (same version numbers, new boot
          // id in the ETags): fetch unconditionally.
          refreshLatent(true);
          active.refreshProbs();
          api.state().then((s) => {
            store.config.value = s.config;
          }).catch(() => {});
        } else if (
          !fetching && msg.latentVersion !== undefined &&
          msg.latentVersion !== known
        ) {
          refreshLatent();
        }
        return;
      }
      if (follow.refetchLatent) refreshLatent();
    },
  });

  // Suggestion queue, lasso selection, undo/redo, evaluations.
  const active = startActiveController(store, { api, writeLabels });
  // The review queue of likely mistakes (R walks it, Enter confirms).
  const review = startReviewController(store, api);
  // A team's agreement and disagreements (reviewers and owner, --overlap).
  const agreement = startAgreementController(store, api);

  // The first screen's heights (map, side column) follow the top bar and the
  // guide, whose heights change with the window and the training state.
  const frame = new ResizeObserver(() => {
    const root = document.documentElement.style;
    const bar = document.querySelector<HTMLElement>(".topbar");
    root.setProperty("--topbar-h", `${bar?.offsetHeight ?? 56}px`);
    // The strips between the bar and the map: the guide, the file notices.
    let strips = 0;
    for (const sel of [".guide", ".file-notices"]) {
      const el = document.querySelector<HTMLElement>(sel);
      if (el) strips += el.offsetHeight + 10;
    }
    root.setProperty("--guide-h", `${strips}px`);
    // Below 900 px the sample panel docks over the bottom of the screen: the
    // map ends above it (it covered the map's axis).
    const dock = document.querySelector<HTMLElement>(".col-side > .sample");
    const docked = dock !== null && getComputedStyle(dock).position === "fixed";
    root.setProperty("--dock-h", `${docked ? dock.offsetHeight : 0}px`);
  });
  for (const sel of [".topbar", ".app", ".col-side > .sample"]) {
    const el = document.querySelector(sel);
    if (el) frame.observe(el);
  }
  // Every shortcut goes through the one action table.
  const onKey = (ev: KeyboardEvent) => dispatchKey(store, ev);
  const onOnline = () => socket.kick();
  document.addEventListener("keydown", onKey);
  addEventListener("online", onOnline);

  // After hydration (a microtask later), so the server's markup still matches.
  queueMicrotask(() => {
    const h = store.history.value;
    if (h.length > 0) {
      const last = h.at(-1)!;
      pushLog(
        store,
        `Model trained for ${h.length} epoch${h.length === 1 ? "" : "s"}` +
          ` (step ${last.step}); last val loss ${fmtLoss(last.val.loss)}`,
        "info",
      );
    }
    if (
      store.training.value.status === "error" && store.training.value.message
    ) {
      pushLog(
        store,
        `Training failed: ${store.training.value.message}`,
        "error",
      );
    }
  });

  // Kick off: snapshot and socket in parallel, state only if the page lacked it.
  refreshLatent(true);
  socket.start();
  if (store.count.value === 0) {
    api.state().then((s) => {
      // The offline shell is rendered without data: names and shape come here.
      if (s.dataset) setDataset(s.dataset);
      store.count.value = s.count;
      store.labelled.value = s.labelled;
      store.countsPerClass.value = s.countsPerClass;
      store.config.value = s.config;
      if (store.history.value.length === 0) store.history.value = s.history;
      if (store.training.value.status === "idle") {
        store.training.value = s.training;
      }
    }).catch((e) => pushLog(store, errorText(e), "error"));
  }

  return {
    writeLabels,
    socket,
    refreshLatent,
    stop() {
      active.stop();
      review.stop();
      agreement.stop();
      socket.stop();
      document.removeEventListener("keydown", onKey);
      frame.disconnect();
      removeEventListener("online", onOnline);
    },
  };
}
