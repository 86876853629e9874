/**
 * Named arrays on SharedArrayBuffers that the trainer and its helper thread
 * exchange rows, gradients and predictions through.
 *
 * Why: posting a fresh array per request (and transferring the helper's
 * results back) made every step, evaluation chunk and predict chunk allocate
 * new megabytes on both threads. They died young but were freed only at the
 * next garbage collection, and the C heap they came from stayed grown: in
 * `deno task bench` about half of the C heap (~110 MB) and ~100 MB of copies
 * during the 60k predict, most of the gap between a 1.07 GB and a 0.91 GB
 * peak. A shared array is written by one thread and read by the other in
 * place, and reused request after request.
 */

/** Named arrays, each grown (never shrunk) to the largest length asked for. */
export class SharedBuffers {
  readonly #buffers = new Map<string, SharedArrayBuffer>();

  /** The first `length` floats of the buffer `name`; its contents are whatever was last written. */
  floats(name: string, length: number): Float32Array {
    return new Float32Array(this.#buffer(name, length * 4), 0, length);
  }

  /** The first `length` bytes of the buffer `name`. */
  bytes(name: string, length: number): Uint8Array {
    return new Uint8Array(this.#buffer(name, length), 0, length);
  }

  /** Room for `count` gathered rows: `width` pixels and `classes` label slots each. */
  rows(
    count: number,
    width: number,
    classes: number,
  ): { x: Float32Array; oneHot: Float32Array } {
    return {
      x: this.floats("x", count * width),
      oneHot: this.floats("oneHot", count * classes),
    };
  }

  #buffer(name: string, bytes: number): SharedArrayBuffer {
    let b = this.#buffers.get(name);
    if (!b || b.byteLength < bytes) {
      // A grown buffer is a new one: views handed out earlier keep the old.
      b = new SharedArrayBuffer(bytes);
      this.#buffers.set(name, b);
    }
    return b;
  }
}

/**
 * The buffers of `arrays` that can be transferred: shared ones are posted
 * as references (the receiver sees the same memory) and cannot be.
 */
export function ownBuffers(arrays: ArrayBufferView[]): ArrayBuffer[] {
  const own = new Set<ArrayBuffer>();
  for (const a of arrays) {
    if (!(a.buffer instanceof SharedArrayBuffer)) {
      own.add(a.buffer as ArrayBuffer);
    }
  }
  return [...own];
}
