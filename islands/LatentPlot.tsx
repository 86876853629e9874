import { className, dataset } from "../lib/client/dataset.ts";
import { effect, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  type LabelledSubset,
  labelledSubset,
  LATENT_CONFIG,
  latentLayout,
  latentTraces,
  pointToIndex,
  selectionShapes,
  suggestionShapes,
} from "../lib/client/figures.ts";
import { selectInBox, selectInPolygon } from "../lib/active/selection.ts";
import type { DragMode } from "../lib/client/active_store.ts";
import type { LatentSnapshot } from "../lib/client/latent.ts";
import { CLASS_COLORS, UNLABELLED_COLOR } from "../lib/client/palette.ts";
import { coalescedDraw, type PlotElement } from "../lib/client/plotly.ts";
import { COLOR_MODES, useStore } from "../lib/client/store.ts";

const DRAG_MODES: ReadonlyArray<
  { id: DragMode; label: string; title: string }
> = [
  { id: "zoom", label: "Zoom", title: "Drag to zoom" },
  { id: "select", label: "Box", title: "Drag a box to select points" },
  { id: "lasso", label: "Lasso", title: "Draw around points to select them" },
];

interface Tip {
  x: number;
  y: number;
  index: number;
}

/** The 2-D latent space: every image as a WebGL point, coloured by mode. */
export function LatentPlot() {
  const store = useStore();
  const ref = useRef<HTMLDivElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const tip = useSignal<Tip | null>(null);
  const ready = useSignal(false);
  const mode = store.colorMode.value;
  const snap = store.latent.value;
  const dragMode = store.active.dragMode.value;

  useEffect(() => {
    const el = ref.current as PlotElement | null;
    if (!el) return;
    let disposed = false;
    let plotted = false;
    let drawn: {
      snap: LatentSnapshot | null;
      mode: string;
      sel: number | null;
      sugg: Uint32Array | null;
      drag: DragMode;
      multi: Uint32Array | null;
    } = {
      snap: null,
      mode: "",
      sel: null,
      sugg: null,
      drag: "zoom",
      multi: null,
    };
    let overlay: { ul: Int8Array; sub: LabelledSubset } | null = null;
    const labelled = (s: LatentSnapshot) => {
      if (!overlay || overlay.ul !== s.userLabel) {
        overlay = { ul: s.userLabel, sub: labelledSubset(s) };
      }
      return overlay.sub;
    };

    const draw = coalescedDraw(
      async (Plotly) => {
        if (disposed) return;
        const s = store.latent.value;
        if (!s) return;
        const mode = store.colorMode.value;
        const sel = store.selected.value;
        const active = store.active;
        const sugg = active.suggestions.value;
        const drag = active.dragMode.value;
        const multi = active.selection.value;
        const shapes = [
          ...suggestionShapes(s, sugg),
          ...selectionShapes(s, sel),
        ];
        const t0 = performance.now();
        if (plotted && drawn.snap === s && drawn.mode === mode) {
          // Only the X, the suggestion rings or the drag mode changed:
          // relayout the shapes (SVG), not the 60k WebGL points.
          const update: Record<string, unknown> = {};
          if (drawn.sel !== sel || drawn.sugg !== sugg) {
            update.shapes = shapes;
          }
          if (drawn.drag !== drag) update.dragmode = drag;
          if (Object.keys(update).length > 0) {
            await Plotly.relayout(el, update);
          }
        } else {
          const traces = latentTraces({
            snap: s,
            mode,
            labelled: labelled(s),
          });
          await Plotly.react(
            el,
            traces,
            { ...latentLayout(s.version, drag), shapes },
            LATENT_CONFIG,
          );
          performance.mark("latent-draw", {
            detail: { mode, ms: performance.now() - t0, count: s.count },
          });
        }
        if (multi === null && drawn.multi !== null) {
          // The selection was labelled or cleared: drop Plotly's outline
          // and dimming too.
          await Plotly.relayout(el, { selections: [] });
          await Plotly.restyle(el, { selectedpoints: [null] });
        }
        drawn = { snap: s, mode, sel, sugg, drag, multi };
        if (!plotted) {
          plotted = true;
          attach(el);
          ready.value = true;
          performance.mark("latent-drawn", {
            detail: { count: s.count, version: s.version },
          });
          requestAnimationFrame(() => performance.mark("latent-painted"));
        }
        el.dataset.points = String(s.count);
        el.dataset.version = String(s.version);
        el.dataset.mode = mode;
        el.dataset.selected = String(sel ?? "");
        el.dataset.suggestions = Array.from(sugg.subarray(0, 5)).join(",");
        el.dataset.dragmode = drag;
        el.dataset.draws = String(Number(el.dataset.draws ?? 0) + 1);
      },
      (e) => {
        store.latentError.value = `Could not draw the latent space: ${
          (e as Error).message
        }`;
      },
    );

    const attach = (el: PlotElement) => {
      el.on("plotly_click", (ev) => {
        const pt = ev?.points?.[0];
        const s = store.latent.value;
        if (!pt || !s) return;
        const i = pointToIndex(
          pt.curveNumber,
          pt.pointIndex ?? pt.pointNumber,
          labelled(s),
        );
        if (i !== null) store.actions.select(i);
      });
      let prefetchTimer: ReturnType<typeof setTimeout> | undefined;
      el.on("plotly_hover", (ev) => {
        const pt = ev?.points?.[0];
        const s = store.latent.value;
        const wrap = wrapRef.current;
        if (!pt || !s || !wrap) return;
        const i = pointToIndex(
          pt.curveNumber,
          pt.pointIndex ?? pt.pointNumber,
          labelled(s),
        );
        if (i === null) return;
        const r = wrap.getBoundingClientRect();
        const me = ev.event as MouseEvent | undefined;
        const fl = el._fullLayout;
        const x = me
          ? me.clientX - r.left
          : fl.xaxis._offset + fl.xaxis.l2p(s.x[i]);
        const y = me
          ? me.clientY - r.top
          : fl.yaxis._offset + fl.yaxis.l2p(s.y[i]);
        tip.value = { x, y, index: i };
        clearTimeout(prefetchTimer);
        prefetchTimer = setTimeout(() => store.actions.prefetch(i), 120);
      });
      el.on("plotly_unhover", () => {
        tip.value = null;
        clearTimeout(prefetchTimer);
      });
      // Zoom or pan moves the points away from the tooltip (a moved X does not).
      el.on("plotly_relayout", (ev) => {
        if (Object.keys(ev ?? {}).some((k) => /^[xy]axis|^autosize/.test(k))) {
          tip.value = null;
        }
        // The mode bar's own buttons change the drag mode too.
        const d = ev?.dragmode;
        if (
          (d === "zoom" || d === "pan" || d === "select" || d === "lasso") &&
          d !== store.active.dragMode.peek()
        ) {
          store.active.dragMode.value = d;
        }
      });
      // Box / lasso: the indices come from the shape in latent coordinates
      // (lib/active/selection.ts), not from Plotly's per-trace point lists.
      el.on("plotly_selected", (ev) => {
        const s = store.latent.value;
        if (!s) return;
        let indices: Uint32Array | null = null;
        let shape: "box" | "lasso" | undefined;
        if (ev?.range?.x && ev.range.y) {
          const [x0, x1] = ev.range.x;
          const [y0, y1] = ev.range.y;
          indices = selectInBox(s.x, s.y, x0, x1, y0, y1);
          shape = "box";
        } else if (ev?.lassoPoints?.x) {
          const { x, y } = ev.lassoPoints;
          indices = selectInPolygon(
            s.x,
            s.y,
            x.map((xv: number, k: number) => ({ x: xv, y: y[k] })),
          );
          shape = "lasso";
        }
        if (indices === null) return;
        performance.mark("selection", { detail: { count: indices.length } });
        store.active.actions.setSelection(indices, shape);
      });
      el.on("plotly_deselect", () => {
        store.active.actions.setSelection(null);
      });
    };

    const stop = effect(() => {
      // Subscribe to everything the figure depends on, then draw once.
      void store.latent.value;
      void store.colorMode.value;
      void store.selected.value;
      void store.active.suggestions.value;
      void store.active.dragMode.value;
      void store.active.selection.value;
      draw();
    });
    return () => {
      disposed = true;
      stop();
    };
  }, []);

  const t = tip.value;
  let tipText: string[] | null = null;
  if (t && snap && t.index < snap.count) {
    const ul = snap.userLabel[t.index];
    tipText = [
      `#${t.index}`,
      `Predicted ${className(snap.predClass[t.index])} (${
        Math.round(snap.certainty[t.index] / 2.55)
      }%)`,
      `User label ${ul < 0 ? "–" : className(ul)}`,
    ];
  }

  return (
    <section class="card latent" aria-labelledby="latent-title">
      <div class="card-head">
        <h2 id="latent-title">Latent space</h2>
        <span class="muted small" id="latent-meta">
          {snap
            ? `${snap.count.toLocaleString("en-US")} points · v${snap.version}`
            : "loading…"}
        </span>
        <div class="segmented" role="radiogroup" aria-label="Colour points by">
          {COLOR_MODES.map((m) => (
            <button
              type="button"
              key={m.id}
              role="radio"
              aria-checked={mode === m.id}
              class={mode === m.id ? "on" : ""}
              data-mode={m.id}
              onClick={() => store.colorMode.value = m.id}
            >
              {m.label}
            </button>
          ))}
        </div>
      </div>
      <div class="drag-modes">
        <div class="segmented" role="radiogroup" aria-label="Drag to">
          {DRAG_MODES.map((d) => (
            <button
              type="button"
              key={d.id}
              role="radio"
              aria-checked={dragMode === d.id}
              class={dragMode === d.id ? "on" : ""}
              data-drag={d.id}
              title={d.title}
              onClick={() => store.active.dragMode.value = d.id}
            >
              {d.label}
            </button>
          ))}
        </div>
        <span class="muted small">
          <span class="ring-chip" aria-hidden="true" /> top suggestions
        </span>
      </div>
      <div class="plot-wrap" ref={wrapRef}>
        <div ref={ref} id="latent-plot" class="latent-plot" />
        {!ready.value && (
          <div class="placeholder plot-loading" aria-busy="true">
            <span class="spinner" aria-hidden="true" />
            {store.latentError.value ?? "Loading the latent space…"}
          </div>
        )}
        {ready.value && store.latentError.value && (
          <div class="plot-error" role="alert">{store.latentError.value}</div>
        )}
        {tipText && t && (
          <div
            class="tip"
            style={{
              left: `${t.x + 12}px`,
              top: `${t.y + 12}px`,
            }}
            id="latent-tip"
          >
            <b>{tipText[0]}</b>
            <span>{tipText[1]}</span>
            <span>{tipText[2]}</span>
          </div>
        )}
      </div>
      {mode !== "certainty" && (
        <div class="legend" aria-label="Colour legend">
          {dataset.value.classes.map((name, d) => (
            <span class="chip" key={d}>
              <i style={{ background: CLASS_COLORS[d] }} />
              {name}
            </span>
          ))}
          {mode === "labels" && (
            <span class="chip">
              <i style={{ background: UNLABELLED_COLOR }} />unlabelled
            </span>
          )}
          <span class="chip">
            <i class="x">✕</i>selected
          </span>
          <span class="muted small legend-hint">
            drag to zoom · double-click to reset · scroll to zoom
          </span>
        </div>
      )}
      {mode === "certainty" && (
        <div class="legend">
          <span class="muted small">
            Red = the model is unsure: good candidates to label.
          </span>
          <span class="chip">
            <i class="x">✕</i>selected
          </span>
        </div>
      )}
    </section>
  );
}
