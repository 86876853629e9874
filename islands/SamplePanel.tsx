import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { base64ToBytes } from "../lib/protocol/base64.ts";
import { classColor } from "../lib/client/figures.ts";
import { actionTitle, labelWithClass } from "../lib/client/key_actions.ts";
import { useStore } from "../lib/client/store.ts";
import {
  className,
  dataset,
  digitClasses,
  drawImage,
  labelKeys,
  needsClassPicker,
} from "../lib/client/dataset.ts";
import { breakdownText, predictedBreakdown } from "../lib/client/batch_plan.ts";
import { ClassPicker } from "./ClassPicker.tsx";
import { LabelButton, namedGridStyle, releaseFocus } from "./LabelButton.tsx";
import { LabelHistoryList } from "./LabelHistoryList.tsx";

/** Classes listed by probability in the panel when there are too many for one bar each. */
export const TOP_CLASSES_SHOWN = 5;

/** Draws a base64 image of the data set's shape (CSS scales it, pixelated). */
export function drawDigit(canvas: HTMLCanvasElement, b64: string) {
  const d = dataset.value;
  drawImage(canvas, base64ToBytes(b64), d.rows, d.cols, d.channels);
}

/** "Predicted: 7 (93% confidence) | User label: –". */
export function predictionText(
  predClass: number,
  certainty: number,
  label: number | null,
): string {
  return `Predicted: ${className(predClass)} (${
    Math.round(certainty * 100)
  }% confidence)` +
    ` | User label: ${label === null ? "–" : className(label)}`;
}

/** The selected image, its reconstruction, prediction and the label buttons. */
export function SamplePanel() {
  const store = useStore();
  const origRef = useRef<HTMLCanvasElement>(null);
  const reconRef = useRef<HTMLCanvasElement>(null);
  const sample = store.sample.value;
  const selected = store.selected.value;
  const snap = store.latent.value;
  const loading = store.sampleLoading.value;
  const error = store.sampleError.value;
  const toast = store.toast.value;
  const selection = store.active.selection.value;
  const untrained = store.history.value.length === 0 &&
    !store.isTraining.value;
  const ds = dataset.value;
  const classes = ds.classes;
  const keys = labelKeys(ds);
  // Past ten classes the keys label the first ten; a picker takes any name.
  const picker = needsClassPicker(ds);
  const buttonClasses = picker ? classes.slice(0, 10) : classes;

  // The user label comes from the live snapshot (updated by every tab).
  const label = selected !== null && snap && selected < snap.count
    ? (snap.userLabel[selected] < 0 ? null : snap.userLabel[selected])
    : sample?.label ?? null;
  const shown = sample !== null && sample.index === selected;

  useEffect(() => {
    if (!sample || !origRef.current || !reconRef.current) return;
    drawDigit(origRef.current, sample.original);
    drawDigit(reconRef.current, sample.recon);
    performance.mark("sample-drawn", { detail: { index: sample.index } });
  }, [sample]);

  // Toasts fade by themselves.
  useEffect(() => {
    if (!toast) return;
    const id = setTimeout(() => {
      if (store.toast.value?.id === toast.id) store.toast.value = null;
    }, toast.kind === "error" ? 6000 : 2500);
    return () => clearTimeout(id);
  }, [toast]);

  // Offline, a sample built from the cached image has no probabilities and
  // no reconstruction (only the model could derive it).
  const probs = shown && sample.probs.length > 0
    ? sample.probs.slice(0, classes.length)
    : null;
  const hasRecon = shown && sample.recon !== "";

  return (
    <section
      class="card sample"
      aria-labelledby="sample-title"
      data-index={shown ? sample.index : ""}
    >
      <div class="card-head">
        <h2 id="sample-title">
          {selected === null ? "Sample" : `Sample #${selected}`}
        </h2>
        {shown && sample.path && (
          <span class="sample-path muted small" title={sample.path}>
            {sample.path}
          </span>
        )}
        <button
          type="button"
          class="btn btn-small"
          id="next-uncertain"
          title={actionTitle("next")}
          onClick={(e) => {
            store.actions.selectNextUncertain();
            releaseFocus(e);
          }}
        >
          Next suggestion <kbd>N</kbd>
        </button>
      </div>

      {selection && (
        <p class="dock-selection" id="dock-selection">
          <b>{selection.length.toLocaleString("en-US")} selected</b>
          <span class="muted">
            predicted {breakdownText(
              predictedBreakdown(
                store.latent.value?.predClass ?? new Uint8Array(0),
                selection,
                store.active.excluded.value,
              ),
              (c) => className(c, ds),
              3,
            )}
          </span>
          <span class="muted">the buttons label all of them</span>
          <button
            type="button"
            class="btn btn-small"
            onClick={() => store.active.actions.setSelection(null)}
          >
            Clear <kbd>Esc</kbd>
          </button>
        </p>
      )}
      {untrained && (
        <p class="note" id="untrained-note">
          <b>Untrained model.</b>{" "}
          Its reconstructions are noise and, until you label, its predictions
          are guesses. Label a few images (<kbd>N</kbd>, then the{" "}
          {digitClasses(ds) ? "digit" : "class"}), then <b>▶ Train</b>.
        </p>
      )}

      <div class={`digits ${loading ? "loading" : ""}`}>
        <ImageFigure
          canvasRef={origRef}
          id="sample-original"
          shown={shown}
          label="Original image"
          caption="Original"
        />
        <ImageFigure
          canvasRef={reconRef}
          id="sample-recon"
          shown={hasRecon}
          label="Reconstruction"
          caption={shown && !hasRecon
            ? "Reconstruction: not cached offline"
            : "Reconstruction"}
        />
      </div>

      <p class="prediction" id="prediction-text">
        {shown
          ? predictionText(sample.predClass, sample.certainty, label)
          : selected === null
          ? "Click a point in the latent space to inspect it."
          : error ?? "Loading…"}
      </p>

      {probs && picker && <TopClasses probs={probs} top={sample!.predClass} />}

      {probs && !picker && (
        <div
          class="probs"
          aria-label="Class probabilities"
          style={{ gridTemplateColumns: `repeat(${probs.length}, 1fr)` }}
        >
          {probs.map((p, c) => (
            <div
              key={c}
              class={`prob ${c === sample!.predClass ? "top" : ""}`}
              title={`${className(c)}: ${(100 * p).toFixed(1)}%`}
            >
              <span class="prob-track">
                <span
                  class="prob-fill"
                  style={{
                    height: `${Math.max(2, 100 * p).toFixed(1)}%`,
                    background: classColor(c),
                  }}
                />
              </span>
              <span class="prob-digit">{className(c)}</span>
            </div>
          ))}
        </div>
      )}

      <div
        class={`label-buttons ${digitClasses(ds) ? "" : "label-buttons-named"}`}
        style={digitClasses(ds) ? undefined : namedGridStyle(buttonClasses)}
        role="group"
        aria-label={selection
          ? `Label the ${selection.length} selected images`
          : selected === null
          ? "Label the selected image"
          : `Label image #${selected}`}
      >
        {buttonClasses.map((name, d) => (
          <LabelButton
            key={d}
            cls={d}
            name={name}
            // With a box, lasso or grid selection the buttons do what the
            // keys do: label all of it (at 800 px these docked buttons are
            // the ones in sight, and labelled only the shown image).
            verb={selection ? "Label all selected" : "Label"}
            attr="data-label"
            active={!selection && label === d}
            showKey
            disabled={selected === null && !selection}
            onClick={() => labelWithClass(store, d, "class-picker")}
          />
        ))}
        {picker && (
          <ClassPicker
            id="sample-picker"
            label={selection
              ? `Label the ${selection.length} selected images as (type a class name)`
              : selected === null
              ? "Label the selected image as (type a class name)"
              : `Label image #${selected} as (type a class name)`}
            disabled={selected === null && !selection}
            current={selection ? null : label}
            focusOn={store.ui.pickClass.value}
            onPick={(c) => labelWithClass(store, c, "class-picker")}
          />
        )}
        <button
          type="button"
          class="btn btn-danger label-delete"
          id="delete-label"
          disabled={selected === null || label === null}
          onClick={(e) => {
            store.actions.deleteLabel("class-picker");
            releaseFocus(e);
          }}
        >
          Delete label
        </button>
        <button
          type="button"
          class="btn label-skip"
          id="skip-image"
          title={actionTitle("skip")}
          disabled={selected === null || label !== null}
          onClick={(e) => {
            store.active.actions.skip();
            releaseFocus(e);
          }}
        >
          Not sure <kbd>S</kbd>
        </button>
      </div>

      <LabelHistoryList />

      <div
        class={`toast ${toast ? `toast-${toast.kind}` : "toast-hidden"}`}
        id="label-toast"
        role="status"
        aria-live="polite"
      >
        {toast?.text ?? ""}
      </div>

      {selection
        ? (
          <p class="hint hint-selection">
            Keys <kbd>{keys[0]}</kbd>–<kbd>{keys[1]}</kbd>
            {picker && <>{" "}and the picker</>} label the{" "}
            <b>{selection.length.toLocaleString("en-US")} selected images</b>,
            not this one · <kbd>Esc</kbd> clears the selection
          </p>
        )
        : (
          <p class="hint">
            <kbd>{keys[0]}</kbd>–<kbd>{keys[1]}</kbd> label this image ·{" "}
            {picker && (
              <>
                <kbd>/</kbd> any class by name ·{" "}
              </>
            )}
            <kbd>Del</kbd> remove · <kbd>N</kbd> next · <kbd>?</kbd>{" "}
            all shortcuts
          </p>
        )}
    </section>
  );
}

/**
 * The most likely classes of the sample, as bars with their names: one bar
 * per class stops being readable past ten.
 */
function TopClasses(
  { probs, top }: { probs: number[]; top: number },
) {
  const order = probs.map((_, c) => c)
    .sort((a, b) => probs[b] - probs[a] || a - b)
    .slice(0, TOP_CLASSES_SHOWN);
  return (
    <ol class="top-classes" aria-label="Most likely classes">
      {order.map((c) => (
        <li
          key={c}
          class={`top-class ${c === top ? "top" : ""}`}
          data-class={c}
        >
          <span class="top-class-name" title={className(c)}>
            {className(c)}
          </span>
          <span class="top-class-track">
            <span
              class="top-class-fill"
              style={{
                width: `${Math.max(1, 100 * probs[c]).toFixed(1)}%`,
                background: classColor(c),
              }}
            />
          </span>
          <span class="top-class-p">{(100 * probs[c]).toFixed(0)}%</span>
        </li>
      ))}
    </ol>
  );
}

/** One of the sample's two images (the data set's size; blank until drawn). */
function ImageFigure(props: {
  canvasRef: RefObject<HTMLCanvasElement>;
  id: string;
  shown: boolean;
  label: string;
  caption: string;
}) {
  const ds = dataset.value;
  return (
    <figure>
      <canvas
        ref={props.canvasRef}
        id={props.id}
        width={ds.cols}
        height={ds.rows}
        class={props.shown ? "" : "blank"}
        aria-label={props.label}
      />
      <figcaption>{props.caption}</figcaption>
    </figure>
  );
}
