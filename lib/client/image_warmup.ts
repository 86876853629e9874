/**
 * Downloads every original image for offline use (lib/client/offline_images.ts)
 * in the background: once started (after the first draw), again on the
 * `online` event and whenever the socket is back after losing the server — a
 * download cut off resumes with the chunks still missing. Progress goes to
 * `pwa.images` (the badge's "offline ready").
 */
import { onReconnect } from "./connectivity.ts";
import type { OfflineImages } from "./offline_images.ts";
import { pwa } from "./pwa_state.ts";
import type { Store } from "./store.ts";

/** Starts warming the image cache; returns the disposer. */
export function startImageWarmup(
  store: Store,
  images: Pick<OfflineImages, "warm">,
): () => void {
  let warming: Promise<void> | null = null;
  const warm = () => {
    warming ??= images.warm({
      onProgress: (done, total) => pwa.images.value = { done, total },
    }).then(() => {}, () => {
      // Offline or the server gone: resumed on the next reconnect.
    }).finally(() => warming = null);
  };
  warm();
  addEventListener("online", warm);
  const stopReconnect = onReconnect(store, warm);
  return () => {
    removeEventListener("online", warm);
    stopReconnect();
  };
}
