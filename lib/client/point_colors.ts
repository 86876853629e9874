/**
 * Per-point RGBA colours of the latent map, as pure functions of a snapshot
 * (unit-tested in Deno). The map's WebGL layer (lib/client/point_layer.ts)
 * uploads these arrays as they are: a colour-mode switch is one buffer
 * upload, a label touches only the small labelled layer.
 */
import type { LatentSnapshot } from "../protocol/latent_format.ts";
import {
  CERTAINTY_COLORSCALE,
  CLASS_COLORS,
  SELECTION_COLOR,
  UNLABELLED_COLOR,
} from "./palette.ts";
import type { ColorMode } from "./store.ts";

/** Point diameter (CSS px) that keeps 60k points readable and 2k visible. */
export function markerSize(count: number): number {
  if (count > 30_000) return 3;
  if (count > 10_000) return 4;
  if (count > 3_000) return 5;
  return 6;
}

/** "#rrggbb" → [r, g, b]. */
export function hexRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

const CLASS_RGB = CLASS_COLORS.map(hexRgb);
const UNLABELLED_RGB = hexRgb(UNLABELLED_COLOR);

/** Opacity of the base points per mode (0–255). */
const BASE_ALPHA: Record<ColorMode, number> = {
  labels: 150,
  predicted: 205,
  certainty: 205,
};

/** 256 RGB entries: certainty byte (round(p·255)) → colour on the scale. */
function certaintyLut(): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  const stops = CERTAINTY_COLORSCALE.map(([t, c]) => [t, ...hexRgb(c)]);
  // The scale spans 10% (chance for 10 classes) to 100%.
  const lo = 25.5;
  for (let b = 0; b < 256; b++) {
    const t = Math.min(1, Math.max(0, (b - lo) / (255 - lo)));
    let k = 1;
    while (k < stops.length - 1 && stops[k][0] < t) k++;
    const [t0, r0, g0, b0] = stops[k - 1];
    const [t1, r1, g1, b1] = stops[k];
    const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
    lut[3 * b] = Math.round(r0 + f * (r1 - r0));
    lut[3 * b + 1] = Math.round(g0 + f * (g1 - g0));
    lut[3 * b + 2] = Math.round(b0 + f * (b1 - b0));
  }
  return lut;
}
const CERTAINTY_LUT = certaintyLut();

/** The certainty scale's colour of a certainty byte, as "rgb(r,g,b)". */
export function certaintyCss(byte: number): string {
  const b = Math.max(0, Math.min(255, Math.round(byte)));
  return `rgb(${CERTAINTY_LUT[3 * b]},${CERTAINTY_LUT[3 * b + 1]},${
    CERTAINTY_LUT[3 * b + 2]
  })`;
}

/**
 * Colours of every point in `mode`. "labels" greys every point (the labelled
 * layer draws the labels on top, so a label never recolours the 60k),
 * "predicted" colours by predicted class, "certainty" along the red→blue scale.
 */
export function baseColors(snap: LatentSnapshot, mode: ColorMode): Uint8Array {
  const n = snap.count;
  const out = new Uint8Array(4 * n);
  const a = BASE_ALPHA[mode];
  if (mode === "labels") {
    const [r, g, b] = UNLABELLED_RGB;
    for (let i = 0; i < n; i++) {
      out[4 * i] = r;
      out[4 * i + 1] = g;
      out[4 * i + 2] = b;
      out[4 * i + 3] = a;
    }
  } else if (mode === "predicted") {
    for (let i = 0; i < n; i++) {
      const c = CLASS_RGB[snap.predClass[i]] ?? UNLABELLED_RGB;
      out[4 * i] = c[0];
      out[4 * i + 1] = c[1];
      out[4 * i + 2] = c[2];
      out[4 * i + 3] = a;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const k = 3 * snap.certainty[i];
      out[4 * i] = CERTAINTY_LUT[k];
      out[4 * i + 1] = CERTAINTY_LUT[k + 1];
      out[4 * i + 2] = CERTAINTY_LUT[k + 2];
      out[4 * i + 3] = a;
    }
  }
  return out;
}

/** A subset of points with its own positions and colours (one draw call). */
export interface PointSubset {
  /** Sample index of each point. */
  index: Uint32Array;
  /** Interleaved x, y in latent coordinates. */
  xy: Float32Array;
  rgba: Uint8Array;
}

/** The labelled points, coloured by their user label (drawn in every mode). */
export function labelledPoints(snap: LatentSnapshot): PointSubset {
  const ul = snap.userLabel;
  let n = 0;
  for (let i = 0; i < snap.count; i++) if (ul[i] >= 0) n++;
  const index = new Uint32Array(n);
  const xy = new Float32Array(2 * n);
  const rgba = new Uint8Array(4 * n);
  let j = 0;
  for (let i = 0; i < snap.count; i++) {
    const l = ul[i];
    if (l < 0) continue;
    const c = CLASS_RGB[l] ?? UNLABELLED_RGB;
    index[j] = i;
    xy[2 * j] = snap.x[i];
    xy[2 * j + 1] = snap.y[i];
    rgba.set(c, 4 * j);
    rgba[4 * j + 3] = 255;
    j++;
  }
  return { index, xy, rgba };
}

const SELECTION_RGB = hexRgb(SELECTION_COLOR);

/** The box/lasso-selected points, in the selection colour. */
export function selectedPoints(
  snap: LatentSnapshot,
  indices: Uint32Array,
  excluded: ReadonlySet<number> = new Set(),
): PointSubset {
  const keep = excluded.size === 0
    ? indices
    : indices.filter((i) => !excluded.has(i));
  const n = keep.length;
  const xy = new Float32Array(2 * n);
  const rgba = new Uint8Array(4 * n);
  for (let j = 0; j < n; j++) {
    const i = keep[j];
    xy[2 * j] = snap.x[i];
    xy[2 * j + 1] = snap.y[i];
    rgba.set(SELECTION_RGB, 4 * j);
    rgba[4 * j + 3] = 255;
  }
  return { index: Uint32Array.from(keep), xy, rgba };
}
