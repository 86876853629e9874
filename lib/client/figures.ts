/**
 * Plotly figures of the dashboard, as pure functions of the state (unit-tested
 * in Deno). The latent figure hands Plotly the snapshot's typed arrays as they
 * are: no per-point objects or strings, colours as one numeric array mapped
 * through a colorscale.
 */
import type { LatentSnapshot } from "../protocol/latent_format.ts";
import {
  CLASS_COLORS,
  SELECTED_COLOR,
  SUGGESTION_COLOR,
  UNLABELLED_COLOR,
} from "./palette.ts";
import type { HistoryEntry, MetricName } from "../protocol/api.ts";

// deno-lint-ignore no-explicit-any
type Trace = Record<string, any>;
// deno-lint-ignore no-explicit-any
type Layout = Record<string, any>;

/**
 * The latent figure's only Plotly trace: two invisible points at the corners
 * of the map's bounding box. The points themselves are drawn by our WebGL
 * layer (lib/client/point_layer.ts); Plotly keeps the axes, zoom, pan, the
 * box/lasso outline and the SVG shapes, and needs a trace for the select
 * modes to work.
 */
export function boundsTrace(
  bounds: { x0: number; x1: number; y0: number; y1: number },
): Trace {
  return {
    type: "scatter",
    mode: "markers",
    name: "bounds",
    x: [bounds.x0, bounds.x1],
    y: [bounds.y0, bounds.y1],
    hoverinfo: "none",
    marker: { size: 1, opacity: 0 },
    // Plotly's own dimming of unselected points would hide nothing here.
    selected: { marker: { opacity: 0 } },
    unselected: { marker: { opacity: 0 } },
  };
}

/** The latent plot's margins (px): its plot area, also before Plotly loads. */
/** What every chart of the page shares: transparent paper, white plot, one font. */
export const CHART_STYLE = {
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "#ffffff",
  font: {
    family: "Inter, system-ui, sans-serif",
    size: 11,
    color: "#475467",
  },
} as const;

export const LATENT_MARGIN = { l: 44, r: 8, t: 8, b: 36 } as const;

/** Axis ranges that show every point with a margin of 4%. */
export function paddedRange(lo: number, hi: number): [number, number] {
  const pad = (hi - lo) * 0.04 || 1;
  return [lo - pad, hi + pad];
}

export function latentLayout(
  version: number,
  dragmode: "zoom" | "pan" | "select" | "lasso" = "zoom",
  bounds: { x0: number; x1: number; y0: number; y1: number } = {
    x0: -1,
    x1: 1,
    y0: -1,
    y1: 1,
  },
): Layout {
  return {
    // Same revision = Plotly.react keeps the user's zoom and pan. A new
    // latent version (after training) moves every point: start fresh then.
    uirevision: `latent-v${version}`,
    margin: { ...LATENT_MARGIN },
    hovermode: "closest",
    dragmode,
    showlegend: false,
    ...CHART_STYLE,
    xaxis: {
      title: { text: "z₁", standoff: 4 },
      // Fixed ranges (double-click returns to them): the corners trace is
      // invisible, so Plotly's autorange padding is computed here.
      range: paddedRange(bounds.x0, bounds.x1),
      zeroline: false,
      gridcolor: "#eef0f3",
      showline: false,
    },
    yaxis: {
      title: { text: "z₂", standoff: 4 },
      range: paddedRange(bounds.y0, bounds.y1),
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
  // Plotly's "double-click to zoom back out" notice covered the page's
  // buttons; the legend says it instead.
  showTips: false,
  // Box and lasso select label many points at once (islands/SelectionPanel.tsx).
  modeBarButtonsToRemove: ["autoScale2d"],
};

/** A Plotly shape's anchor at point `i`, sized in pixels (it keeps its size on zoom). */
function pinnedTo(snap: LatentSnapshot, i: number) {
  return {
    xref: "x",
    yref: "y",
    xsizemode: "pixel",
    ysizemode: "pixel",
    xanchor: snap.x[i],
    yanchor: snap.y[i],
  };
}

/**
 * The X on the selected point (dark on a white halo: visible on every
 * class colour and on both ends of the certainty scale): a layout shape sized in pixels and
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
    ...pinnedTo(snap, selected),
    path: "M-7,-7L7,7M-7,7L7,-7",
    layer: "above",
    name: "selected",
  };
  return [
    { ...base, line: { color: "#ffffff", width: 6 } },
    { ...base, line: { color: SELECTED_COLOR, width: 2.5 } },
  ];
}

/**
 * Rings around the top suggestions: pixel-sized circles anchored at the
 * points, drawn with the selection X by one cheap `relayout` of the shapes.
 * Dark on a white halo, so no class colour hides them; the best suggestion
 * gets a thicker ring. A suggestion within `minGap` (latent units) of one
 * already ringed gets none: a queue that favours one region would otherwise
 * pile 20 rings onto one spot.
 */
export function suggestionShapes(
  snap: LatentSnapshot,
  indices: ArrayLike<number>,
  minGap = 0,
): Trace[] {
  const out: Trace[] = [];
  const kept: number[] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (i < 0 || i >= snap.count) continue;
    const near = kept.some((j) =>
      Math.hypot(snap.x[j] - snap.x[i], snap.y[j] - snap.y[i]) < minGap
    );
    if (near) continue;
    kept.push(i);
    const top = kept.length === 1;
    const r = top ? 8 : 6;
    const ring = {
      type: "circle",
      ...pinnedTo(snap, i),
      x0: -r,
      x1: r,
      y0: -r,
      y1: r,
      layer: "above",
      name: top ? "suggestion-top" : "suggestion",
    };
    out.push(
      { ...ring, line: { color: "#ffffff", width: top ? 5 : 4 } },
      { ...ring, line: { color: SUGGESTION_COLOR, width: top ? 2.5 : 1.5 } },
    );
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

/** The running epoch's loss so far (from the `batch` progress messages). */
export interface LivePoint {
  /** Fractional epoch: epochs done + batches done / batches. */
  x: number;
  loss: number;
}

export function lossTraces(
  history: HistoryEntry[],
  live: LivePoint | null = null,
): Trace[] {
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
  if (live && Number.isFinite(live.loss) && live.loss > 0) {
    // The first point of a run shows before its first epoch ends.
    traces.push({
      type: "scatter",
      mode: "markers",
      name: "train (this epoch)",
      x: [live.x],
      y: [live.loss],
      marker: {
        size: 8,
        color: "rgba(0,0,0,0)",
        line: { color: TRAIN_COLOR, width: 2 },
      },
      hovertemplate: "%{y:.4g} (running mean)",
    });
  }
  return traces;
}

/** Epoch ticks: whole numbers only, at most ~8 of them. */
export function epochTicks(last: number): { tick0: number; dtick: number } {
  const n = Math.max(1, Math.ceil(last));
  const nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
  const dtick = nice.find((d) => n / d <= 8) ?? Math.ceil(n / 8);
  return { tick0: 0, dtick };
}

export function lossLayout(lastEpoch = 1): Layout {
  const ticks = epochTicks(lastEpoch);
  return {
    uirevision: "loss",
    margin: { l: 48, r: 8, t: 28, b: 34 },
    hovermode: "x unified",
    ...CHART_STYLE,
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
      // Plotly's automatic ticks on a few epochs read "0 1 1 2 2".
      tickmode: "linear",
      tick0: ticks.tick0,
      dtick: ticks.dtick,
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
