import { graphStatusLine } from "../lib/client/suggestions.ts";
import { GridView } from "./GridView.tsx";
import {
  className,
  dataset,
  labelKeyRange,
  labelKeys,
} from "../lib/client/dataset.ts";
import { effect, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  boundsTrace,
  LATENT_CONFIG,
  LATENT_MARGIN,
  latentLayout,
  paddedRange,
  selectionShapes,
  suggestionShapes,
} from "../lib/client/figures.ts";
import { selectInBox, selectInPolygon } from "../lib/active/selection.ts";
import type { DragMode } from "../lib/client/active_store.ts";
import {
  certaintyPercent,
  type LatentSnapshot,
} from "../lib/protocol/latent_format.ts";
import {
  CLASS_COLORS,
  SELECTION_COLOR,
  UNLABELLED_COLOR,
} from "../lib/client/palette.ts";
import {
  coalescedDraw,
  loadPlotly,
  type PlotElement,
  toolbarOutOfTabOrder,
} from "../lib/client/plotly.ts";
import {
  baseColors,
  certaintyCss,
  labelledPoints,
  markerSize,
  selectedPoints,
} from "../lib/client/point_colors.ts";
import { type PixelScale, PointIndex } from "../lib/client/point_index.ts";
import { PointLayer } from "../lib/client/point_layer.ts";
import { COLOR_MODES, type ColorMode, useStore } from "../lib/client/store.ts";

const VIEWS: ReadonlyArray<
  { id: "map" | "grid"; label: string; title: string }
> = [
  { id: "map", label: "Map", title: "Every image on the map (G)" },
  {
    id: "grid",
    label: "Grid",
    title: "Thumbnails to hunt in: filter, sort, select, label (G)",
  },
];

const DRAG_MODES: ReadonlyArray<
  { id: DragMode; label: string; title: string }
> = [
  { id: "zoom", label: "Zoom", title: "Drag to zoom" },
  { id: "select", label: "Box", title: "Drag a box to select points" },
  { id: "lasso", label: "Lasso", title: "Draw around points to select them" },
];

/** A click lands on the nearest point within this many pixels. */
const HIT_RADIUS = 10;
/** Mouse travel (px) beyond which a press is a drag, not a click. */
const CLICK_SLOP = 4;

interface Tip {
  x: number;
  y: number;
  index: number;
}

function interleave(x: Float32Array, y: Float32Array, n: number) {
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    xy[2 * i] = x[i];
    xy[2 * i + 1] = y[i];
  }
  return xy;
}

/**
 * The 2-D latent space: every image as a point, coloured by mode. The points
 * are a WebGL layer of ours (lib/client/point_layer.ts) inside Plotly's plot
 * area; Plotly draws the axes, the X and rings, and runs zoom/pan/box/lasso.
 */
export function LatentPlot() {
  const store = useStore();
  const ref = useRef<HTMLDivElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const tip = useSignal<Tip | null>(null);
  const ready = useSignal(false);
  const mode = store.colorMode.value;
  const snap = store.latent.value;
  const dragMode = store.active.dragMode.value;
  const sel = store.active.selection.value;

  useEffect(() => {
    const el = ref.current as PlotElement | null;
    const wrap = wrapRef.current;
    if (!el || !wrap) return;
    let disposed = false;
    let plotted = false;
    // Two canvases: the 60k base points, and the labelled and selected
    // points over them. A label repaints only the small top one (a software
    // WebGL such as SwiftShader spends ~100 ms on 60k points per frame).
    const canvasFor = (name: string) => {
      const c = document.createElement("canvas");
      c.className = `point-layer point-layer-${name}`;
      c.setAttribute("aria-hidden", "true");
      return c;
    };
    const canvases = [canvasFor("base"), canvasFor("top")];
    let base: PointLayer | null = null;
    let top: PointLayer | null = null;
    let index: PointIndex | null = null;
    /** What the layers and the Plotly figure currently show. */
    const drawn = {
      version: -1,
      x: null as Float32Array | null,
      mode: "",
      colorsOf: null as Uint8Array | null,
      userLabel: null as Int8Array | null,
      /** Points in the labelled layer. */
      labelled: 0,
      sel: null as number | null,
      sugg: null as Uint32Array | null,
      drag: "zoom" as DragMode,
      multi: null as Uint32Array | null,
      excluded: null as ReadonlySet<number> | null,
    };

    /** Pixels per latent unit (signed: screen y grows downwards). */
    const scale = (): PixelScale | null => {
      const fl = el._fullLayout;
      if (!fl?.xaxis?.range) return null;
      const [x0, x1] = fl.xaxis.range;
      const [y0, y1] = fl.yaxis.range;
      return {
        sx: fl.xaxis._length / (x1 - x0),
        sy: -fl.yaxis._length / (y1 - y0),
      };
    };

    /** Places the canvases over the plot area and copies the axes' ranges. */
    const syncView = () => {
      const fl = el._fullLayout;
      if (!base || !top || !fl?.xaxis?.range) return;
      const host = el.querySelector(".gl-container") ?? el;
      const { l, t } = fl._size;
      const [x0, x1] = fl.xaxis.range;
      const [y0, y1] = fl.yaxis.range;
      for (const c of canvases) {
        if (c.parentNode !== host) host.appendChild(c);
        c.style.left = `${l}px`;
        c.style.top = `${t}px`;
      }
      for (const layer of [base, top]) {
        layer.resize(fl.xaxis._length, fl.yaxis._length);
        layer.setView({ x0, x1, y0, y1 });
      }
    };

    const mark = (what: string, t0: number, s: LatentSnapshot) =>
      performance.mark("latent-draw", {
        detail: {
          what,
          mode: drawn.mode,
          ms: performance.now() - t0,
          count: s.count,
        },
      });

    /** New positions: the base buffers, sizes and the hit-test index. */
    const upload = (s: LatentSnapshot, mode: ColorMode) => {
      if (!base || !top) {
        base = new PointLayer(canvases[0]);
        top = new PointLayer(canvases[1]);
      }
      index = new PointIndex(s.x, s.y, s.count);
      base.setPoints(
        "base",
        interleave(s.x, s.y, s.count),
        baseColors(s, mode),
      );
      const size = markerSize(s.count);
      base.setStyle("base", { size });
      top.setStyle("labelled", { size: size + 3, outline: 0.3 });
      top.setStyle("selection", { size: size + 1 });
      drawn.mode = mode;
      drawn.colorsOf = s.predClass;
      drawn.userLabel = null;
      drawn.multi = null;
      drawn.x = s.x;
      drawn.version = s.version;
    };

    const markDrawn = (s: LatentSnapshot) => {
      if (ready.value) return;
      ready.value = true;
      performance.mark("latent-drawn", {
        detail: { count: s.count, version: s.version },
      });
      requestAnimationFrame(() => performance.mark("latent-painted"));
    };

    /**
     * The points as soon as the snapshot is here, before Plotly has loaded
     * (its parse is most of a reload): drawn with the layout's own margins
     * and ranges, so Plotly's axes then land around them without a jump.
     */
    const paintEarly = () => {
      const s = store.latent.value;
      if (!s || plotted || disposed || drawn.x === s.x) return;
      try {
        upload(s, store.colorMode.value);
        const p = labelledPoints(s);
        top!.setPoints("labelled", p.xy, p.rgba);
        drawn.userLabel = s.userLabel;
        drawn.labelled = p.index.length;
        const m = LATENT_MARGIN;
        const w = el.clientWidth - m.l - m.r;
        const h = el.clientHeight - m.t - m.b;
        if (w <= 0 || h <= 0) return;
        for (const c of canvases) {
          if (c.parentNode === null) el.appendChild(c);
          c.style.left = `${m.l}px`;
          c.style.top = `${m.t}px`;
        }
        const [x0, x1] = paddedRange(index!.x0, index!.x1);
        const [y0, y1] = paddedRange(index!.y0, index!.y1);
        for (const layer of [base!, top!]) {
          layer.resize(w, h);
          layer.setView({ x0, x1, y0, y1 });
          layer.draw();
        }
        markDrawn(s);
      } catch (e) {
        // Plotly's pass draws them anyway; say why the early one did not.
        console.warn(`early paint of the latent points: ${e}`);
      }
    };

    const draw = coalescedDraw(
      async (Plotly) => {
        if (disposed) return;
        const s = store.latent.value;
        if (!s) return;
        const t0 = performance.now();
        const mode = store.colorMode.value;
        const sel = store.selected.value;
        const a = store.active;
        const sugg = a.suggestions.value;
        const drag = a.dragMode.value;
        const multi = a.selection.value;
        const excluded = a.excluded.value;
        if (!base || !top) {
          base = new PointLayer(canvases[0]);
          top = new PointLayer(canvases[1]);
        }
        let paintBase = false;
        let paintTop = false;

        // 1. New positions (a new model version): the one Plotly re-plot.
        const moved = s.x !== drawn.x || s.version !== drawn.version;
        if (moved || !plotted) {
          if (moved) upload(s, mode);
          // The first plot moves the canvases into Plotly's plot area.
          paintBase = paintTop = true;
          index ??= new PointIndex(s.x, s.y, s.count);
          await Plotly.react(
            el,
            [boundsTrace(index)],
            {
              ...latentLayout(s.version, drag, index),
              shapes: [
                ...suggestionShapes(s, sugg, ringGap(index)),
                ...selectionShapes(s, sel),
              ],
            },
            LATENT_CONFIG,
          );
          toolbarOutOfTabOrder(el);
          drawn.sel = sel;
          drawn.sugg = sugg;
          drawn.drag = drag;
          if (!plotted) {
            plotted = true;
            attach(el);
          }
        }
        // 2. The cheap layers: colours, labels, selection. Painted now, so a
        // label is on screen in the next frame whatever Plotly does after.
        if (mode !== drawn.mode || s.predClass !== drawn.colorsOf) {
          base.setColors("base", baseColors(s, mode));
          paintBase = true;
          drawn.mode = mode;
          drawn.colorsOf = s.predClass;
        }
        if (s.userLabel !== drawn.userLabel) {
          const p = labelledPoints(s);
          top.setPoints("labelled", p.xy, p.rgba);
          paintTop = true;
          drawn.userLabel = s.userLabel;
          drawn.labelled = p.index.length;
        }
        if (multi !== drawn.multi || excluded !== drawn.excluded) {
          if (multi) {
            const p = selectedPoints(s, multi, excluded);
            top.setPoints("selection", p.xy, p.rgba);
          }
          top.setStyle("selection", { visible: multi !== null });
          // The rest of the map fades so the selection stands out.
          base.setStyle("base", { alpha: multi ? 0.35 : 1 });
          top.setStyle("labelled", { alpha: multi ? 0.5 : 1 });
          paintBase = paintTop = true;
          if (multi === null && drawn.multi !== null) {
            // Labelled or cleared: drop Plotly's outline too.
            await Plotly.relayout(el, { selections: [] });
          }
          drawn.multi = multi;
          drawn.excluded = excluded;
        }
        syncView();
        if (paintBase) base.draw();
        if (paintTop) top.draw();
        mark(moved ? "plot" : "layers", t0, s);
        markDrawn(s);
        // 3. The X, the rings and the drag mode: one SVG relayout.
        const update: Record<string, unknown> = {};
        if (!moved && (drawn.sel !== sel || drawn.sugg !== sugg)) {
          update.shapes = [
            ...suggestionShapes(s, sugg, ringGap(index!)),
            ...selectionShapes(s, sel),
          ];
        }
        if (!moved && drawn.drag !== drag) update.dragmode = drag;
        if (Object.keys(update).length > 0) {
          // After the next paint: the points just drawn show first; the SVG
          // relayout (25-45 ms in Plotly) would otherwise hold that frame.
          await afterPaint();
          await Plotly.relayout(el, update);
          toolbarOutOfTabOrder(el);
        }
        drawn.sel = sel;
        drawn.sugg = sugg;
        drawn.drag = drag;
        drawn.version = s.version;
        drawn.x = s.x;
        // Test and bench seam: what is drawn, in latent coordinates.
        Object.assign(el, { latentPoints: { x: s.x, y: s.y, count: s.count } });
        el.dataset.points = String(s.count);
        el.dataset.version = String(s.version);
        el.dataset.mode = mode;
        el.dataset.selected = String(sel ?? "");
        el.dataset.suggestions = Array.from(sugg.subarray(0, 5)).join(",");
        el.dataset.dragmode = drag;
        el.dataset.labelled = String(drawn.labelled);
        el.dataset.highlighted = String(
          multi ? multi.length - excludedIn(multi, excluded) : 0,
        );
        el.dataset.draws = String(Number(el.dataset.draws ?? 0) + 1);
      },
      (e) => {
        store.latentError.value = `Could not draw the latent space: ${
          (e as Error).message
        }`;
      },
    );

    const toLatent = (clientX: number, clientY: number) => {
      const fl = el._fullLayout;
      if (!fl?.xaxis?.range) return null;
      const r = el.getBoundingClientRect();
      const px = clientX - r.left - fl._size.l;
      const py = clientY - r.top - fl._size.t;
      if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) {
        return null;
      }
      return { x: fl.xaxis.p2l(px), y: fl.yaxis.p2l(py), px, py };
    };
    const pointAt = (clientX: number, clientY: number): number => {
      const p = toLatent(clientX, clientY);
      const sc = scale();
      if (!p || !sc || !index) return -1;
      return index.nearest(p.x, p.y, HIT_RADIUS, sc);
    };

    const attach = (el: PlotElement) => {
      // Clicks: our own hit test (Plotly has no trace to hit). A press that
      // moves less than CLICK_SLOP is a click in every drag mode.
      let down: { x: number; y: number } | null = null;
      let beforeClick: number | null = null;
      let lastClick = 0;
      el.addEventListener("mousedown", (ev) => {
        if (ev.button === 0) down = { x: ev.clientX, y: ev.clientY };
      }, true);
      const onUp = (ev: MouseEvent) => {
        if (!down || ev.button !== 0) return;
        const moved = Math.hypot(ev.clientX - down.x, ev.clientY - down.y);
        down = null;
        if (moved > CLICK_SLOP) {
          // A drag (zoom, box) between two clicks: they are no double-click.
          lastClick = 0;
          return;
        }
        const i = pointAt(ev.clientX, ev.clientY);
        if (i < 0) return;
        // The first click of a double-click (zoom reset) must not change the
        // selection: remember what was selected before this click.
        const now = performance.now();
        if (now - lastClick > 500) beforeClick = store.selected.peek();
        lastClick = now;
        store.actions.select(i);
      };
      addEventListener("mouseup", onUp, true);
      el.on("plotly_doubleclick", () => {
        if (beforeClick !== null && beforeClick !== store.selected.peek()) {
          store.actions.select(beforeClick);
        }
      });

      // Hover: tooltip and sample prefetch, once per frame at most.
      let prefetchTimer: ReturnType<typeof setTimeout> | undefined;
      let hoverFrame = 0;
      let last: MouseEvent | null = null;
      el.addEventListener("mousemove", (ev) => {
        last = ev;
        if (hoverFrame) return;
        hoverFrame = requestAnimationFrame(() => {
          hoverFrame = 0;
          const me = last;
          const s = store.latent.value;
          if (!me || !s || down) return;
          const i = pointAt(me.clientX, me.clientY);
          if (i < 0) {
            tip.value = null;
            el.style.cursor = "";
            return;
          }
          el.style.cursor = "pointer";
          const r = wrap.getBoundingClientRect();
          tip.value = {
            x: me.clientX - r.left,
            y: me.clientY - r.top,
            index: i,
          };
          clearTimeout(prefetchTimer);
          prefetchTimer = setTimeout(() => store.actions.prefetch(i), 120);
        });
      });
      el.addEventListener("mouseleave", () => {
        tip.value = null;
        clearTimeout(prefetchTimer);
      });

      // Zoom and pan move the points: follow every step of a drag or wheel.
      // Plotly also fires these after a relayout of the shapes alone: then
      // nothing moved, and repainting 60k points would only cost a frame.
      let shown = "";
      const follow = () => {
        const fl = el._fullLayout;
        if (!fl?.xaxis?.range) return;
        const view = [
          ...fl.xaxis.range,
          ...fl.yaxis.range,
          fl.xaxis._length,
          fl.yaxis._length,
          fl._size.l,
          fl._size.t,
        ].join(",");
        if (view === shown) return;
        shown = view;
        syncView();
        base?.schedule();
        top?.schedule();
      };
      el.on("plotly_relayouting", follow);
      el.on("plotly_afterplot", follow);
      el.on("plotly_relayout", (ev) => {
        follow();
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
      // (lib/active/selection.ts).
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
      // Arrow keys on the focused map walk to the nearest point that way.
      const arrows: Record<string, [number, number]> = {
        ArrowLeft: [-1, 0],
        ArrowRight: [1, 0],
        ArrowUp: [0, -1],
        ArrowDown: [0, 1],
      };
      const onMapKey = (ev: KeyboardEvent) => {
        const d = arrows[ev.key];
        const sc = scale();
        if (!d || !sc || !index) return;
        ev.preventDefault();
        const from = store.selected.peek();
        if (from === null) {
          store.actions.selectNextUncertain();
          return;
        }
        const next = index.step(from, d[0], d[1], sc);
        if (next >= 0) store.actions.select(next);
      };
      wrap.addEventListener("keydown", onMapKey);
      const ro = new ResizeObserver(follow);
      ro.observe(wrap);
      cleanup.push(() => {
        ro.disconnect();
        wrap.removeEventListener("keydown", onMapKey);
        removeEventListener("mouseup", onUp, true);
      });
    };
    const cleanup: Array<() => void> = [];

    const stopEarly = effect(() => {
      void store.latent.value;
      paintEarly();
    });
    // A new drag mode takes effect at once, not at the end of a draw in
    // progress: after a double-click's zoom reset, B lit its button at once
    // but the map stayed in zoom for up to 0.8 s (the draw's relayout came
    // last), so a quick drag zoomed. Plotly's own relayout, now, with the
    // draw told it is done.
    const stopDrag = effect(() => {
      const d = store.active.dragMode.value;
      if (!plotted || drawn.drag === d) return;
      drawn.drag = d;
      void loadPlotly().then(async (Plotly) => {
        await Plotly.relayout(el, { dragmode: d });
        toolbarOutOfTabOrder(el);
      });
    });
    cleanup.push(stopDrag);
    const stop = effect(() => {
      // Subscribe to everything the figure depends on, then draw once.
      void store.latent.value;
      void store.colorMode.value;
      void store.selected.value;
      void store.active.suggestions.value;
      void store.active.dragMode.value;
      void store.active.selection.value;
      void store.active.excluded.value;
      // Not before the snapshot: Plotly's parse (~0.5 s, from the cache on a
      // reload) would otherwise run first and hold the early paint back.
      if (store.latent.value) draw();
    });
    return () => {
      disposed = true;
      stop();
      stopEarly();
      for (const c of cleanup) c();
      base?.dispose();
      top?.dispose();
    };
  }, []);

  const t = tip.value;
  let tipText: string[] | null = null;
  if (t && snap && t.index < snap.count) {
    const ul = snap.userLabel[t.index];
    tipText = [
      `#${t.index}`,
      `Predicted ${className(snap.predClass[t.index])} (${
        certaintyPercent(snap.certainty[t.index])
      }%)`,
      `User label ${ul < 0 ? "–" : className(ul)}`,
    ];
  }

  const status = graphStatusLine(store.graph.value);
  const view = store.ui.view.value;
  return (
    <section class="card latent" aria-labelledby="latent-title">
      <div class="card-head">
        <h2
          id="latent-title"
          title="The model's 2-D latent space (z₁, z₂): images it finds similar lie close together"
        >
          Map <span class="title-aside">· similar images close together</span>
        </h2>
        <span
          class="muted small"
          id="latent-meta"
          title="v: the model's version, one more after every training run"
        >
          {snap
            ? `${snap.count.toLocaleString("en-US")} images · v${snap.version}`
            : "loading…"}
        </span>
        <Segmented
          label="View"
          attr="data-view"
          options={VIEWS}
          value={view}
          onPick={(id) => store.ui.view.value = id}
        />
        {view === "map" && (
          <>
            <Segmented
              label="Colour points by"
              attr="data-mode"
              options={COLOR_MODES}
              value={mode}
              onPick={(id) => store.colorMode.value = id}
            />
            <Segmented
              label="Drag to"
              attr="data-drag"
              options={DRAG_MODES}
              value={dragMode}
              onPick={(id) => store.active.dragMode.value = id}
            />
          </>
        )}
      </div>
      {status && (
        <p
          class={`graph-status graph-status-${status.kind}`}
          id="graph-status"
          role="status"
        >
          {status.text}
        </p>
      )}
      {view === "grid" && <GridView />}
      <div
        class="plot-wrap"
        id="latent-map"
        // Hidden, not gone, in the grid view: Plotly keeps the map's zoom and
        // does not re-plot 60k points when the map comes back.
        hidden={view === "grid"}
        ref={wrapRef}
        tabIndex={0}
        role="application"
        aria-label={`Latent map: arrow keys move between points, ${
          labelKeyRange().join("")
        } label the selected point`}
        aria-describedby="latent-legend"
      >
        <div ref={ref} id="latent-plot" class="latent-plot" />
        {sel && (
          <div class="selection-banner" id="selection-banner" role="status">
            <b>{sel.length.toLocaleString("en-US")}</b> selected: keys{" "}
            <kbd>{labelKeys()[0]}</kbd>–<kbd>{labelKeys()[1]}</kbd> now label
            {" "}
            <b>all of them</b> · <kbd>Esc</kbd> clears
          </div>
        )}
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
      <div class="legend" id="latent-legend" aria-label="Colour legend">
        {mode === "certainty"
          ? (
            <span class="chip certainty-scale">
              <i style={{ background: certaintyCss(26) }} />unsure
              <i style={{ background: certaintyCss(140) }} />
              <i style={{ background: certaintyCss(255) }} />sure
            </span>
          )
          : (
            // Many classes: their chips scroll in a few lines of their own.
            <span
              class={`legend-classes ${
                dataset.value.classes.length > 20 ? "legend-classes-many" : ""
              }`}
            >
              {dataset.value.classes.map((name, d) => (
                <span class="chip" key={d}>
                  <i style={{ background: CLASS_COLORS[d] }} />
                  {name}
                </span>
              ))}
            </span>
          )}
        {mode === "labels" && (
          <span class="chip">
            <i style={{ background: UNLABELLED_COLOR }} />unlabelled
          </span>
        )}
        {mode !== "labels" && (
          <span class="chip">
            <i class="ringed" />labelled (outlined)
          </span>
        )}
        <span class="chip">
          <i class="x">✕</i>selected
        </span>
        <span class="chip">
          <i class="ring-chip" />suggested
        </span>
        {sel && (
          <span class="chip">
            <i style={{ background: SELECTION_COLOR }} />in the selection
          </span>
        )}
        <span class="muted small legend-hint">
          {view === "grid"
            ? "click shows · Ctrl/Shift-click selects · a digit labels"
            : "scroll or drag to zoom · double-click resets"}
        </span>
      </div>
    </section>
  );
}

/** Resolves once the browser has painted the next frame. */
function afterPaint(): Promise<void> {
  return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
}

/** Minimum latent distance between two suggestion rings: 2% of the map. */
function ringGap(index: PointIndex): number {
  return 0.02 * Math.hypot(index.x1 - index.x0, index.y1 - index.y0);
}

function excludedIn(sel: Uint32Array, excluded: ReadonlySet<number>): number {
  if (excluded.size === 0) return 0;
  let c = 0;
  for (const i of sel) if (excluded.has(i)) c++;
  return c;
}

/** A row of radio buttons (one choice of a few); `attr` names each button's id attribute for tests and styles. */
function Segmented<T extends string>(props: {
  label: string;
  attr: "data-mode" | "data-drag" | "data-view";
  options: ReadonlyArray<{ id: T; label: string; title?: string }>;
  value: T;
  onPick(id: T): void;
}) {
  return (
    <div class="segmented" role="radiogroup" aria-label={props.label}>
      {props.options.map((o) => (
        <button
          type="button"
          key={o.id}
          role="radio"
          aria-checked={props.value === o.id}
          class={props.value === o.id ? "on" : ""}
          {...{ [props.attr]: o.id }}
          title={o.title}
          onClick={() => props.onPick(o.id)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
