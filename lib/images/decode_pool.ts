/**
 * Decodes many image files on worker threads (workers/decode_worker.ts), one
 * per core, in batches, reporting progress as batches finish.
 */

import type { ImageShape } from "./decode.ts";

/** To a decode worker: absolute paths to decode to `shape`. */
export interface DecodeRequest {
  id: number;
  paths: string[];
  shape: ImageShape;
  /** Files whose header declares more pixels are refused, not decoded. */
  maxPixels: number;
}

/** From a decode worker: the pixels of every path (zeros where it failed) and the errors. */
export interface DecodeReply {
  id: number;
  pixels: Uint8Array;
  errors: Array<string | null>;
}

/** Files per message: large enough to amortise messaging, small enough for a smooth progress bar. */
const BATCH = 200;

/** One decoded file: its pixels, or why it failed. */
export type DecodeResult = { pixels: Uint8Array; error: null } | {
  pixels: null;
  error: string;
};

/**
 * Decodes `paths` (absolute) with `threads` workers; calls `onResult(i, r)`
 * for every file, in batches, as they finish.
 */
export async function decodeAll(
  paths: string[],
  shape: ImageShape,
  onResult: (i: number, result: DecodeResult) => void,
  threads = navigator.hardwareConcurrency || 2,
  maxPixels = Infinity,
): Promise<void> {
  if (paths.length === 0) return;
  const pixels = shape.width * shape.height * shape.channels;
  const n = Math.max(1, Math.min(threads, Math.ceil(paths.length / BATCH)));
  const workers = Array.from(
    { length: n },
    () =>
      new Worker(new URL("../../workers/decode_worker.ts", import.meta.url), {
        type: "module",
        name: "decode",
      }),
  );
  let next = 0;
  try {
    await Promise.all(
      workers.map((worker) =>
        new Promise<void>((resolve, reject) => {
          let start = 0;
          const send = () => {
            if (next >= paths.length) return resolve();
            start = next;
            next = Math.min(paths.length, next + BATCH);
            const msg: DecodeRequest = {
              id: start,
              paths: paths.slice(start, next),
              shape,
              maxPixels,
            };
            worker.postMessage(msg);
          };
          worker.onmessage = (ev: MessageEvent<DecodeReply>) => {
            const { id, pixels: block, errors } = ev.data;
            errors.forEach((error, k) => {
              onResult(
                id + k,
                error === null
                  ? {
                    pixels: block.subarray(k * pixels, (k + 1) * pixels),
                    error: null,
                  }
                  : { pixels: null, error },
              );
            });
            send();
          };
          worker.onerror = (ev) => {
            ev.preventDefault();
            reject(new Error(`decode worker failed: ${ev.message}`));
          };
          send();
        })
      ),
    );
  } finally {
    for (const w of workers) w.terminate();
  }
}
