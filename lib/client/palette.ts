/**
 * Colours of the dashboard: one per class (distinct on white, none of them
 * red or grey so the red box/lasso selection and grey "unlabelled" stay
 * unique), plus the continuous scale of the certainty mode.
 */

import { MAX_CLASSES } from "../protocol/limits.ts";

/** The first ten classes' colours (MNIST's digits; every folder's first ten). */
const FIRST_TEN = [
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

/**
 * Colours of classes 10 and up, picked once: from a grid of hues (away from
 * the selection's red), saturations and lightnesses dark enough for white
 * text on a label button, each next colour is the candidate farthest (in
 * CIELAB, roughly as eyes judge) from every colour already in use — the
 * first ten, the selection red and the unlabelled grey included. So the
 * classes a folder adds first are the most distinct; past ~30 some pairs are
 * inevitably close, and the names (legend, tooltips) tell them apart.
 */
function extraColors(count: number, taken: string[]): string[] {
  const candidates: string[] = [];
  for (let h = 30; h <= 330; h += 6) {
    for (const s of [0.45, 0.68]) {
      for (const l of [0.3, 0.41, 0.52]) candidates.push(hslHex(h, s, l));
    }
  }
  const lab = candidates.map(hexLab);
  // Distance of every candidate to the nearest colour in use.
  const near = lab.map(() => Infinity);
  const use = (c: [number, number, number]) =>
    lab.forEach((x, i) => {
      near[i] = Math.min(
        near[i],
        Math.hypot(x[0] - c[0], x[1] - c[1], x[2] - c[2]),
      );
    });
  taken.forEach((hex) => use(hexLab(hex)));
  const out: string[] = [];
  while (out.length < count) {
    let best = 0;
    for (let i = 1; i < near.length; i++) if (near[i] > near[best]) best = i;
    out.push(candidates[best]);
    use(lab[best]);
    near[best] = -1;
  }
  return out;
}

/** Linear-light sRGB channels (0..1) of "#rrggbb". */
function linearRgb(hex: string): number[] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255].map((c) => {
    const x = c / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  });
}

/** WCAG 2's contrast ratio of two "#rrggbb" colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = linearRgb(hex);
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Dark text, for light fills: black, not the page's ink (#101828), because
 * only white and black together reach 4.5:1 on every fill (the worse fill
 * for both, luminance ~0.18, still gives √21 ≈ 4.58:1).
 */
export const DARK_INK = "#000000";

/**
 * The text colour on a fill of `hex` (a pressed label button): white or
 * black, whichever reads better. White on the olive, gold, orange, cyan,
 * green and pink of the first ten read 2.0–3.4:1, under WCAG AA's 4.5:1;
 * the better of the two is ≥ 4.58:1 on any colour (tests/e2e_ux_test.ts
 * checks every class colour).
 */
export function inkOn(hex: string): string {
  return contrastRatio("#ffffff", hex) >= contrastRatio(DARK_INK, hex)
    ? "#ffffff"
    : DARK_INK;
}

/** CIELAB (D65) of "#rrggbb". */
function hexLab(hex: string): [number, number, number] {
  const lin = linearRgb(hex);
  const xyz = [
    (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047,
    0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2],
    (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883,
  ].map((t) => t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [
    116 * xyz[1] - 16,
    500 * (xyz[0] - xyz[1]),
    200 * (xyz[1] - xyz[2]),
  ];
}

/** "#rrggbb" of an HSL colour (h in degrees, s and l in 0..1). */
export function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * v).toString(16).padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

export const UNLABELLED_COLOR = "#c5cad3";
/** The selected sample's X (drawn on a white halo). */
export const SELECTED_COLOR = "#101828";
/** Box/lasso-selected points (the rest of the map fades under them). */
export const SELECTION_COLOR = "#e3001b";
/** The suggestion rings (on a white halo). */
export const SUGGESTION_COLOR = "#101828";

/** One colour per class, for as many classes as a data set may have. */
export const CLASS_COLORS: readonly string[] = [
  ...FIRST_TEN,
  ...extraColors(MAX_CLASSES - FIRST_TEN.length, [
    ...FIRST_TEN,
    SELECTION_COLOR,
    UNLABELLED_COLOR,
    "#ffffff",
  ]),
];

/**
 * A stepped Plotly colorscale mapping the values 0..n-1 (with cmin -0.5,
 * cmax n-0.5) to CLASS_COLORS. Lets a Uint8Array of classes be the marker
 * colour array as is: no per-point strings.
 */
export function classColorscale(n = 10): Array<[number, string]> {
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
