import { useSignal } from "@preact/signals";
import { useStore } from "../lib/client/store.ts";

/**
 * Problems the server found in the user's files (images it could not read
 * or skipped, repeated serials in labels.csv, labels on no image, a damaged
 * cache it rebuilt): one line under the top bar, opened for the list. The
 * terminal says the same (lib/notices.ts); this keeps it where the user
 * looks. Hidden until the next page load by "Hide".
 */
export function FileNotices() {
  const store = useStore();
  const hidden = useSignal(false);
  const notices = store.notices.value;
  if (notices.length === 0 || hidden.value) return null;
  const files = notices.reduce((s, n) => s + Math.max(1, n.total), 0);
  return (
    <section
      class="file-notices"
      id="file-notices"
      aria-label="Problems found in your files"
    >
      <details>
        <summary>
          <b>
            {notices.length === 1
              ? "1 problem found in your files"
              : `${notices.length} problems found in your files`}
          </b>{" "}
          <span class="muted">
            ({files.toLocaleString("en-US")}{" "}
            {files === 1 ? "file or row" : "files or rows"}; nothing was changed
            without saying so)
          </span>
        </summary>
        <ul class="file-notice-list">
          {notices.map((n, i) => (
            <li key={i} class={`file-notice notice-${n.kind}`}>
              <div class="file-notice-title">{n.title}</div>
              {n.items.length > 0 && (
                <ul class="file-notice-items">
                  {n.items.map((item, k) => <li key={k}>{item}</li>)}
                  {n.total > n.items.length && (
                    <li class="muted">
                      … and {(n.total - n.items.length).toLocaleString("en-US")}
                      {" "}
                      more (the terminal of the server lists them)
                    </li>
                  )}
                </ul>
              )}
            </li>
          ))}
        </ul>
      </details>
      <button
        type="button"
        class="btn btn-small"
        id="file-notices-hide"
        onClick={() => hidden.value = true}
      >
        Hide
      </button>
    </section>
  );
}
