import { effect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  epochAxis,
  LOSS_CONFIG,
  lossLayout,
  lossTraces,
} from "../lib/client/figures.ts";
import { coalescedDraw, type PlotElement } from "../lib/client/plotly.ts";
import { useStore } from "../lib/client/store.ts";

/** Train/val totals (bold) and component losses (light), live per epoch. */
export function LossCurves() {
  const store = useStore();
  const ref = useRef<HTMLDivElement>(null);
  const empty = store.history.value.length === 0 &&
    store.progress.value === null;

  useEffect(() => {
    const el = ref.current as PlotElement | null;
    if (!el) return;
    let disposed = false;
    const draw = coalescedDraw(
      async (Plotly) => {
        if (disposed) return;
        const history = store.history.value;
        const p = store.progress.value;
        const x0 = epochAxis(history).at(-1) ?? 0;
        const live = p && store.isTraining.value
          ? { x: x0 + p.batch / Math.max(1, p.batches), loss: p.loss }
          : null;
        await Plotly.react(
          el,
          lossTraces(history, live),
          lossLayout(Math.max(1, live ? Math.ceil(live.x) : x0)),
          LOSS_CONFIG,
        );
        el.dataset.epochs = String(history.length);
      },
      (e) => {
        el.dataset.error = String(e);
      },
    );
    const stop = effect(() => {
      const live = store.progress.value !== null;
      if (store.history.value.length > 0 || live) draw();
    });
    return () => {
      disposed = true;
      stop();
    };
  }, []);

  return (
    <section class="card losses-card" aria-labelledby="loss-title">
      <div class="card-head">
        <h2 id="loss-title">Loss curves</h2>
        <span class="muted small">
          log scale · bold = total ·{" "}
          <abbr
            id="loss-why"
            title="The train total includes the classification loss of your labelled images (times the label weight); the validation images are never suggested, so they are rarely labelled and their total is mostly reconstruction and KL. So train reads above validation. Compare the light component curves; a validation curve that turns up while train goes down is overfitting."
          >
            why train is above val
          </abbr>
        </span>
      </div>
      <div class="loss-wrap">
        <div ref={ref} id="loss-plot" class="loss-plot" />
        {empty && (
          <div class="placeholder" id="loss-placeholder">
            <strong>No training yet</strong>
            <span>
              Start a run: train and validation losses appear here live.
            </span>
          </div>
        )}
      </div>
    </section>
  );
}
