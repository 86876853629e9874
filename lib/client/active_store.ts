/**
 * State of the active-learning tools (store.active): the suggestion queue,
 * the lasso/box selection, undo/redo and the per-run evaluations. Signals
 * only; lib/client/active_controller.ts fills in the actions in the browser.
 */
import { computed, signal } from "@preact/signals";
import type { LatentSnapshot } from "../protocol/latent_format.ts";
import type { ProbsSnapshot } from "../protocol/probs_format.ts";
import { type Ranking, type Strategy, topUnlabelled } from "./suggestions.ts";
import type { ImportResult, RunRecord } from "../protocol/api.ts";
import { UndoHistory } from "./undo.ts";

/** Suggestions highlighted on the plot and listed in the queue. */
export const SUGGESTIONS_SHOWN = 20;

export type DragMode = "zoom" | "pan" | "select" | "lasso";

/** How a selection was made: a box or lasso on the map, or in the grid. */
export type SelectionShape = "box" | "lasso" | "grid";

/** Skipped images (S), each with the label count when it was skipped. */
export type Skips = ReadonlyArray<readonly [number, number]>;

/** Whether `v` reads as Skips (a stored copy). */
export function isSkips(v: unknown): v is Skips {
  return Array.isArray(v) &&
    v.every((e) =>
      Array.isArray(e) && e.length === 2 && Number.isInteger(e[0]) &&
      e[0] >= 0 && Number.isInteger(e[1]) && e[1] >= 0
    );
}

/** A skipped image stays out of the suggestions for this many labels. */
export const SKIP_FOR_LABELS = 50;

/**
 * The skipped images still out of the suggestions: `skipped` pairs an image
 * with the label count when it was skipped.
 */
export function activeSkips(
  skipped: Skips,
  labelled: number,
): Set<number> {
  const out = new Set<number>();
  for (const [i, at] of skipped) {
    if (labelled - at < SKIP_FOR_LABELS) out.add(i);
  }
  return out;
}

export interface ActiveActions {
  /** Selects the next suggestion (N / Space). */
  nextSuggestion(): void;
  /** Skips the selected image, not sure of it (S): out of the queue a while, then the next. */
  skip(): void;
  /** Sets the lasso/box selection (indices ascending), or clears it (null). */
  setSelection(
    indices: Uint32Array | null,
    shape?: SelectionShape,
  ): void;
  toggleExcluded(index: number): void;
  /** Labels every selected, non-excluded image (null removes): one batch. */
  labelSelection(label: number | null): void;
  undo(): void;
  redo(): void;
  /** Original images of up to 100 samples (the selection's thumbnails). */
  thumbnails(
    indices: ArrayLike<number>,
    signal?: AbortSignal,
  ): Promise<
    { rows: number; cols: number; channels: number; bytes: Uint8Array }
  >;
  /** Each image's latest label source (1 + place in LABEL_SOURCES; 0 none). */
  labelSources(signal?: AbortSignal): Promise<Uint8Array>;
  /** Previews (dryRun) or applies a labels CSV. */
  importLabels(body: ImportRequest): Promise<ImportResult>;
}

export interface ImportRequest {
  csv: string;
  mode: "merge" | "replace";
  dryRun: boolean;
  name?: string;
  ifRevision?: number;
}

const notReady = () => Promise.reject(new Error("not connected yet"));

const noop = () => {};

export function createActiveState(
  latent: { value: LatentSnapshot | null },
  labelled: { value: number },
) {
  const ranking = signal<Ranking | null>(null);
  const strategy = signal<Strategy>("auto");
  /** Images skipped with S; stored per data set by the controller. */
  const skipped = signal<Skips>([]);
  const skipping = computed(() => activeSkips(skipped.value, labelled.value));
  const state = {
    strategy,
    probs: signal<ProbsSnapshot | null>(null),
    ranking,
    /** Why the probabilities could not be loaded. */
    error: signal<string | null>(null),
    /** The best unlabelled images, best first (follows every label). */
    suggestions: computed(() => {
      const r = ranking.value;
      const snap = latent.value;
      if (!r || !snap || r.strategy !== strategy.value) {
        return new Uint32Array(0);
      }
      return topUnlabelled(
        r,
        snap.userLabel,
        SUGGESTIONS_SHOWN,
        skipping.value,
      );
    }),
    skipped,
    /** The skipped images still kept out of the suggestions. */
    skipping,
    /** The lasso/box selection (ascending indices), null = none. */
    selection: signal<Uint32Array | null>(null),
    selectionShape: signal<SelectionShape | null>(null),
    /** Selected images left out of the batch (clicked thumbnails). */
    excluded: signal<ReadonlySet<number>>(new Set()),
    dragMode: signal<DragMode>("zoom"),
    evaluations: signal<RunRecord[]>([]),
    evaluationsError: signal<string | null>(null),
    undo: new UndoHistory(),
    actions: {
      nextSuggestion: noop,
      skip: noop,
      setSelection: noop,
      toggleExcluded: noop,
      labelSelection: noop,
      undo: noop,
      redo: noop,
      thumbnails: notReady,
      labelSources: notReady,
      importLabels: notReady,
    } as ActiveActions,
  };
  return state;
}

export type ActiveState = ReturnType<typeof createActiveState>;
