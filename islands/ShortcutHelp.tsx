import { useEffect, useRef } from "preact/hooks";
import { type ActionGroup, KEY_ACTIONS } from "../lib/client/key_actions.ts";
import { useStore } from "../lib/client/store.ts";

const GROUPS: ActionGroup[] = ["Label", "Move", "Selection", "History", "View"];

/** `?`: every shortcut, straight from the action table. */
export function ShortcutHelp() {
  const store = useStore();
  const open = store.ui.helpOpen.value;
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      class="dialog help-dialog"
      id="shortcut-help"
      aria-labelledby="help-title"
      onClose={() => store.ui.helpOpen.value = false}
    >
      <div class="card-head">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <button
          type="button"
          class="btn btn-small"
          onClick={() => store.ui.helpOpen.value = false}
        >
          Close <kbd>Esc</kbd>
        </button>
      </div>
      {GROUPS.map((g) => (
        <section key={g}>
          <h3>{g}</h3>
          <dl>
            {KEY_ACTIONS.filter((a) =>
              a.group === g && (a.available?.() ?? true)
            ).map((a) => (
              <div key={a.id} class="help-row" data-action={a.id}>
                <dt>
                  {a.keys.map((k, i) =>
                    k === "–" ? <span key={i}>–</span> : <kbd key={i}>{k}</kbd>
                  )}
                </dt>
                <dd>{a.label}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
    </dialog>
  );
}
