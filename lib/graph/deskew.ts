/**
 * Deskewing: each image sheared so its main axis stands upright and its
 * centre of mass sits in the middle, from its own second moments. The classic
 * preprocessing of nearest-neighbour digit classifiers (LeCun et al. 1998:
 * deskewing cuts the error of k-NN on MNIST pixels by about half), because a
 * slanted 1 and an upright 1 are far apart in pixel space and close once both
 * stand straight. The label graph is a nearest-neighbour graph, so it gains
 * the same way: on the validation images (never the test set; transductive
 * accuracy, seed 1) Auto went from 83.4/90.8/95.9/96.1/96.7/97.1% to
 * 94.6/96.9/97.8/97.9/98.0/98.0% at 10/20/50/100/200/300 labels, and random
 * labels from 56.9 to 66.5% at 10 and from 96.2 to 97.7% at 300.
 *
 * Hand-written: no maintained JS image library offers a moment-based deskew
 * (it is a dozen lines of arithmetic; image libraries do generic affine
 * warps, whose shear we would still have to compute here).
 */

/**
 * Deskewed copies of `n` grey images (`raw`: n × rows × cols bytes), sampled
 * bilinearly; an empty (all-zero) image is copied as it is.
 */
export function deskew(
  raw: Uint8Array,
  n: number,
  rows: number,
  cols: number,
): Uint8Array {
  const px = rows * cols;
  const out = new Uint8Array(n * px);
  const cx = (cols - 1) / 2;
  const cy = (rows - 1) / 2;
  for (let k = 0; k < n; k++) {
    const img = raw.subarray(k * px, (k + 1) * px);
    const o = out.subarray(k * px, (k + 1) * px);
    let m = 0, mx = 0, my = 0;
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        const v = img[y * cols + x];
        m += v;
        mx += x * v;
        my += y * v;
      }
    }
    if (m === 0) {
      o.set(img);
      continue;
    }
    mx /= m;
    my /= m;
    let cxy = 0, cyy = 0;
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        const v = img[y * cols + x];
        cxy += (x - mx) * (y - my) * v;
        cyy += (y - my) * (y - my) * v;
      }
    }
    // x' = x - alpha·(y - my) removes the slant; the shift centres the mass.
    const alpha = cyy > 0 ? cxy / cyy : 0;
    for (let y = 0; y < rows; y++) {
      const sy = y + (my - cy);
      const y0 = Math.floor(sy);
      const fy = sy - y0;
      for (let x = 0; x < cols; x++) {
        const sx = x + alpha * (y - cy) + (mx - cx);
        const x0 = Math.floor(sx);
        const fx = sx - x0;
        const at = (xx: number, yy: number) =>
          xx >= 0 && xx < cols && yy >= 0 && yy < rows
            ? img[yy * cols + xx]
            : 0;
        const v = (1 - fx) * (1 - fy) * at(x0, y0) +
          fx * (1 - fy) * at(x0 + 1, y0) +
          (1 - fx) * fy * at(x0, y0 + 1) +
          fx * fy * at(x0 + 1, y0 + 1);
        o[y * cols + x] = Math.round(v);
      }
    }
  }
  return out;
}
