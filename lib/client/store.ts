/**
 * The dashboard's state: one set of @preact/signals per page, created from the
 * server-rendered props so the server render and the browser hydration agree.
 * `applyServerMessage` is the single place WebSocket events change state; it is
 * pure (signals in, signals out) and unit-tested without a browser.
 */
import type {
  LabelHistoryResponse,
  LabelSource,
} from "../protocol/label_events.ts";
import {
  EPOCHS_RANGE,
  TRAINING_RANGES,
  type TrainingParam,
} from "../protocol/limits.ts";
import { dataset, setDataset } from "./dataset.ts";
import { persistedSignal } from "./prefs.ts";
import { DEFAULT_GRID_FILTER, type GridFilter, isGridFilter } from "./grid.ts";
import { batch, computed, signal } from "@preact/signals";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { LatentSnapshot } from "../protocol/latent_format.ts";
import { withLabels } from "./latent.ts";
import { createActiveState } from "./active_store.ts";
import type {
  ApiState,
  BatchProgress,
  Counts,
  DataNotice,
  GraphInfo,
  HistoryEntry,
  LabelChange,
  PageProps,
  ReviewResponse,
  Sample,
  ServerMessage,
  SSVAEConfig,
  TrainingInfo,
} from "../protocol/api.ts";
import {
  type AgreementResponse,
  type Me,
  type Permission,
  roleCan,
} from "../protocol/team.ts";

export type ColorMode = "labels" | "predicted" | "certainty";
export const COLOR_MODES: ReadonlyArray<{ id: ColorMode; label: string }> = [
  { id: "labels", label: "User labels" },
  { id: "predicted", label: "Predicted class" },
  { id: "certainty", label: "Certainty" },
];

export type Connection = "connecting" | "open" | "reconnecting";

export interface LogMessage {
  id: number;
  time: number;
  text: string;
  kind: "info" | "success" | "error";
}

export interface Toast {
  id: number;
  text: string;
  kind: "success" | "error" | "info";
}

/** Slider ranges: the server's (lib/protocol/limits.ts), lr on a log scale. */
export const RANGES = {
  recon_weight: TRAINING_RANGES.recon_weight,
  kl_weight: TRAINING_RANGES.kl_weight,
  /** log10 of the learning rate. */
  log_lr: {
    min: Math.log10(TRAINING_RANGES.learning_rate.min),
    max: Math.log10(TRAINING_RANGES.learning_rate.max),
    step: 0.05,
  },
  epochs: EPOCHS_RANGE,
} as const;

export const clamp = (v: number, lo: number, hi: number) =>
  Math.min(hi, Math.max(lo, v));

/** `v` clamped to the server's range of training parameter `p`. */
const inRange = (v: number, p: TrainingParam) =>
  clamp(v, TRAINING_RANGES[p].min, TRAINING_RANGES[p].max);

/** The user-facing actions; the browser controller fills them in. */
export interface Actions {
  select(index: number): void;
  /** `source`: how the user gave it, for the label history (default "key"). */
  setLabel(label: number, source?: LabelSource): void;
  deleteLabel(source?: LabelSource): void;
  selectNextUncertain(): void;
  /** Selects the next label of the review queue (R). */
  reviewNext(): void;
  /** The selected review item's label is right: off the queue, then the next (Enter). */
  confirmReview(): void;
  /** Warms the sample cache (hover). */
  prefetch(index: number): void;
  /** The image shown before this one ([), and forward again (]). */
  back(): void;
  forward(): void;
  startTraining(): void;
  stopTraining(): void;
}

const noop = () => {};
const NOOP_ACTIONS: Actions = {
  select: noop,
  setLabel: noop,
  deleteLabel: noop,
  selectNextUncertain: noop,
  reviewNext: noop,
  confirmReview: noop,
  prefetch: noop,
  back: noop,
  forward: noop,
  startTraining: noop,
  stopTraining: noop,
};

const MAX_LOG = 10;

/** A question the page asks before a risky action (islands/ConfirmDialog.tsx). */
export interface ConfirmRequest {
  title: string;
  /** Lines of the question ("1,200 new, 34 changed"). */
  lines: string[];
  confirmLabel: string;
  /** Runs on confirm; the dialog closes either way. */
  onConfirm(): void;
}

const IDLE: TrainingInfo = { status: "idle", epoch: 0, targetEpochs: 0 };

/** The end of a run: stopped by the user, or all its epochs done. */
export interface LastRun {
  stopped: boolean;
  /** Epochs the run finished, of the `targetEpochs` it was started for. */
  epochs: number;
  targetEpochs: number;
}

export function createStore(props: PageProps = {}) {
  const s: ApiState | null | undefined = props.state;
  if (s?.dataset) setDataset(s.dataset);
  const cfg = s?.config ?? {};
  const params = {
    reconWeight: signal(inRange(cfg.recon_weight ?? 1000, "recon_weight")),
    klWeight: signal(inRange(cfg.kl_weight ?? 0.1, "kl_weight")),
    learningRate: signal(inRange(cfg.learning_rate ?? 1e-3, "learning_rate")),
    epochs: persistedSignal(
      "epochs",
      10,
      (v): v is number =>
        Number.isInteger(v) && (v as number) >= EPOCHS_RANGE.min &&
        (v as number) <= EPOCHS_RANGE.max,
    ),
  };
  const training = signal<TrainingInfo>(s?.training ?? IDLE);
  const latent = signal<LatentSnapshot | null>(null);
  const labelled = signal(s?.labelled ?? 0);
  const store = {
    count: signal(s?.count ?? 0),
    labelled,
    countsPerClass: signal<number[]>(
      s?.countsPerClass ?? new Array(dataset.value.classes.length).fill(0),
    ),
    training,
    isTraining: computed(() =>
      training.value.status === "training" ||
      training.value.status === "stopping"
    ),
    /** Progress inside the running epoch (null between runs). */
    progress: signal<BatchProgress | null>(null),
    /** The latest epoch's metrics (from the socket or history). */
    lastEntry: signal<HistoryEntry | null>(s?.history?.at(-1) ?? null),
    config: signal<Partial<SSVAEConfig>>(cfg),
    history: signal<HistoryEntry[]>(s?.history ?? []),
    latentVersion: signal(s?.latentVersion ?? 0),
    /** The label graph: building (with its step), ready, error or off. */
    graph: signal<GraphInfo | null>(s?.graph ?? null),
    /** Problems the server found in the user's files (islands/FileNotices.tsx). */
    notices: signal<DataNotice[]>(s?.notices ?? []),
    latent,
    latentError: signal<string | null>(null),
    /** Who is signed in (a team server), or the local user; null before the state. */
    me: signal<Me | null>(s?.me ?? null),
    /**
     * The session ended while the page was open (a 401): label writes are
     * kept in the offline queue until the user signs in again.
     */
    signedOut: signal(false),
    /** `--overlap K` of a team server (0: none): K annotators per image. */
    overlap: signal(s?.team?.overlap ?? 0),
    selected: signal<number | null>(null),
    sample: signal<Sample | null>(null),
    sampleLoading: signal(false),
    sampleError: signal<string | null>(null),
    /** The selected image's label history (GET /api/labels/:i/history). */
    labelHistory: signal<LabelHistoryResponse | null>(null),
    colorMode: persistedSignal<ColorMode>(
      "colorMode",
      "labels",
      (v): v is ColorMode => COLOR_MODES.some((m) => m.id === v),
    ),
    /** How the last run of this page's session ended (the top bar says so). */
    lastRun: signal<LastRun | null>(null),
    log: signal<LogMessage[]>([]),
    toast: signal<Toast | null>(null),
    connection: signal<Connection>("connecting"),
    params,
    actions: { ...NOOP_ACTIONS } as Actions,
    /** Suggestion queue, lasso selection, undo/redo, evaluations. */
    active: createActiveState(latent, labelled),
    /** The annotators' agreement and disagreements (`--overlap K`). */
    agreement: {
      report: signal<AgreementResponse | null>(null),
      error: signal<string | null>(null),
    },
    /** The review queue of likely mistakes (GET /api/review). */
    review: {
      queue: signal<ReviewResponse | null>(null),
      error: signal<string | null>(null),
    },
    /** Page furniture: the shortcut help, the confirmation, the guide. */
    ui: {
      helpOpen: signal(false),
      confirm: signal<ConfirmRequest | null>(null),
      /** The "how this works" strip (dismissed once, remembered). */
      guideOpen: signal(false),
      /** Bumped to put the focus in the class picker (key `/`, > 10 classes). */
      pickClass: signal(0),
      /** The map or the grid of thumbnails (G), kept over a reload. */
      view: persistedSignal<"map" | "grid">(
        "view",
        "map",
        (v): v is "map" | "grid" => v === "map" || v === "grid",
      ),
      /** The grid's filters and order (lib/client/grid.ts). */
      grid: persistedSignal<GridFilter>(
        "gridFilter",
        DEFAULT_GRID_FILTER,
        isGridFilter,
      ),
    },
  };
  return store;
}

export type Store = ReturnType<typeof createStore>;

export const StoreContext = createContext<Store | null>(null);

export function useStore(): Store {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useStore() outside <StoreContext.Provider>");
  return store;
}

let nextId = 1;

export function pushLog(
  store: Store,
  text: string,
  kind: LogMessage["kind"] = "info",
  time = Date.now(),
) {
  const entry = { id: nextId++, time, text, kind };
  store.log.value = [...store.log.value, entry].slice(-MAX_LOG);
}

export function showToast(store: Store, text: string, kind: Toast["kind"]) {
  store.toast.value = { id: nextId++, text, kind };
}

export function applyCounts(store: Store, counts: Counts | undefined) {
  if (!counts) return;
  if (typeof counts.labelled === "number") {
    store.labelled.value = counts.labelled;
  }
  if (Array.isArray(counts.countsPerClass)) {
    store.countsPerClass.value = counts.countsPerClass;
  }
  if (typeof counts.count === "number") store.count.value = counts.count;
}

/** Derives the label counts from the snapshot's userLabel column. */
export function recountFromLatent(store: Store) {
  const snap = store.latent.value;
  if (!snap) return;
  const k = dataset.value.classes.length;
  const per = new Array(k).fill(0);
  let n = 0;
  for (let i = 0; i < snap.count; i++) {
    const l = snap.userLabel[i];
    if (l >= 0 && l < k) {
      per[l]++;
      n++;
    }
  }
  store.labelled.value = n;
  store.countsPerClass.value = per;
}

/** Applies label changes to the snapshot and the open sample. */
export function applyLabelChanges(store: Store, changes: LabelChange[]) {
  const snap = store.latent.value;
  if (snap) store.latent.value = withLabels(snap, changes);
  const sample = store.sample.value;
  if (sample) {
    for (const c of changes) {
      if (c.index === sample.index && c.label !== store.sample.value?.label) {
        store.sample.value = { ...store.sample.value!, label: c.label };
      }
    }
  }
}

/**
 * Whether the signed-in role may do `permission` (the server checks every
 * route; the page hides what would only be refused). The local user of a
 * single-user server, and a page before its state, may do all.
 */
export function mayDo(store: Store, permission: Permission): boolean {
  const me = store.me.value;
  return !me || roleCan(me.role, permission);
}

/** Replaces everything `/api/state` describes. */
export function applyApiState(store: Store, s: ApiState) {
  if (s.dataset) setDataset(s.dataset);
  batch(() => {
    store.count.value = s.count;
    store.labelled.value = s.labelled;
    store.countsPerClass.value = s.countsPerClass;
    store.training.value = s.training;
    store.config.value = s.config;
    store.history.value = s.history;
    store.lastEntry.value = s.history.at(-1) ?? null;
    store.latentVersion.value = s.latentVersion;
    if (s.notices) store.notices.value = s.notices;
    if (s.me) store.me.value = s.me;
    store.overlap.value = s.team?.overlap ?? 0;
  });
}

export function fmtLoss(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** What the controller must do after a message was applied. */
export interface Followup {
  /** Fetch /api/latent (conditional). */
  refetchLatent?: boolean;
  /** The open sample's prediction/reconstruction is stale. */
  refetchSample?: boolean;
}

/** Folds one WebSocket message into the store. */
export function applyServerMessage(
  store: Store,
  msg: ServerMessage,
  now = Date.now(),
): Followup {
  const out: Followup = {};
  batch(() => {
    switch (msg.type) {
      case "hello": {
        if (msg.status !== undefined) {
          store.training.value = typeof msg.status === "string"
            ? { ...store.training.value, status: msg.status }
            : msg.status;
        }
        if (Array.isArray(msg.history)) {
          store.history.value = msg.history;
          store.lastEntry.value = msg.history.at(-1) ?? null;
        }
        applyCounts(store, msg.counts);
        if (msg.graph) store.graph.value = msg.graph;
        if (msg.notices) store.notices.value = msg.notices;
        if (msg.config) store.config.value = msg.config;
        if (typeof msg.latentVersion === "number") {
          store.latentVersion.value = msg.latentVersion;
        }
        // Anything (labels, version) may have changed while we were away.
        out.refetchLatent = true;
        break;
      }
      case "training_started": {
        store.progress.value = null;
        store.training.value = {
          status: "training",
          epoch: 0,
          targetEpochs: msg.targetEpochs,
        };
        if (msg.config) {
          store.config.value = { ...store.config.value, ...msg.config };
        }
        pushLog(
          store,
          `Training started: ${msg.targetEpochs} epoch${
            msg.targetEpochs === 1 ? "" : "s"
          }`,
          "info",
          now,
        );
        break;
      }
      case "epoch": {
        const entry = msg.entry;
        const hist = store.history.value;
        // Idempotent: a replayed epoch (same step) replaces, never duplicates.
        const dup = hist.length > 0 && hist.at(-1)!.step === entry.step;
        store.history.value = dup
          ? [...hist.slice(0, -1), entry]
          : [...hist, entry];
        store.lastEntry.value = entry;
        store.training.value = {
          ...store.training.value,
          status: store.training.value.status === "stopping"
            ? "stopping"
            : "training",
          epoch: msg.epoch,
          targetEpochs: msg.targetEpochs,
        };
        if (dup) break;
        pushLog(
          store,
          `Epoch ${msg.epoch}/${msg.targetEpochs}: train ${
            fmtLoss(msg.metrics.train.loss)
          }, val ${fmtLoss(msg.metrics.val.loss)}`,
          "info",
          now,
        );
        break;
      }
      case "batch": {
        const { seq: _seq, type: _type, ...progress } = msg;
        store.progress.value = progress;
        if (store.training.value.status === "idle") break;
        store.training.value = {
          ...store.training.value,
          epoch: Math.max(store.training.value.epoch, msg.epoch - 1),
          targetEpochs: msg.targetEpochs,
        };
        break;
      }
      case "training_complete":
      case "training_stopped": {
        store.progress.value = null;
        store.lastRun.value = {
          stopped: msg.type === "training_stopped",
          epochs: store.training.value.epoch,
          targetEpochs: store.training.value.targetEpochs,
        };
        store.training.value = {
          ...store.training.value,
          status: "idle",
          message: undefined,
        };
        pushLog(
          store,
          msg.message ??
            (msg.type === "training_complete"
              ? "Training complete"
              : "Training stopped"),
          "success",
          now,
        );
        break;
      }
      case "training_stopping": {
        store.training.value = msg.training ??
          { ...store.training.value, status: "stopping" };
        break;
      }
      case "worker_restarted": {
        if (msg.training) store.training.value = msg.training;
        pushLog(store, "The training worker was restarted", "error", now);
        break;
      }
      case "training_error": {
        store.progress.value = null;
        store.training.value = {
          ...store.training.value,
          status: "error",
          message: msg.message,
        };
        pushLog(store, `Training failed: ${msg.message}`, "error", now);
        break;
      }
      case "latent_updated": {
        if (msg.version !== store.latent.value?.version) {
          out.refetchLatent = true;
          out.refetchSample = true;
        }
        store.latentVersion.value = msg.version;
        break;
      }
      case "graph_status": {
        const was = store.graph.value;
        store.graph.value = msg.graph;
        if (
          (was?.provisional || was?.status === "building") &&
          msg.graph.status === "ready" && !msg.graph.provisional
        ) {
          const text =
            "The full label graph is ready: the predictions and suggestions now use it";
          pushLog(store, text, "success", now);
          // Said where the user looks, not only in the log below the fold.
          showToast(store, text, "success");
        }
        if (msg.graph.status === "error" && was?.status !== "error") {
          pushLog(
            store,
            `The label graph failed: ${msg.graph.message ?? "unknown error"}`,
            "error",
            now,
          );
        }
        break;
      }
      case "notices": {
        store.notices.value = msg.notices;
        break;
      }
      case "labels_changed": {
        applyLabelChanges(store, msg.changes);
        if (msg.counts) applyCounts(store, msg.counts);
        else recountFromLatent(store);
        break;
      }
      case "evaluation": {
        const r = msg.record;
        const list = store.active.evaluations.value;
        if (r && msg.rescored) {
          store.active.evaluations.value = list.map((e) =>
            e.run === r.run ? r : e
          );
          pushLog(
            store,
            `Run ${r.run} scored again on the full label graph: ${
              (100 * r.accuracy.overall).toFixed(1)
            }%`,
            "success",
            now,
          );
        } else if (r && !list.some((e) => e.run === r.run)) {
          store.active.evaluations.value = [...list, r];
          pushLog(
            store,
            `Test accuracy ${
              (100 * r.accuracy.overall).toFixed(1)
            }% with ${r.labels} label${r.labels === 1 ? "" : "s"}`,
            "success",
            now,
          );
        }
        if (msg.message) pushLog(store, msg.message, "error", now);
        break;
      }
    }
  });
  return out;
}
