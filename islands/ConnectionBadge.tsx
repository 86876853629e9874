import { useStore } from "../lib/client/store.ts";

const TEXT = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
} as const;

/** Whether the live socket is up (updates from training and other tabs). */
export function ConnectionBadge() {
  const c = useStore().connection.value;
  return (
    <div
      class={`conn conn-${c}`}
      role="status"
      data-connection={c}
      title={c === "open"
        ? "Live updates from the server are on"
        : "Live updates paused; retrying with backoff"}
    >
      <span class="dot" aria-hidden="true" />
      {TEXT[c]}
    </div>
  );
}
