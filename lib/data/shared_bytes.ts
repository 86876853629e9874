/**
 * Image bytes on SharedArrayBuffers: one copy that the server thread, the
 * training worker and the graph worker all read, where a plain buffer is
 * copied for every `postMessage` (and copied back for the server).
 *
 * Why it matters at start-up: on these machines a fresh page costs ~18 µs to
 * touch, so every 47 MB copy of 60k images is ~0.2 s before the model can
 * start. Web APIs refuse views on shared memory (`Response`,
 * `crypto.subtle`): copy a slice for those (see routes/api/images.ts).
 */

/** `n` zeroed bytes on a SharedArrayBuffer. */
export function sharedBytes(n: number): Uint8Array<SharedArrayBuffer> {
  return new Uint8Array(new SharedArrayBuffer(n));
}

/**
 * A whole file read into a SharedArrayBuffer. The buffer is sized from the
 * file's length and filled in place: `Deno.readFile` grows and copies its
 * buffer, which costs about twice the touches.
 */
export async function readFileShared(
  path: string,
): Promise<Uint8Array<SharedArrayBuffer>> {
  using file = await Deno.open(path);
  const size = (await file.stat()).size;
  const out = sharedBytes(size);
  let at = 0;
  while (at < size) {
    const n = await file.read(out.subarray(at));
    if (n === null) break;
    at += n;
  }
  if (at !== size) {
    throw new Error(`${path}: read ${at} of ${size} bytes (file changed?)`);
  }
  return out;
}
