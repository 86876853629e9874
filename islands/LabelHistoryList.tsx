import { useStore } from "../lib/client/store.ts";
import { className } from "../lib/client/dataset.ts";
import { SOURCE_TEXT } from "../lib/client/label_sources.ts";

function when(t: number): string {
  const d = new Date(t);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString("en-GB")
    : d.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short" });
}

/**
 * The selected image's label history (lib/labels/label_history.ts): every
 * change, newest first, with its time, source, client and batch.
 */
export function LabelHistoryList() {
  const store = useStore();
  const selected = store.selected.value;
  const h = store.labelHistory.value;
  if (selected === null) return null;
  const events = h && h.index === selected ? h.events : null;
  const label = (l: number | null) => l === null ? "none" : className(l);
  return (
    <details
      class="label-history"
      id="label-history"
      data-count={events?.length ?? ""}
    >
      <summary>
        History{" "}
        <span class="muted">
          {events === null
            ? "(loading)"
            : events.length === 0
            ? "(no changes)"
            : `(${events.length})`}
        </span>
      </summary>
      {h?.warning && <p class="history-warning">{h.warning}</p>}
      {events && events.length > 0 && (
        <ol class="history-list">
          {events.map((e) => (
            <li key={e.id} data-source={e.source}>
              <time dateTime={new Date(e.time).toISOString()}>
                {when(e.time)}
              </time>{" "}
              <b>{label(e.from)} → {label(e.to)}</b>{" "}
              <span class="muted">
                {SOURCE_TEXT[e.source] ?? e.source}
                {e.client ? ` · ${e.client}` : ""} · batch {e.batch}
              </span>
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}
