/**
 * Plotly figures of the evaluation card, pure functions of the run records:
 * test accuracy against the number of labels (one point per run), and the
 * confusion matrix of the latest run.
 */
import { dataset } from "./dataset.ts";
import type { RunRecord } from "../protocol/api.ts";
import { CHART_STYLE } from "./figures.ts";

// deno-lint-ignore no-explicit-any
type Trace = Record<string, any>;
// deno-lint-ignore no-explicit-any
type Layout = Record<string, any>;

const pct = (v: number) => Math.round(v * 10000) / 100;

/** 7 → "7", 1135 → "1.1k", 12000 → "12k": fits a confusion-matrix cell. */
export function compactCount(v: number): string {
  if (v < 1000) return String(v);
  if (v < 10_000) return `${(v / 1000).toFixed(1)}k`;
  return `${Math.round(v / 1000)}k`;
}

/**
 * One point per run; the line joins them by number of labels (in run order
 * it zig-zagged whenever labels were removed or a run repeated a count). The
 * newest run's marker is the big one.
 */
export function accuracyTraces(records: RunRecord[]): Trace[] {
  const newest = records.at(-1);
  const runs = [...records].sort((a, b) =>
    a.labels - b.labels || a.run - b.run
  );
  return [{
    type: "scatter",
    mode: runs.length > 1 ? "lines+markers" : "markers",
    name: "test accuracy",
    x: runs.map((r) => r.labels),
    y: runs.map((r) => pct(r.accuracy.overall)),
    text: runs.map((r) =>
      `run ${r.run}: ${r.epochs} epoch${r.epochs === 1 ? "" : "s"}` +
      (r.outcome === "complete" ? "" : ` (${r.outcome})`)
    ),
    hovertemplate: "%{y:.2f}% with %{x} labels<br>%{text}<extra></extra>",
    line: { color: "#1d4ed8", width: 2 },
    marker: {
      size: runs.map((r) => (r === newest ? 11 : 7)),
      color: "#1d4ed8",
      line: { color: "#ffffff", width: 1 },
    },
  }];
}

export function accuracyLayout(): Layout {
  return {
    uirevision: "accuracy",
    margin: { l: 44, r: 8, t: 8, b: 36 },
    ...CHART_STYLE,
    showlegend: false,
    hovermode: "closest",
    xaxis: {
      title: { text: "labels", standoff: 2 },
      gridcolor: "#eef0f3",
      zeroline: false,
      rangemode: "tozero",
    },
    yaxis: {
      title: { text: "test accuracy %", standoff: 2 },
      gridcolor: "#eef0f3",
      zeroline: false,
      range: [0, 100],
    },
  };
}

/**
 * The confusion matrix (rows = true class, columns = predicted), coloured by
 * the share of each true class, with the counts written in the cells and
 * each row's accuracy in its tick label.
 */
export function confusionTraces(
  run: RunRecord,
  classes: string[] = dataset.value.classes,
): Trace[] {
  // The run holds 10 × 10 counts up to ten classes; a data set of fewer
  // classes shows its own.
  const k = Math.min(classes.length, run.confusion.length);
  const m = run.confusion.slice(0, k).map((row) => row.slice(0, k));
  const share = m.map((row) => {
    const n = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (n ? v / n : 0));
  });
  return [{
    type: "heatmap",
    z: share,
    // Cells are ~25 px wide: 4-digit counts read "1.1k" (exact on hover).
    text: m.map((row) => row.map(compactCount)),
    customdata: m,
    // Past TEXT_CLASSES the cells are too small for numbers: hover says them.
    texttemplate: k > TEXT_CLASSES ? "" : "%{text}",
    // 11 px where cells are ten to a panel (9 px read as fine print); 9 px
    // in the 24-px cells of a larger, scrolling matrix.
    textfont: { size: k > 10 ? 9 : 11 },
    x: m.map((_, c) => classes[c]),
    y: m.map((_, c) => classes[c]),
    colorscale: [[0, "#ffffff"], [0.15, "#dbe7ff"], [1, "#1d4ed8"]],
    zmin: 0,
    zmax: 1,
    showscale: false,
    xgap: 1,
    ygap: 1,
    hovertemplate:
      "true %{y}, predicted %{x}: %{customdata} (%{z:.1%} of true %{y})<extra></extra>",
  }];
}

/** Up to this many classes the confusion matrix writes counts in its cells. */
export const TEXT_CLASSES = 20;

/**
 * Past ten classes the matrix gets a size of its own, `cellPx` per class
 * (its panel scrolls): squeezed into the panel its cells and names would
 * become unreadable. Null: it fills the panel (ten classes or fewer).
 */
export function confusionSize(
  classes: string[] = dataset.value.classes,
  panelWidth = 0,
): { width: number; height: number } | null {
  const k = classes.length;
  if (k <= 10) return null;
  const m = confusionMargin(classes);
  const cell = k > TEXT_CLASSES ? 14 : 24;
  return {
    width: Math.max(panelWidth, m.l + m.r + cell * k),
    height: m.t + m.b + cell * k,
  };
}

function confusionMargin(classes: string[]) {
  return {
    l: Math.max(64, 16 + 7 * Math.max(...classes.map((c) => c.length + 6))),
    r: 8,
    t: 8,
    // Room for the class names, drawn at an angle when long.
    b: Math.max(36, 24 + 5 * Math.max(...classes.map((c) => c.length))),
  };
}

export function confusionLayout(
  run: RunRecord,
  classes: string[] = dataset.value.classes,
  panelWidth = 0,
): Layout {
  const acc = run.accuracy.perClass.slice(0, classes.length);
  const size = confusionSize(classes, panelWidth);
  return {
    margin: confusionMargin(classes),
    ...(size ? { ...size, autosize: false } : {}),
    ...CHART_STYLE,
    xaxis: {
      title: { text: "predicted", standoff: 2 },
      type: "category",
      side: "bottom",
      automargin: true,
      tickangle: classes.some((c) => c.length > 3)
        ? (classes.length > 10 ? -60 : -35)
        : 0,
    },
    yaxis: {
      title: { text: "true", standoff: 2 },
      type: "category",
      automargin: true,
      autorange: "reversed",
      tickvals: acc.map((_, c) => classes[c]),
      ticktext: acc.map((a, c) => `${classes[c]} · ${Math.round(100 * a)}%`),
    },
  };
}

export const EVAL_CONFIG = {
  responsive: true,
  displaylogo: false,
  displayModeBar: false,
};
