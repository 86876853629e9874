import { useEffect, useRef } from "preact/hooks";
import { useStore } from "../lib/client/store.ts";

/**
 * The one confirmation of the page (a batch label that would overwrite
 * labels or touch many images). Enter confirms, Esc cancels.
 */
export function ConfirmDialog() {
  const store = useStore();
  const req = store.ui.confirm.value;
  const ref = useRef<HTMLDialogElement>(null);
  const okRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (req && !d.open) {
      d.showModal();
      okRef.current?.focus();
    }
    if (!req && d.open) d.close();
  }, [req]);
  const close = () => store.ui.confirm.value = null;
  return (
    <dialog
      ref={ref}
      class="dialog confirm-dialog"
      id="confirm-dialog"
      aria-labelledby="confirm-title"
      onClose={close}
    >
      {req && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            const r = store.ui.confirm.value;
            close();
            r?.onConfirm();
          }}
        >
          <h2 id="confirm-title">{req.title}</h2>
          {req.lines.map((l, i) => (
            <p key={i} class={i === 0 ? "confirm-summary" : "muted"}>{l}</p>
          ))}
          <div class="dialog-buttons">
            <button
              type="button"
              class="btn"
              id="confirm-cancel"
              onClick={close}
            >
              Cancel <kbd>Esc</kbd>
            </button>
            <button
              type="submit"
              class="btn btn-primary"
              id="confirm-ok"
              ref={okRef}
            >
              {req.confirmLabel} <kbd>Enter</kbd>
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
