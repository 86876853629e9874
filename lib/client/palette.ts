/**
 * Colours of the dashboard: one per digit class (distinct on white, none of
 * them red or grey so the red box/lasso selection and grey "unlabelled" stay
 * unique),
 * plus the continuous scale of the certainty mode.
 */

export const CLASS_COLORS: readonly string[] = [
  "#1f77b4", // 0 blue
  "#ff7f0e", // 1 orange
  "#2ca02c", // 2 green
  "#9467bd", // 3 purple
  "#8c564b", // 4 brown
  "#e377c2", // 5 pink
  "#17becf", // 6 cyan
  "#bcbd22", // 7 olive
  "#393b79", // 8 navy
  "#d4a017", // 9 gold
];

export const UNLABELLED_COLOR = "#c5cad3";
/** The selected sample's X (drawn on a white halo). */
export const SELECTED_COLOR = "#101828";
/** Box/lasso-selected points (the rest of the map fades under them). */
export const SELECTION_COLOR = "#e3001b";
/** The suggestion rings (on a white halo). */
export const SUGGESTION_COLOR = "#101828";

/**
 * A stepped Plotly colorscale mapping the values 0..9 (with cmin -0.5, cmax
 * 9.5) to CLASS_COLORS. Lets a Uint8Array of classes be the marker colour
 * array as is: no per-point strings.
 */
export function classColorscale(): Array<[number, string]> {
  const n = CLASS_COLORS.length;
  const scale: Array<[number, string]> = [];
  for (let i = 0; i < n; i++) {
    scale.push([i / n, CLASS_COLORS[i]]);
    scale.push([(i + 1) / n, CLASS_COLORS[i]]);
  }
  return scale;
}

/** Low certainty = warm (look here), high certainty = cool. */
export const CERTAINTY_COLORSCALE: Array<[number, string]> = [
  [0, "#b2182b"],
  [0.25, "#ef8a62"],
  [0.5, "#fddbc7"],
  [0.75, "#67a9cf"],
  [1, "#2166ac"],
];
