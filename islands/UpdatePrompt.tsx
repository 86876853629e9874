import { pwa } from "../lib/client/pwa_state.ts";

/**
 * Shown when a new version of the app is installed: reloading switches the
 * service worker and the page together, so old and new files never mix.
 */
export function UpdatePrompt() {
  const update = pwa.update.value;
  if (update === null) return null;
  return (
    <div class="update-banner" id="update-banner" role="alert">
      <span>
        {update === "waiting"
          ? "A new version of the dashboard is ready."
          : "A new version of the dashboard was activated in another tab."}
      </span>
      <button
        type="button"
        class="btn btn-small btn-primary"
        id="update-reload"
        onClick={() => pwa.applyUpdate()}
      >
        Reload to update
      </button>
    </div>
  );
}
