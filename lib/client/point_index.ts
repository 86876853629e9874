/**
 * Which point is under the mouse: a uniform grid over the latent map's
 * bounding box, built once per snapshot (60k points ≈ 2 ms). Queries run in
 * pixel distance, so they stay right at any zoom; the map's click, hover and
 * arrow-key moves use it (the points are drawn by our WebGL layer, not by a
 * Plotly trace, so Plotly cannot hit-test them).
 */

const CELLS = 128;

/** Pixels per latent unit along each axis (from the plot's axes). */
export interface PixelScale {
  sx: number;
  sy: number;
}

export class PointIndex {
  readonly count: number;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  #cw: number;
  #ch: number;
  /** Points of cell c: order[start[c] .. start[c + 1]). */
  #start = new Uint32Array(CELLS * CELLS + 1);
  #order: Uint32Array;

  constructor(x: Float32Array, y: Float32Array, count = x.length) {
    this.count = count;
    this.x = x;
    this.y = y;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < count; i++) {
      const a = x[i], b = y[i];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      if (a < x0) x0 = a;
      if (a > x1) x1 = a;
      if (b < y0) y0 = b;
      if (b > y1) y1 = b;
    }
    if (x0 > x1) {
      x0 =
        x1 =
        y0 =
        y1 =
          0;
    }
    this.x0 = x0;
    this.y0 = y0;
    this.x1 = x1;
    this.y1 = y1;
    this.#cw = (x1 - x0) / CELLS || 1;
    this.#ch = (y1 - y0) / CELLS || 1;
    const cell = new Int32Array(count);
    const start = this.#start;
    for (let i = 0; i < count; i++) {
      const c = this.#cellOf(x[i], y[i]);
      cell[i] = c;
      if (c >= 0) start[c + 1]++;
    }
    for (let c = 0; c < CELLS * CELLS; c++) start[c + 1] += start[c];
    const fill = start.slice(0, CELLS * CELLS);
    this.#order = new Uint32Array(start[CELLS * CELLS]);
    for (let i = 0; i < count; i++) {
      if (cell[i] >= 0) this.#order[fill[cell[i]]++] = i;
    }
  }

  #cellOf(a: number, b: number): number {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return -1;
    const cx = Math.min(CELLS - 1, Math.max(0, ((a - this.x0) / this.#cw) | 0));
    const cy = Math.min(CELLS - 1, Math.max(0, ((b - this.y0) / this.#ch) | 0));
    return cy * CELLS + cx;
  }

  /**
   * The point nearest (x, y) within `radius` pixels, or -1. Ties go to the
   * lower index, so a click is deterministic.
   */
  nearest(x: number, y: number, radius: number, scale: PixelScale): number {
    const rx = radius / Math.abs(scale.sx);
    const ry = radius / Math.abs(scale.sy);
    const cx0 = Math.max(0, Math.floor((x - rx - this.x0) / this.#cw));
    const cx1 = Math.min(CELLS - 1, Math.floor((x + rx - this.x0) / this.#cw));
    const cy0 = Math.max(0, Math.floor((y - ry - this.y0) / this.#ch));
    const cy1 = Math.min(CELLS - 1, Math.floor((y + ry - this.y0) / this.#ch));
    let best = -1;
    let bestD = radius * radius;
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = cy * CELLS + cx;
        for (let k = this.#start[c]; k < this.#start[c + 1]; k++) {
          const i = this.#order[k];
          const dx = (this.x[i] - x) * scale.sx;
          const dy = (this.y[i] - y) * scale.sy;
          const d = dx * dx + dy * dy;
          if (d < bestD || (d === bestD && i < best)) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }

  /**
   * The nearest point from `from` in a direction (arrow keys): among the
   * points within 60° of (dx, dy) on screen, the one with the smallest
   * distance, angle-weighted so a point straight ahead wins. -1 if none.
   */
  step(from: number, dx: number, dy: number, scale: PixelScale): number {
    const fx = this.x[from], fy = this.y[from];
    let best = -1;
    let bestScore = Infinity;
    const cos60 = 0.5;
    for (let i = 0; i < this.count; i++) {
      if (i === from) continue;
      const px = (this.x[i] - fx) * scale.sx;
      const py = (this.y[i] - fy) * scale.sy;
      const d = Math.hypot(px, py);
      if (d === 0) continue;
      const cos = (px * dx + py * dy) / d;
      if (cos < cos60) continue;
      const score = d * (2 - cos);
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }
}
