import { useEffect } from "preact/hooks";
import { actionTitle } from "../lib/client/key_actions.ts";
import { useStore } from "../lib/client/store.ts";
import {
  digitClasses,
  labelKeys,
  needsClassPicker,
} from "../lib/client/dataset.ts";

const KEY = "ssvae-guide-dismissed";

/**
 * "How this works", for a first visit: the loop in three steps. Dismissed
 * once, remembered in localStorage; the ? key brings the shortcuts back.
 */
export function Guide() {
  const store = useStore();
  const open = store.ui.guideOpen.value;
  useEffect(() => {
    // After hydration: the server render never shows it (no storage there).
    let dismissed = false;
    try {
      dismissed = localStorage.getItem(KEY) === "1";
    } catch { /* storage off: show it */ }
    store.ui.guideOpen.value = !dismissed;
  }, []);
  if (!open) return null;
  const dismiss = () => {
    store.ui.guideOpen.value = false;
    try {
      localStorage.setItem(KEY, "1");
    } catch { /* storage off: gone for this page only */ }
  };
  return (
    <section class="guide" id="guide" aria-labelledby="guide-title">
      <h2 id="guide-title">How this works</h2>
      <ol>
        <li>
          <b>Label</b>: press <kbd>N</kbd>{" "}
          for the next suggested image (or click any point), then{" "}
          {digitClasses()
            ? (
              <>
                its digit <kbd>0</kbd>–<kbd>9</kbd>.
              </>
            )
            : (
              <>
                its class's key <kbd>{labelKeys()[0]}</kbd>–<kbd>
                  {labelKeys()[1]}
                </kbd>
                {needsClassPicker() && (
                  <>
                    {" "}(or <kbd>/</kbd> and part of its name)
                  </>
                )}.
              </>
            )}
        </li>
        <li>
          <b>Watch</b>: the predictions follow every label at once (the
          Predicted-class colours).
        </li>
        <li>
          <b>Train</b>: a few runs of <b>▶ Train</b>{" "}
          sharpen the map and the reconstructions.
        </li>
      </ol>
      <span class="muted small" title={actionTitle("help")}>
        <kbd>?</kbd> all shortcuts
      </span>
      <button
        type="button"
        class="btn btn-small"
        id="guide-dismiss"
        onClick={dismiss}
      >
        Got it
      </button>
    </section>
  );
}
