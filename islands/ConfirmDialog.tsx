import { useLayoutEffect, useRef } from "preact/hooks";
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
  // The request the dialog was last opened for: a native close event that
  // trails a newer request (Esc, then a key that asks again at once) must
  // not clear that newer one.
  const shown = useRef<unknown>(null);
  // Layout effect: the dialog follows the store within the same task, so a
  // key typed next already meets the dialog the store describes.
  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (req && !d.open) {
      d.showModal();
      okRef.current?.focus();
    }
    if (!req && d.open) d.close();
    shown.current = req;
  }, [req]);
  const close = () => store.ui.confirm.value = null;
  return (
    <dialog
      ref={ref}
      class="dialog confirm-dialog"
      id="confirm-dialog"
      aria-labelledby="confirm-title"
      // Esc clears the request in its own keydown, so the very next key
      // already finds no dialog (the native cancel/close events come tasks
      // later, and a key typed in between was lost).
      onKeyDown={(e) => {
        if (e.key !== "Escape") return;
        e.preventDefault(); // no native cancel, and no page action for Esc
        e.stopPropagation();
        close();
      }}
      onCancel={close}
      onClose={() => {
        // A close event trails d.close() by a task: if a newer request has
        // reopened the dialog meanwhile (Esc, then the key again), it is
        // stale and must not clear that request.
        if (ref.current?.open) return;
        if (store.ui.confirm.peek() === shown.current) close();
      }}
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
