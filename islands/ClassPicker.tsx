import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { classColor } from "../lib/client/figures.ts";
import { dataset, filterClasses, keyForClass } from "../lib/client/dataset.ts";

/** Tallest the list gets (px): about eight names. */
const LIST_MAX_PX = 248;
/** The top bar covers the page's top: the list never opens under it. */
const TOPBAR_PX = 64;

/** Props of the class picker. */
export interface ClassPickerProps {
  /** Prefix of the element ids (two pickers can share a page). */
  id: string;
  /** What picking does, said to screen readers: "Label image #12 as…". */
  label: string;
  /** Labels with class `c` (the same action as the class's key). */
  onPick(c: number): void;
  disabled?: boolean;
  /** The class the target holds now, marked in the list. */
  current?: number | null;
  /** A counter: every change puts the focus in the input (key `/`). */
  focusOn?: number;
}

/**
 * Type-to-filter class picker for data sets of more than ten classes (the
 * keys reach only the first ten): an ARIA combobox, its input filtering a
 * listbox of the class names (those starting with the text first), ↑/↓ to
 * move, Enter to pick, Esc to clear or leave. Picking leaves the input, so
 * the page's keys (N, the label keys) work again at once.
 */
export function ClassPicker(props: ClassPickerProps) {
  const query = useSignal("");
  const open = useSignal(false);
  const active = useSignal(0);
  /** Where the list opens, and how tall it may be (set on opening). */
  const place = useSignal<{ up: boolean; max: number }>({
    up: false,
    max: LIST_MAX_PX,
  });
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const ds = dataset.value;
  const matches = filterClasses(query.value, ds);
  const at = Math.min(active.value, Math.max(0, matches.length - 1));
  const optionId = (c: number) => `${props.id}-option-${c}`;

  useEffect(() => {
    if (props.focusOn) inputRef.current?.focus();
  }, [props.focusOn]);

  // Keep the active option in view while the arrows walk a long list.
  useEffect(() => {
    if (!open.value || matches.length === 0) return;
    const el = listRef.current?.querySelector(
      `#${CSS.escape(optionId(matches[at]))}`,
    ) as HTMLElement | null;
    el?.scrollIntoView({ block: "nearest" });
  }, [open.value, at, query.value]);

  // Open towards the side with room: the panel may sit low on the screen
  // (or docked at its bottom), and the list must not run off it.
  const openList = () => {
    const r = inputRef.current?.getBoundingClientRect();
    if (r && typeof innerHeight === "number") {
      const below = innerHeight - r.bottom - 8;
      const above = r.top - TOPBAR_PX;
      const up = below < LIST_MAX_PX && above > below;
      place.value = {
        up,
        max: Math.max(120, Math.min(LIST_MAX_PX, up ? above : below)),
      };
    }
    open.value = true;
  };
  const close = () => {
    open.value = false;
    query.value = "";
    active.value = 0;
  };
  const pick = (c: number) => {
    close();
    inputRef.current?.blur();
    props.onPick(c);
  };

  const onKeyDown = (ev: KeyboardEvent) => {
    const n = matches.length;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!open.value) {
        openList();
        return;
      }
      if (n > 0) {
        active.value = (at + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
      }
    } else if (ev.key === "Home" && open.value && n > 0) {
      ev.preventDefault();
      active.value = 0;
    } else if (ev.key === "End" && open.value && n > 0) {
      ev.preventDefault();
      active.value = n - 1;
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (n > 0 && !props.disabled) pick(matches[at]);
    } else if (ev.key === "Escape") {
      // Esc here is the picker's, not the page's (which clears the selection).
      ev.preventDefault();
      ev.stopPropagation();
      if (query.value !== "") {
        query.value = "";
        active.value = 0;
      } else {
        close();
        inputRef.current?.blur();
      }
    }
  };

  const listId = `${props.id}-list`;
  const expanded = open.value && !props.disabled;
  return (
    <div class="class-picker" data-open={expanded ? "true" : "false"}>
      <input
        ref={inputRef}
        id={`${props.id}-input`}
        class="class-picker-input"
        type="text"
        role="combobox"
        autocomplete="off"
        spellcheck={false}
        aria-label={props.label}
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && matches.length > 0
          ? optionId(matches[at])
          : undefined}
        placeholder={`Any of ${ds.classes.length} classes: type a name  /`}
        disabled={props.disabled}
        value={query.value}
        onInput={(e) => {
          query.value = (e.target as HTMLInputElement).value;
          active.value = 0;
          if (!open.value) openList();
        }}
        onFocus={openList}
        onBlur={() => close()}
        onKeyDown={onKeyDown}
      />
      {
        /* Always in the page (the input's aria-controls names it); its
           options only while it is open. */
      }
      <ul
        ref={listRef}
        id={listId}
        class={`class-picker-list ${place.value.up ? "up" : ""}`}
        style={{ maxHeight: `${place.value.max}px` }}
        role="listbox"
        aria-label="Classes"
        hidden={!expanded}
      >
        {expanded && matches.map((c, i) => (
          <li
            key={c}
            id={optionId(c)}
            role="option"
            aria-selected={i === at}
            data-class={c}
            class={`class-option ${i === at ? "active" : ""} ${
              props.current === c ? "current" : ""
            }`}
            // mousedown, not click: the input's blur would close the list first.
            onMouseDown={(e) => {
              e.preventDefault();
              pick(c);
            }}
            onMouseMove={() => {
              if (active.value !== i) active.value = i;
            }}
          >
            <i style={{ background: classColor(c) }} aria-hidden="true" />
            <span class="class-option-name">{ds.classes[c]}</span>
            {props.current === c && (
              <span class="class-option-note">current</span>
            )}
            {keyForClass(c, ds) && <kbd>{keyForClass(c, ds)}</kbd>}
          </li>
        ))}
        {expanded && matches.length === 0 && (
          <li class="class-option-empty" role="presentation">
            No class name contains “{query.value.trim()}”
          </li>
        )}
      </ul>
    </div>
  );
}
