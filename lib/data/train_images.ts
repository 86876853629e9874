/**
 * The training images as the model sees them (bytes scaled per pixel, see
 * lib/data/mnist.ts), built from the bytes only when needed.
 *
 * Why lazily: the whole float array of 60k images is 188 MB, and on these
 * machines touching that much fresh memory takes ~0.9 s, the largest single
 * cost of a start. The first prediction only needs a chunk at a time, so the
 * full array waits until the server is ready (the session then builds it
 * while the page loads, before the first Train).
 */

import { scaleImagesInto } from "./mnist.ts";

export class TrainImages {
  readonly count: number;
  readonly raw: Uint8Array;
  readonly pixelMax: Float32Array;
  #all: Float32Array | null = null;
  #chunk: Float32Array | null = null;

  constructor(count: number, raw: Uint8Array, pixelMax: Float32Array) {
    if (raw.length !== count * pixelMax.length) {
      throw new RangeError(
        `${raw.length} image bytes for ${count} images of ${pixelMax.length} pixels`,
      );
    }
    this.count = count;
    this.raw = raw;
    this.pixelMax = pixelMax;
  }

  /** Every image scaled: built at the first call, then kept. */
  all(): Float32Array {
    if (!this.#all) {
      this.#all = scaleImagesInto(
        this.raw,
        this.pixelMax,
        new Float32Array(this.raw.length),
      );
      this.#chunk = null;
    }
    return this.#all;
  }

  /**
   * Images `start … start + n − 1` scaled: a view of the full array once it
   * exists, else scaled into a buffer reused by the next call (so read it
   * before calling again).
   */
  rows(start: number, n: number): Float32Array {
    const px = this.pixelMax.length;
    if (start < 0 || n < 0 || start + n > this.count) {
      throw new RangeError(`rows ${start}+${n} of ${this.count}`);
    }
    if (this.#all) return this.#all.subarray(start * px, (start + n) * px);
    if (!this.#chunk || this.#chunk.length < n * px) {
      this.#chunk = new Float32Array(n * px);
    }
    return scaleImagesInto(
      this.raw.subarray(start * px, (start + n) * px),
      this.pixelMax,
      this.#chunk.subarray(0, n * px),
    );
  }
}
