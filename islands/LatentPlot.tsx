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
} from "../lib/client/figures.ts";
import type { LatentSnapshot } from "../lib/client/latent.ts";
import { CLASS_COLORS, UNLABELLED_COLOR } from "../lib/client/palette.ts";
import { loadPlotly, type PlotElement } from "../lib/client/plotly.ts";
import { COLOR_MODES, useStore } from "../lib/client/store.ts";

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

  useEffect(() => {
    const el = ref.current as PlotElement | null;
    if (!el) return;
    let disposed = false;
    let drawing = false;
    let dirty = false;
    let plotted = false;
    let drawn: {
      snap: LatentSnapshot | null;
      mode: string;
      sel: number | null;
    } = { snap: null, mode: "", sel: null };
    let overlay: { ul: Int8Array; sub: LabelledSubset } | null = null;
    const labelled = (s: LatentSnapshot) => {
      if (!overlay || overlay.ul !== s.userLabel) {
        overlay = { ul: s.userLabel, sub: labelledSubset(s) };
      }
      return overlay.sub;
    };

    const draw = async () => {
      if (drawing) {
        dirty = true;
        return;
      }
      drawing = true;
      try {
        const Plotly = await loadPlotly();
        do {
          dirty = false;
          if (disposed) return;
          const s = store.latent.value;
          if (!s) return;
          const mode = store.colorMode.value;
          const sel = store.selected.value;
          const shapes = selectionShapes(s, sel);
          const t0 = performance.now();
          if (plotted && drawn.snap === s && drawn.mode === mode) {
            // Only the selection moved: redraw the X, not the points.
            if (drawn.sel !== sel) await Plotly.relayout(el, { shapes });
          } else {
            const traces = latentTraces({
              snap: s,
              mode,
              labelled: labelled(s),
            });
            await Plotly.react(
              el,
              traces,
              { ...latentLayout(s.version), shapes },
              LATENT_CONFIG,
            );
            performance.mark("latent-draw", {
              detail: { mode, ms: performance.now() - t0, count: s.count },
            });
          }
          drawn = { snap: s, mode, sel };
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
          el.dataset.draws = String(Number(el.dataset.draws ?? 0) + 1);
        } while (dirty);
      } catch (e) {
        store.latentError.value = `Could not draw the latent space: ${
          (e as Error).message
        }`;
      } finally {
        drawing = false;
      }
    };

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
      });
    };

    const stop = effect(() => {
      // Subscribe to everything the figure depends on, then draw once.
      void store.latent.value;
      void store.colorMode.value;
      void store.selected.value;
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
      `Predicted ${snap.predClass[t.index]} (${
        Math.round(snap.certainty[t.index] / 2.55)
      }%)`,
      `User label ${ul < 0 ? "–" : ul}`,
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
          {CLASS_COLORS.map((c, d) => (
            <span class="chip" key={d}>
              <i style={{ background: c }} />
              {d}
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
