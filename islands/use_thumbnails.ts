import type { RefObject } from "preact";
import { useEffect } from "preact/hooks";
import { drawImage } from "../lib/client/dataset.ts";
import { useStore } from "../lib/client/store.ts";

/**
 * Fetches the thumbnails of `indices` (one request, at most 100) whenever
 * `key` changes, and draws them into the canvases inside `ref`, in order.
 * `done` hears the outcome: null when drawn, else the error (never for an
 * aborted fetch). The selection panel and the suggestion list use it.
 */
export function useThumbnails(
  ref: RefObject<HTMLElement>,
  indices: ArrayLike<number> | null,
  key: unknown,
  done: (error: Error | null) => void,
): void {
  const store = useStore();
  useEffect(() => {
    if (!indices || indices.length === 0) return;
    const ctl = new AbortController();
    store.active.actions.thumbnails(indices, ctl.signal).then(
      ({ rows, cols, channels, bytes }) => {
        const el = ref.current;
        if (!el || ctl.signal.aborted) return;
        const px = rows * cols * channels;
        el.querySelectorAll("canvas").forEach((c, k) => {
          if (k >= indices.length) return;
          drawImage(
            c as HTMLCanvasElement,
            bytes.subarray(k * px, (k + 1) * px),
            rows,
            cols,
            channels,
          );
        });
        done(null);
      },
    ).catch((e) => {
      if (!ctl.signal.aborted) done(e as Error);
    });
    return () => ctl.abort();
  }, [key]);
}
