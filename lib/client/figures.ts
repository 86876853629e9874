/**
 * Plotly figures of the dashboard, as pure functions of the state (unit-tested
 * in Deno). The latent figure hands Plotly the snapshot's typed arrays as they
 * are: no per-point objects or strings, colours as one numeric array mapped
 * through a colorscale.
 */
import type { LatentSnapshot } from "./latent.ts";
import {
  CERTAINTY_COLORSCALE,
  CLASS_COLORS,
  classColorscale,
  SELECTED_COLOR,
  UNLABELLED_COLOR,
} from "./palette.ts";
import type { ColorMode } from "./store.ts";
import type { HistoryEntry, MetricName } from "./types.ts";

// deno-lint-ignore no-explicit-any
type Trace = Record<string, any>;
// deno-lint-ignore no-explicit-any
type Layout = Record<string, any>;

/** Colour of box/lasso-selected points. */
export const SELECTION_COLOR = "#1d4ed8";

/** Curve numbers of the latent figure. */
export const TRACE_POINTS = 0;
export const TRACE_LABELLED = 1;

/** Labelled points of a snapshot (the overlay of the "user labels" mode). */
export interface LabelledSubset {
  index: Int32Array;
  x: Float32Array;
  y: Float32Array;
  label: Uint8Array;
}

export function labelledSubset(snap: LatentSnapshot): LabelledSubset {
  let n = 0;
  const ul = snap.userLabel;
  for (let i = 0; i < snap.count; i++) if (ul[i] >= 0) n++;
  const out = {
    index: new Int32Array(n),
    x: new Float32Array(n),
    y: new Float32Array(n),
    label: new Uint8Array(n),
  };
  let j = 0;
  for (let i = 0; i < snap.count; i++) {
    if (ul[i] >= 0) {
      out.index[j] = i;
      out.x[j] = snap.x[i];
      out.y[j] = snap.y[i];
      out.label[j] = ul[i];
      j++;
    }
  }
  return out;
}

/** Marker size that keeps 60k points readable and 2k points visible. */
export function markerSize(count: number): number {
  if (count > 30_000) return 3;
  if (count > 10_000) return 4;
  if (count > 3_000) return 5;
  return 6;
}

export interface LatentFigureInput {
  snap: LatentSnapshot;
  mode: ColorMode;
  /** Precomputed overlay (cached by the caller per userLabel array). */
  labelled: LabelledSubset;
}

const EMPTY = new Float32Array(0);

export function latentTraces(
  { snap, mode, labelled }: LatentFigureInput,
): Trace[] {
  const size = markerSize(snap.count);
  const points: Trace = {
    type: "scattergl",
    mode: "markers",
    name: "points",
    x: snap.x,
    y: snap.y,
    hoverinfo: "none",
    marker: { size, opacity: 0.75 },
  };
  if (mode === "labels") {
    points.marker = { size, color: UNLABELLED_COLOR, opacity: 0.6 };
  } else if (mode === "predicted") {
    points.marker = {
      size,
      opacity: 0.8,
      color: snap.predClass,
      colorscale: classColorscale(),
      cmin: -0.5,
      cmax: 9.5,
      showscale: false,
    };
  } else {
    points.marker = {
      size,
      opacity: 0.8,
      color: snap.certainty,
      colorscale: CERTAINTY_COLORSCALE,
      cmin: 25.5,
      cmax: 255,
      showscale: true,
      colorbar: {
        title: { text: "Certainty", side: "right" },
        tickvals: [25.5, 76.5, 127.5, 178.5, 229.5, 255],
        ticktext: ["10%", "30%", "50%", "70%", "90%", "100%"],
        thickness: 12,
        len: 0.9,
        outlinewidth: 0,
      },
    };
  }
  // Box/lasso selection: the chosen points stand out, the rest fade.
  points.selected = { marker: { color: SELECTION_COLOR, opacity: 1 } };
  points.unselected = { marker: { opacity: 0.15 } };
  const showOverlay = mode === "labels";
  const overlay: Trace = {
    type: "scattergl",
    mode: "markers",
    name: "labelled",
    x: showOverlay ? labelled.x : EMPTY,
    y: showOverlay ? labelled.y : EMPTY,
    hoverinfo: "none",
    marker: {
      size: size + 3,
      color: showOverlay ? labelled.label : [],
      colorscale: classColorscale(),
      cmin: -0.5,
      cmax: 9.5,
      showscale: false,
      line: { width: 0.5, color: "#ffffff" },
    },
  };
  return [points, overlay];
}

export function latentLayout(
  version: number,
  dragmode: "zoom" | "pan" | "select" | "lasso" = "zoom",
): Layout {
  return {
    // Same revision = Plotly.react keeps the user's zoom and pan. A new
    // latent version (after training) moves every point: start fresh then.
    uirevision: `latent-v${version}`,
    margin: { l: 44, r: 8, t: 8, b: 36 },
    hovermode: "closest",
    dragmode,
    showlegend: false,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    font: {
      family: "Inter, system-ui, sans-serif",
      size: 11,
      color: "#475467",
    },
    xaxis: {
      title: { text: "z₁", standoff: 4 },
      zeroline: false,
      gridcolor: "#eef0f3",
      showline: false,
    },
    yaxis: {
      title: { text: "z₂", standoff: 4 },
      zeroline: false,
      gridcolor: "#eef0f3",
      showline: false,
    },
  };
}

export const LATENT_CONFIG = {
  responsive: true,
  displaylogo: false,
  scrollZoom: true,
  doubleClickDelay: 500,
  // Box and lasso select label many points at once (islands/SelectionPanel.tsx).
  modeBarButtonsToRemove: ["autoScale2d"],
};

/** Maps a Plotly click point to a sample index. */
export function pointToIndex(
  curveNumber: number,
  pointIndex: number,
  labelled: LabelledSubset,
): number | null {
  if (curveNumber === TRACE_POINTS) return pointIndex;
  if (curveNumber === TRACE_LABELLED) return labelled.index[pointIndex] ?? null;
  return null;
}

/**
 * The red X on the selected point: a layout shape sized in pixels and
 * anchored at the point. Moving it is a cheap `Plotly.relayout` of the
 * shapes (SVG), not a re-render of 60k WebGL points.
 */
export function selectionShapes(
  snap: LatentSnapshot,
  selected: number | null,
): Trace[] {
  if (selected === null || selected < 0 || selected >= snap.count) return [];
  const base = {
    type: "path",
    xref: "x",
    yref: "y",
    xsizemode: "pixel",
    ysizemode: "pixel",
    xanchor: snap.x[selected],
    yanchor: snap.y[selected],
    path: "M-7,-7L7,7M-7,7L7,-7",
    layer: "above",
    name: "selected",
  };
  return [
    { ...base, line: { color: "#ffffff", width: 5 } },
    { ...base, line: { color: SELECTED_COLOR, width: 3 } },
  ];
}

/** Colour of the suggestion rings. */
export const SUGGESTION_COLOR = "#f79009";

/**
 * Rings around the top suggestions: pixel-sized circles anchored at the
 * points, drawn with the selection X by one cheap `relayout` of the shapes.
 * The best suggestion gets a thicker ring.
 */
export function suggestionShapes(
  snap: LatentSnapshot,
  indices: ArrayLike<number>,
): Trace[] {
  const out: Trace[] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (i < 0 || i >= snap.count) continue;
    const r = k === 0 ? 8 : 6;
    out.push({
      type: "circle",
      xref: "x",
      yref: "y",
      xsizemode: "pixel",
      ysizemode: "pixel",
      xanchor: snap.x[i],
      yanchor: snap.y[i],
      x0: -r,
      x1: r,
      y0: -r,
      y1: r,
      layer: "above",
      name: k === 0 ? "suggestion-top" : "suggestion",
      line: { color: SUGGESTION_COLOR, width: k === 0 ? 2.5 : 1.5 },
    });
  }
  return out;
}

// ---- loss curves ----------------------------------------------------------

const COMPONENTS: Array<{ key: MetricName; label: string; color: string }> = [
  { key: "reconstruction_loss", label: "recon", color: "#0e9384" },
  { key: "kl_loss", label: "KL", color: "#7a5af8" },
  { key: "classification_loss", label: "class", color: "#dc6803" },
];

const TRAIN_COLOR = "#1d4ed8";
const VAL_COLOR = "#b42318";

/** x values: the entries' epochs if they increase, else 1..n. */
export function epochAxis(history: HistoryEntry[]): number[] {
  const e = history.map((h) => h.epoch);
  const increasing = e.every((v, i) =>
    Number.isFinite(v) && (i === 0 || v > e[i - 1])
  );
  return increasing ? e : history.map((_, i) => i + 1);
}

export function lossTraces(history: HistoryEntry[]): Trace[] {
  const x = epochAxis(history);
  const col = (split: "train" | "val", key: MetricName) =>
    history.map((h) => {
      const v = h[split]?.[key];
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    });
  const traces: Trace[] = [];
  for (const c of COMPONENTS) {
    for (const split of ["train", "val"] as const) {
      traces.push({
        type: "scatter",
        mode: history.length > 1 ? "lines" : "lines+markers",
        name: `${split} ${c.label}`,
        legendgroup: c.key,
        showlegend: split === "train",
        x,
        y: col(split, c.key),
        line: {
          color: c.color,
          width: 1.25,
          dash: split === "train" ? "solid" : "dash",
        },
        marker: { size: 4 },
        opacity: 0.45,
        hovertemplate: "%{y:.4g}",
      });
    }
  }
  traces.push({
    type: "scatter",
    mode: "lines+markers",
    name: "train total",
    x,
    y: col("train", "loss"),
    line: { color: TRAIN_COLOR, width: 3 },
    marker: { size: 5 },
    hovertemplate: "%{y:.4g}",
  });
  traces.push({
    type: "scatter",
    mode: "lines+markers",
    name: "val total",
    x,
    y: col("val", "loss"),
    line: { color: VAL_COLOR, width: 3, dash: "dash" },
    marker: { size: 5, symbol: "diamond" },
    hovertemplate: "%{y:.4g}",
  });
  return traces;
}

export function lossLayout(): Layout {
  return {
    uirevision: "loss",
    margin: { l: 48, r: 8, t: 28, b: 34 },
    hovermode: "x unified",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    font: {
      family: "Inter, system-ui, sans-serif",
      size: 11,
      color: "#475467",
    },
    legend: {
      orientation: "h",
      x: 0,
      y: 1.02,
      yanchor: "bottom",
      font: { size: 10 },
    },
    xaxis: {
      title: { text: "epoch", standoff: 2 },
      gridcolor: "#eef0f3",
      zeroline: false,
      tickformat: "d",
      rangemode: "tozero",
    },
    yaxis: {
      type: "log",
      gridcolor: "#eef0f3",
      zeroline: false,
      // Plain numbers (0.5, 1, 2, 5, 10…) instead of Plotly's "D" digits.
      dtick: "D2",
      tickformat: "~g",
    },
  };
}

export const LOSS_CONFIG = {
  responsive: true,
  displaylogo: false,
  displayModeBar: false,
};

/** CSS colour of a class (legend chips, bars). */
export function classColor(c: number): string {
  return CLASS_COLORS[c] ?? UNLABELLED_COLOR;
}
