import { useEffect } from "preact/hooks";
import { pendingText } from "../lib/client/pwa_shared.ts";
import {
  offlineReady,
  pwa,
  serverUnreachable,
} from "../lib/client/pwa_state.ts";
import { useStore } from "../lib/client/store.ts";

/**
 * "Offline — N changes pending" while the server cannot be reached,
 * "Syncing N changes…" while the queue is replayed, then the outcome
 * ("5 changes synced", naming any conflict lost) for a few seconds.
 */
export function SyncBadge() {
  const store = useStore();
  const pending = pwa.pending.value;
  const message = pwa.message.value;
  const offline = serverUnreachable(store.connection.value);
  const images = pwa.images.value;
  const ready = offlineReady.value;

  useEffect(() => {
    if (!message) return;
    const id = setTimeout(() => {
      if (pwa.message.value?.id === message.id) pwa.message.value = null;
    }, message.kind === "success" ? 8000 : 20_000);
    return () => clearTimeout(id);
  }, [message]);

  const state = offline ? "offline" : pending > 0 ? "syncing" : "idle";
  const title = ready
    ? "Works offline: the app, the latent space and every image are cached"
    : images.total > 0
    ? `Caching images for offline use: ${images.done}/${images.total}`
    : "Offline use is being prepared";
  return (
    <div class="sync" data-offline-ready={ready ? "true" : "false"}>
      <div
        id="sync-badge"
        class={`sync-badge sync-${state}`}
        role="status"
        aria-live="polite"
        data-state={state}
        data-pending={pending}
        hidden={state === "idle"}
        title={title}
      >
        {state === "offline"
          ? pendingText(pending)
          : state === "syncing"
          ? `Syncing ${pending} change${pending === 1 ? "" : "s"}…`
          : ""}
      </div>
      <div
        id="sync-status"
        class={`sync-status ${message ? `sync-status-${message.kind}` : ""}`}
        role="status"
        aria-live="polite"
        hidden={!message}
      >
        {message?.text ?? ""}
      </div>
    </div>
  );
}
