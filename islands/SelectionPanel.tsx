import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { MAX_THUMBNAILS as THUMBNAILS_SHOWN } from "../lib/protocol/limits.ts";
import { classColor } from "../lib/client/figures.ts";
import { useStore } from "../lib/client/store.ts";
import {
  className,
  dataset,
  digitClasses,
  labelKeys,
  needsClassPicker,
} from "../lib/client/dataset.ts";
import { predictedBreakdown } from "../lib/client/batch_plan.ts";
import { ClassPicker } from "./ClassPicker.tsx";
import { useThumbnails } from "./use_thumbnails.ts";
import { LabelButton, namedGridStyle } from "./LabelButton.tsx";

/**
 * The box/lasso selection: how many images, the first 100 as thumbnails
 * (click one to leave it out), and one key or button to label all of them
 * in a single write.
 */
export function SelectionPanel() {
  const store = useStore();
  const a = store.active;
  const sel = a.selection.value;
  const excluded = a.excluded.value;
  const snap = store.latent.value;
  const gridRef = useRef<HTMLDivElement>(null);
  const thumbError = useSignal<string | null>(null);
  const shown = sel ? sel.subarray(0, THUMBNAILS_SHOWN) : null;

  useThumbnails(gridRef, shown, sel, (e) => {
    if (e) thumbError.value = `Could not load the images: ${e.message}`;
    else {
      gridRef.current!.dataset.loaded = String(shown!.length);
      thumbError.value = null;
    }
  });

  if (!sel) return null;
  const ds = dataset.value;
  let labelled = 0;
  if (snap) { for (const i of sel) if (snap.userLabel[i] >= 0) labelled++; }
  const n = sel.length - [...excluded].filter((i) => sel.includes(i)).length;
  // Past ten classes: buttons (and keys) for the first ten, a picker for any.
  const picker = needsClassPicker(ds);
  const [firstKey, lastKey] = labelKeys(ds);
  return (
    <section
      class="card selection"
      id="selection-panel"
      aria-labelledby="selection-title"
      data-count={sel.length}
      data-included={n}
    >
      <div class="card-head">
        <h2 id="selection-title">
          {{ lasso: "Lasso", grid: "Grid", box: "Box" }[
            a.selectionShape.value ?? "box"
          ]} selection
        </h2>
        <button
          type="button"
          class="btn btn-small"
          id="clear-selection"
          onClick={() => a.actions.setSelection(null)}
        >
          Clear <kbd>Esc</kbd>
        </button>
      </div>
      <p class="selection-count" id="selection-count">
        <b>{sel.length.toLocaleString("en-US")}</b> selected
        {labelled > 0 && ` · ${labelled.toLocaleString("en-US")} labelled`}
        {excluded.size > 0 && ` · ${excluded.size} left out`}
      </p>
      {snap && (
        // What the box caught, by predicted class: its points are all red
        // on the map, which hides that.
        <p class="selection-predicted muted small" id="selection-predicted">
          Predicted:{" "}
          {predictedBreakdown(snap.predClass, sel, excluded).slice(0, 5).map((
            [c, k],
          ) => (
            <span class="pred-chip" key={c} data-class={c}>
              <span
                class="swatch"
                style={{ background: classColor(c) }}
                aria-hidden="true"
              />
              {className(c, ds)} {k.toLocaleString("en-US")}
            </span>
          ))}
        </p>
      )}
      <div class="thumbs" ref={gridRef} id="selection-thumbs">
        {Array.from(shown!).map((i) => {
          const ul = snap && i < snap.count ? snap.userLabel[i] : -1;
          return (
            <button
              type="button"
              key={i}
              class={`thumb ${excluded.has(i) ? "excluded" : ""}`}
              data-index={i}
              aria-pressed={!excluded.has(i)}
              title={`#${i}${
                ul >= 0 ? ` (labelled ${className(ul, ds)})` : ""
              }: click to ${excluded.has(i) ? "include" : "leave out"}`}
              onClick={() => a.actions.toggleExcluded(i)}
            >
              <canvas width={ds.cols} height={ds.rows} />
              {ul >= 0 && (
                <span
                  class="thumb-label"
                  style={{ background: classColor(ul) }}
                >
                  {className(ul, ds)}
                </span>
              )}
            </button>
          );
        })}
      </div>
      {sel.length > THUMBNAILS_SHOWN && (
        <p class="muted small">
          Showing the first {THUMBNAILS_SHOWN} of{" "}
          {sel.length.toLocaleString("en-US")}.
        </p>
      )}
      {thumbError.value && <p class="form-error">{thumbError.value}</p>}
      <div
        class={`label-buttons ${digitClasses(ds) ? "" : "label-buttons-named"}`}
        style={digitClasses(ds)
          ? undefined
          : namedGridStyle(picker ? ds.classes.slice(0, 10) : ds.classes)}
        role="group"
        aria-label="Label all selected"
      >
        {(picker ? ds.classes.slice(0, 10) : ds.classes).map((name, d) => (
          <LabelButton
            key={d}
            cls={d}
            name={name}
            verb="Label all"
            attr="data-batch-label"
            disabled={n === 0}
            onClick={() => a.actions.labelSelection(d)}
          />
        ))}
        {picker && (
          <ClassPicker
            id="selection-picker"
            label={`Label all ${n} selected images as (type a class name)`}
            disabled={n === 0}
            onPick={(c) => a.actions.labelSelection(c)}
          />
        )}
        <button
          type="button"
          class="btn btn-danger label-delete"
          id="batch-delete"
          disabled={n === 0 || labelled === 0}
          onClick={() => a.actions.labelSelection(null)}
        >
          Remove labels
        </button>
      </div>
      <p class="hint">
        <kbd>{firstKey}</kbd>–<kbd>{lastKey}</kbd>
        {picker ? " (or a name in the picker)" : ""} label all{" "}
        {n.toLocaleString("en-US")} · <kbd>Del</kbd> remove their labels ·{" "}
        <kbd>Esc</kbd> clear · click a thumbnail to leave it out
      </p>
    </section>
  );
}
