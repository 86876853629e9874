/** Maps a lasso polygon or a box drawn on the latent plot to sample indices. */

/** A point in data (latent) coordinates. */
export interface Point {
  x: number;
  y: number;
}

/** Whether (x, y) lies inside `polygon` (even-odd rule; the polygon closes itself). */
export function insidePolygon(x: number, y: number, polygon: Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i], b = polygon[j];
    if (
      (a.y > y) !== (b.y > y) &&
      x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x
    ) {
      inside = !inside;
    }
  }
  return inside;
}

/** Indices of the points (xs[i], ys[i]) inside `polygon`, ascending. */
export function selectInPolygon(
  xs: Float32Array,
  ys: Float32Array,
  polygon: Point[],
): Uint32Array {
  if (polygon.length < 3) return new Uint32Array(0);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const p of polygon) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i], y = ys[i];
    // The bounding box rejects most points before the exact test.
    if (x < minX || x > maxX || y < minY || y > maxY) continue;
    if (insidePolygon(x, y, polygon)) out.push(i);
  }
  return Uint32Array.from(out);
}

/** Indices of the points inside the box [x0, x1] × [y0, y1] (corners in any order). */
export function selectInBox(
  xs: Float32Array,
  ys: Float32Array,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
): Uint32Array {
  const [lx, hx] = x0 <= x1 ? [x0, x1] : [x1, x0];
  const [ly, hy] = y0 <= y1 ? [y0, y1] : [y1, y0];
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] >= lx && xs[i] <= hx && ys[i] >= ly && ys[i] <= hy) out.push(i);
  }
  return Uint32Array.from(out);
}
