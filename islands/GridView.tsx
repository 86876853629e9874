import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { MAX_THUMBNAILS } from "../lib/protocol/limits.ts";
import { classColor } from "../lib/client/figures.ts";
import { inkOn } from "../lib/client/palette.ts";
import { className, dataset, drawImage } from "../lib/client/dataset.ts";
import {
  DEFAULT_GRID_FILTER,
  type GridFilter,
  gridOrder,
  type LabelFilter,
  rangeOf,
} from "../lib/client/grid.ts";
import { useStore } from "../lib/client/store.ts";
import { certaintyPercent } from "../lib/protocol/latent_format.ts";
import { SOURCE_TEXT } from "../lib/client/label_sources.ts";
import {
  LABEL_SOURCES,
  type LabelSource,
} from "../lib/protocol/label_events.ts";

/** Pixels per cell, gap included. */
const CELL = 64;
/** Rows drawn above and below the visible ones, so a scroll shows no gap. */
const OVERSCAN = 3;
/** Thumbnail bytes kept for re-scrolling (~40 MB). */
const CACHE_BYTES = 40 * 1024 * 1024;

/**
 * Thumbnails already fetched, by image (module state: the grid re-renders
 * on every scroll). Oldest first out past CACHE_BYTES.
 */
const thumbs = new Map<number, Uint8Array>();
let thumbBytes = 0;
function keep(i: number, bytes: Uint8Array) {
  thumbs.set(i, bytes);
  thumbBytes += bytes.length;
  for (const [k, b] of thumbs) {
    if (thumbBytes <= CACHE_BYTES) break;
    thumbs.delete(k);
    thumbBytes -= b.length;
  }
}

/**
 * The grid view: every image as a thumbnail, filtered (label, predicted
 * class, certainty, the review queue) and sorted, to hunt in. Virtualised:
 * only the rows on screen are in the page, so 60k images scroll like 600.
 * A click shows an image in the sample panel (its digit labels it, as on
 * the map); Ctrl/⌘-click and Shift-click, or Ctrl+A, make a selection that
 * the label keys and the selection panel label as one batch — the same
 * actions, undo and dialog as a box on the map.
 */
export function GridView() {
  const store = useStore();
  const a = store.active;
  const snap = store.latent.value;
  const filter = store.ui.grid.value;
  const queue = store.review.queue.value;
  const selection = a.selection.value;
  const current = store.selected.value;
  const ds = dataset.value;
  const reviewSet = useMemo(
    () => new Set(queue?.items.map((it) => it.index) ?? []),
    [queue],
  );
  // Label sources, fetched while a source filter is on, again after every
  // change of labels (the snapshot's).
  const [sources, setSources] = useState<Uint8Array | null>(null);
  useEffect(() => {
    if (filter.source === null) return;
    const ctl = new AbortController();
    a.actions.labelSources(ctl.signal).then(setSources).catch(() => {
      // Offline: the filter shows nothing until the server answers.
    });
    return () => ctl.abort();
  }, [filter.source, snap]);
  const order = useMemo(
    () =>
      snap ? gridOrder(snap, filter, reviewSet, sources) : new Uint32Array(0),
    [snap, filter, reviewSet, sources],
  );
  const picked = useMemo(() => new Set(selection ?? []), [selection]);
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<number | null>(null);
  const [box, setBox] = useState({ top: 0, width: 0, height: 0 });
  const [, setTick] = useState(0);
  const pending = useRef(new Set<number>());
  /** Thumbnails that could not be fetched (offline): not asked for again. */
  const failed = useRef(new Set<number>());

  // The scroller's size and position: what is on screen.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setBox({
        top: el.scrollTop,
        width: el.clientWidth,
        height: el.clientHeight,
      });
    };
    const onScroll = () => {
      frame ||= requestAnimationFrame(measure);
    };
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    el.addEventListener("scroll", onScroll, { passive: true });
    measure();
    return () => {
      ro.disconnect();
      el.removeEventListener("scroll", onScroll);
      cancelAnimationFrame(frame);
    };
  }, []);

  const cols = Math.max(1, Math.floor(box.width / CELL));
  const rows = Math.ceil(order.length / cols);
  const first = Math.max(0, Math.floor(box.top / CELL) - OVERSCAN);
  const last = Math.min(
    rows,
    Math.ceil((box.top + box.height) / CELL) + OVERSCAN,
  );
  const cells = order.subarray(first * cols, last * cols);

  // Thumbnails: draw the cached ones, fetch the rest (100 per request).
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const missing: number[] = [];
    for (const c of el.querySelectorAll<HTMLCanvasElement>("canvas")) {
      const i = Number(c.dataset.index);
      const bytes = thumbs.get(i);
      if (bytes) {
        if (c.dataset.drawn !== String(i)) {
          drawImage(c, bytes, ds.rows, ds.cols, ds.channels);
          c.dataset.drawn = String(i);
        }
      } else if (!pending.current.has(i) && !failed.current.has(i)) {
        missing.push(i);
      }
    }
    for (let s = 0; s < missing.length; s += MAX_THUMBNAILS) {
      const part = missing.slice(s, s + MAX_THUMBNAILS);
      for (const i of part) pending.current.add(i);
      a.actions.thumbnails(part).then(({ rows, cols, channels, bytes }) => {
        const px = rows * cols * channels;
        part.forEach((i, k) => keep(i, bytes.slice(k * px, (k + 1) * px)));
      }).catch(() => {
        // Offline without the images: the cells stay blank, named by tooltip.
        for (const i of part) failed.current.add(i);
      }).finally(() => {
        for (const i of part) pending.current.delete(i);
        setTick((t) => t + 1);
      });
    }
  });

  const setFilter = (patch: Partial<GridFilter>) =>
    store.ui.grid.value = { ...store.ui.grid.value, ...patch };
  const select = (indices: Iterable<number>) => {
    const sorted = Uint32Array.from(new Set(indices)).sort();
    a.actions.setSelection(sorted.length ? sorted : null, "grid");
  };
  /** Image `i` into the selection, or out of it. */
  const toggle = (i: number) => {
    const next = new Set(picked);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    select(next);
  };
  const onCell = (i: number, ev: MouseEvent) => {
    if (ev.shiftKey && anchor.current !== null) {
      select([...picked, ...rangeOf(order, anchor.current, i)]);
    } else if (ev.ctrlKey || ev.metaKey) {
      toggle(i);
      anchor.current = i;
    } else {
      store.actions.select(i);
      anchor.current = i;
    }
  };
  /** Arrow keys move the shown image; Space toggles it; Ctrl+A takes all. */
  const onKey = (ev: KeyboardEvent) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "a") {
      ev.preventDefault();
      ev.stopPropagation();
      select(order);
      return;
    }
    const at = current === null ? -1 : order.indexOf(current);
    const step = ({
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -cols,
      ArrowDown: cols,
    } as Record<string, number>)[ev.key];
    if (step !== undefined) {
      ev.preventDefault();
      ev.stopPropagation();
      const next = at < 0
        ? 0
        : Math.min(order.length - 1, Math.max(0, at + step));
      if (order.length === 0) return;
      store.actions.select(order[next]);
      anchor.current = order[next];
      const el = scroller.current!;
      const y = Math.floor(next / cols) * CELL;
      if (y < el.scrollTop) el.scrollTop = y;
      else if (y + CELL > el.scrollTop + el.clientHeight) {
        el.scrollTop = y + CELL - el.clientHeight;
      }
      return;
    }
    if (ev.key === " " && current !== null && order.includes(current)) {
      ev.preventDefault();
      ev.stopPropagation();
      toggle(current);
    }
  };

  // One option per class, for the label and the predicted-class filters
  // (made per use: Preact vnodes cannot stand in two places).
  const classOptions = () =>
    ds.classes.map((c, k) => <option key={k} value={String(k)}>{c}</option>);
  const labelValue = typeof filter.label === "number"
    ? String(filter.label)
    : filter.label;
  return (
    <div class="grid-view" id="grid-view" data-shown={order.length}>
      <div class="grid-filters" role="group" aria-label="Filter the grid">
        <label>
          Label{" "}
          <select
            id="grid-label"
            value={labelValue}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setFilter({
                label: (["any", "unlabelled", "labelled"].includes(v)
                  ? v
                  : Number(v)) as LabelFilter,
              });
            }}
          >
            <option value="any">any</option>
            <option value="unlabelled">none yet</option>
            <option value="labelled">labelled</option>
            {classOptions()}
          </select>
        </label>
        <label>
          Predicted{" "}
          <select
            id="grid-predicted"
            value={filter.predicted === null ? "" : String(filter.predicted)}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setFilter({ predicted: v === "" ? null : Number(v) });
            }}
          >
            <option value="">any</option>
            {classOptions()}
          </select>
        </label>
        <label title="How sure the prediction is, in percent (both ends included)">
          Sure{" "}
          <input
            type="number"
            id="grid-cert-min"
            min={0}
            max={100}
            value={filter.certaintyMin}
            aria-label="Certainty from (%)"
            onChange={(e) =>
              setFilter({
                certaintyMin: clampPct(e.currentTarget.valueAsNumber, 0),
              })}
          />
          –
          <input
            type="number"
            id="grid-cert-max"
            min={0}
            max={100}
            value={filter.certaintyMax}
            aria-label="Certainty to (%)"
            onChange={(e) =>
              setFilter({
                certaintyMax: clampPct(e.currentTarget.valueAsNumber, 100),
              })}
          />
          %
        </label>
        <label title="Only labels the rest of the data disagrees with (the Review card's)">
          <input
            type="checkbox"
            id="grid-review"
            checked={filter.reviewOnly}
            onChange={(e) => setFilter({ reviewOnly: e.currentTarget.checked })}
          />{" "}
          to review
        </label>
        <label title="Only labels whose latest change came this way">
          Made by{" "}
          <select
            id="grid-source"
            value={filter.source ?? ""}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setFilter({ source: v === "" ? null : v as LabelSource });
            }}
          >
            <option value="">any</option>
            {LABEL_SOURCES.map((src) => (
              <option key={src} value={src}>{SOURCE_TEXT[src]}</option>
            ))}
          </select>
        </label>
        <label>
          Sort{" "}
          <select
            id="grid-sort"
            value={filter.sort}
            onChange={(e) =>
              setFilter({ sort: e.currentTarget.value as GridFilter["sort"] })}
          >
            <option value="index">by number</option>
            <option value="least-certain">least sure first</option>
            <option value="most-certain">most sure first</option>
          </select>
        </label>
        <span class="muted small" id="grid-count">
          {order.length.toLocaleString("en-US")} shown
        </span>
        <button
          type="button"
          class="btn btn-small"
          id="grid-select-all"
          disabled={order.length === 0}
          title="Select every image shown (Ctrl+A in the grid); the label keys then label all of them"
          onClick={() => select(order)}
        >
          Select all
        </button>
        <button
          type="button"
          class="btn btn-small"
          id="grid-reset"
          onClick={() => store.ui.grid.value = DEFAULT_GRID_FILTER}
        >
          Reset
        </button>
      </div>
      <div
        class="grid-scroll"
        id="grid-scroll"
        ref={scroller}
        tabIndex={0}
        role="listbox"
        aria-multiselectable="true"
        aria-label="Images: arrow keys move, Space adds to the selection, Ctrl+A selects all shown, a digit labels"
        onKeyDown={onKey}
      >
        <div style={{ height: `${rows * CELL}px`, position: "relative" }}>
          <div
            class="grid-cells"
            style={{
              transform: `translateY(${first * CELL}px)`,
              gridTemplateColumns: `repeat(${cols}, ${CELL}px)`,
            }}
          >
            {Array.from(cells).map((i) => {
              const ul = snap ? snap.userLabel[i] : -1;
              const pred = snap ? snap.predClass[i] : 0;
              return (
                <button
                  type="button"
                  key={i}
                  role="option"
                  aria-selected={picked.has(i)}
                  class={`grid-cell ${picked.has(i) ? "picked" : ""} ${
                    current === i ? "current" : ""
                  }`}
                  data-index={i}
                  tabIndex={-1}
                  title={`#${i}: predicted ${className(pred, ds)} (${
                    certaintyPercent(snap?.certainty[i] ?? 0)
                  }%)${ul >= 0 ? `, labelled ${className(ul, ds)}` : ""}`}
                  style={{ borderBottomColor: classColor(pred) }}
                  onClick={(e) => onCell(i, e)}
                >
                  <canvas
                    width={ds.cols}
                    height={ds.rows}
                    data-index={i}
                  />
                  {ul >= 0 && (
                    <span
                      class="grid-tag"
                      style={{
                        background: classColor(ul),
                        color: inkOn(classColor(ul)),
                      }}
                    >
                      {className(ul, ds)}
                    </span>
                  )}
                </button>
              );
            })}
          </div>
        </div>
        {order.length === 0 && (
          <p class="muted grid-empty">No image matches these filters.</p>
        )}
      </div>
    </div>
  );
}

function clampPct(v: number, fallback: number): number {
  return Number.isFinite(v)
    ? Math.min(100, Math.max(0, Math.round(v)))
    : fallback;
}
