import { useRef } from "preact/hooks";
import { className, dataset } from "../lib/client/dataset.ts";
import { SUGGESTION_COLOR } from "../lib/client/palette.ts";
import { useStore } from "../lib/client/store.ts";
import { certaintyPercent } from "../lib/protocol/latent_format.ts";
import { releaseFocus } from "./LabelButton.tsx";
import { useThumbnails } from "./use_thumbnails.ts";
import {
  queueNote,
  STRATEGIES,
  STRATEGY_NAMES,
  STRATEGY_TITLES,
} from "../lib/client/suggestions.ts";

/** Items listed under the strategy (the plot rings more). */
const LISTED = 8;

/**
 * What to label next: the strategy, the best unlabelled images (ringed on the
 * plot too), "next" (N / Space), and undo/redo of label actions.
 */
export function SuggestionQueue() {
  const store = useStore();
  const a = store.active;
  const strategy = a.strategy.value;
  const top = a.suggestions.value;
  const snap = store.latent.value;
  const ranking = a.ranking.value;
  const selected = store.selected.value;
  const undoDepth = a.undo.undoDepth.value;
  const redoDepth = a.undo.redoDepth.value;
  const items = Array.from(top.subarray(0, LISTED));
  const listRef = useRef<HTMLOListElement>(null);
  const ds = dataset.value;
  // The listed images as thumbnails: a name and a number say little about
  // what to expect. Fetched for each new list (8 images, one request).
  const key = items.join(",");
  useThumbnails(listRef, items, key, (e) => {
    // Offline without the images cached: the list stays text only.
    if (!e) listRef.current!.dataset.thumbs = key;
  });
  return (
    <section class="card queue" aria-labelledby="queue-title">
      <div class="card-head">
        <h2 id="queue-title">Suggestions</h2>
        <button
          type="button"
          class="btn btn-small btn-primary"
          id="next-suggestion"
          title="Select the next suggested image (N or Space)"
          disabled={top.length === 0 && !snap}
          onClick={(e) => {
            a.actions.nextSuggestion();
            releaseFocus(e);
          }}
        >
          Next <kbd>N</kbd>
        </button>
      </div>
      <div
        class="segmented strategies"
        role="radiogroup"
        aria-label="Suggest next"
      >
        {STRATEGIES.map((s) => (
          <button
            type="button"
            key={s}
            role="radio"
            aria-checked={strategy === s}
            class={strategy === s ? "on" : ""}
            data-strategy={s}
            title={STRATEGY_TITLES[s]}
            onClick={() => a.strategy.value = s}
          >
            {STRATEGY_NAMES[s]}
          </button>
        ))}
      </div>
      {strategy === "auto" && (
        <p
          class="muted small"
          id="queue-phase"
          data-graph={store.graph.value?.status ?? ""}
        >
          {queueNote(a.probs.value?.queuePhase, store.graph.value)}
        </p>
      )}
      {a.error.value && <p class="form-error">{a.error.value}</p>}
      <ol
        class="queue-list"
        id="suggestion-list"
        ref={listRef}
        data-top={items.join(",")}
        aria-label="Suggested images, best first"
      >
        {items.map((i, k) => (
          <li key={i}>
            <button
              type="button"
              class={`queue-item ${selected === i ? "on" : ""}`}
              data-index={i}
              onClick={() => store.actions.select(i)}
            >
              <span
                class="ring"
                style={{
                  borderColor: SUGGESTION_COLOR,
                  borderWidth: k === 0 ? "2.5px" : "1.5px",
                }}
              />
              <canvas
                class="queue-thumb"
                width={ds.cols}
                height={ds.rows}
                aria-hidden="true"
              />
              <b>#{i}</b>
              {snap && i < snap.count && (
                <span class="muted">
                  predicted {className(snap.predClass[i])} ·{" "}
                  {certaintyPercent(snap.certainty[i])}%
                </span>
              )}
            </button>
          </li>
        ))}
        {items.length === 0 && (
          <li class="muted small">
            {snap && ranking ? "Every image is labelled." : "Ranking…"}
          </li>
        )}
      </ol>
      {ranking && (
        <p class="muted small" id="queue-meta">
          {ranking.order.length.toLocaleString("en-US")} images ranked in{" "}
          {ranking.ms.toFixed(0)} ms · v{ranking.version}
        </p>
      )}
      <div class="undo-row">
        <button
          type="button"
          class="btn btn-small"
          id="undo"
          disabled={undoDepth === 0}
          title="Undo the last label action (Ctrl+Z)"
          onClick={() => a.actions.undo()}
        >
          Undo <kbd>Ctrl Z</kbd>
        </button>
        <button
          type="button"
          class="btn btn-small"
          id="redo"
          disabled={redoDepth === 0}
          title="Redo (Ctrl+Shift+Z or Ctrl+Y)"
          onClick={() => a.actions.redo()}
        >
          Redo <kbd>Ctrl Y</kbd>
        </button>
      </div>
    </section>
  );
}
