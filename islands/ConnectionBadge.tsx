import { serverUnreachable } from "../lib/client/pwa_state.ts";
import { useStore } from "../lib/client/store.ts";

const TEXT = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
} as const;

/**
 * Whether the live socket is up (updates from training and other tabs).
 * Hidden while the sync badge says the page is offline.
 */
export function ConnectionBadge() {
  const c = useStore().connection.value;
  return (
    <div
      class={`conn conn-${c}`}
      role="status"
      data-connection={c}
      hidden={serverUnreachable(c)}
      title={c === "open"
        ? "Live updates from the server are on"
        : "Live updates paused; retrying with backoff"}
    >
      <span class="dot" aria-hidden="true" />
      {TEXT[c]}
    </div>
  );
}
