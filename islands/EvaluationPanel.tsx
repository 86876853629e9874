import { effect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  accuracyLayout,
  accuracyTraces,
  confusionLayout,
  confusionSize,
  confusionTraces,
  EVAL_CONFIG,
} from "../lib/client/eval_figures.ts";
import { dataset } from "../lib/client/dataset.ts";
import { labelCheckText } from "../lib/client/label_check.ts";
import { coalescedDraw, type PlotElement } from "../lib/client/plotly.ts";
import { useStore } from "../lib/client/store.ts";

/**
 * After every run the worker scores the model on the MNIST test set: test
 * accuracy against the number of labels across runs, and the latest run's
 * confusion matrix with per-class accuracy.
 */
export function EvaluationPanel() {
  const store = useStore();
  const accRef = useRef<HTMLDivElement>(null);
  const confRef = useRef<HTMLDivElement>(null);
  const runs = store.active.evaluations.value;
  const last = runs.at(-1) ?? null;
  // A folder started without --holdout has nothing to score runs on.
  const noTest = dataset.value.hasTest === false;
  const check = labelCheckText(store.graph.value);
  // Past ten classes the matrix has a size of its own: it goes below the
  // accuracy plot, in a panel that scrolls.
  const large = confusionSize() !== null;

  useEffect(() => {
    const accEl = accRef.current as PlotElement | null;
    const confEl = confRef.current as PlotElement | null;
    if (!accEl || !confEl) return;
    let disposed = false;
    const draw = coalescedDraw(
      async (Plotly) => {
        if (disposed) return;
        const list = store.active.evaluations.value;
        const latest = list.at(-1);
        if (!latest) return;
        await Plotly.react(
          accEl,
          accuracyTraces(list),
          accuracyLayout(),
          EVAL_CONFIG,
        );
        // The scrolling wrapper's width: a large matrix is at least as wide.
        const panel = confEl.parentElement?.clientWidth ?? 0;
        await Plotly.react(
          confEl,
          confusionTraces(latest),
          confusionLayout(latest, dataset.value.classes, panel),
          EVAL_CONFIG,
        );
        accEl.dataset.runs = String(list.length);
        confEl.dataset.run = String(latest.run);
      },
      (e) => {
        accEl.dataset.error = String(e);
      },
    );
    const stop = effect(() => {
      if (store.active.evaluations.value.length > 0) draw();
    });
    return () => {
      disposed = true;
      stop();
    };
  }, []);

  return (
    <section class="card evaluation" aria-labelledby="evaluation-title">
      <div class="card-head">
        <h2 id="evaluation-title">Test accuracy</h2>
        <span class="muted small" id="evaluation-meta">
          {last
            ? `${
              (100 * last.accuracy.overall).toFixed(1)
            }% after run ${last.run} · ${
              last.labels.toLocaleString("en-US")
            } labels · ${last.testCount.toLocaleString("en-US")} test images`
            : noTest
            ? "no test set"
            : "scored on the test set after each run"}
        </span>
      </div>
      {check && (
        <p
          class="label-check"
          id="label-check"
          data-estimate={store.graph.value?.check?.accuracy ?? ""}
          title="5-fold cross-validation over your labels: each fifth is hidden and predicted by the rest. The estimate is the unlabelled images' mean certainty, calibrated on those held-out labels."
        >
          {check.headline && <strong>{check.headline}</strong>}{" "}
          <span class="muted small">{check.detail}</span>
        </p>
      )}
      {store.active.evaluationsError.value && (
        <p class="form-error">{store.active.evaluationsError.value}</p>
      )}
      <div class={`eval-grid ${large ? "eval-grid-large" : ""}`}>
        <div class="eval-wrap">
          <div ref={accRef} id="accuracy-plot" class="eval-plot" />
          {!last && (
            <div class="placeholder" id="evaluation-placeholder">
              {noTest
                ? (
                  <>
                    <strong>No test set</strong>
                    <span>
                      Runs are not scored: start with <code>--holdout 0.1</code>
                      {" "}
                      (one sub-folder per class) to keep a tenth of the images
                      apart for that. The estimate from your own labels above
                      works without it.
                    </span>
                  </>
                )
                : (
                  <>
                    <strong>No evaluation yet</strong>
                    <span>
                      Each training run is scored on the test set: accuracy
                      against the number of labels appears here.
                    </span>
                  </>
                )}
            </div>
          )}
        </div>
        <div
          class={`eval-wrap ${large ? "eval-wrap-scroll" : ""}`}
          tabIndex={large ? 0 : undefined}
          aria-label={large ? "Confusion matrix (scrolls)" : undefined}
        >
          <div ref={confRef} id="confusion-plot" class="eval-plot" />
          {!last && (
            <div class="placeholder">
              <span>Confusion matrix of the latest run</span>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
