/**
 * Every keyboard action of the page, in one table: the key handler, the
 * shortcut help (`?`) and the buttons' titles all read it, so a key, its help
 * line and its button never disagree. One entry = one user action.
 */
import type { LabelSource } from "../protocol/label_events.ts";
import {
  classForKey,
  digitClasses,
  labelKeyRange,
  needsClassPicker,
} from "./dataset.ts";
import type { Store } from "./store.ts";
import { reviewItemOf } from "./review_controller.ts";

export type ActionGroup = "Label" | "Move" | "Selection" | "History" | "View";

export interface KeyAction {
  id: string;
  group: ActionGroup;
  /** The keys as the help shows them. */
  keys: string[];
  /** What the action does (help line, button title). */
  label: string;
  /** Whether the page offers it now (undefined: always); the help lists only those. */
  available?(): boolean;
  /** Whether `ev` triggers it now (undefined: listed in the help only). */
  match?(ev: KeyboardEvent, store: Store): boolean;
  run?(store: Store, ev: KeyboardEvent): void;
}

const plain = (ev: KeyboardEvent) => !ev.ctrlKey && !ev.metaKey && !ev.altKey;
const ctrl = (ev: KeyboardEvent) => (ev.ctrlKey || ev.metaKey) && !ev.altKey;
/** The class a key labels (1–9, 0 for the first ten named classes; digits for MNIST). */
const keyClass = (ev: KeyboardEvent) => classForKey(ev.key);

/**
 * Labels with class `c` what a label key labels: the whole box/lasso
 * selection when there is one (planned and confirmed by
 * lib/client/batch_plan.ts), else the selected image. The label keys and
 * the class picker both call it, so picking a class by name is the same
 * action as its key.
 */
export function labelWithClass(
  store: Store,
  c: number,
  source: LabelSource = "key",
): void {
  if (store.active.selection.value) {
    store.active.actions.labelSelection(c);
  } else store.actions.setLabel(c, source);
}

/** The table. Order = the help's order. */
export const KEY_ACTIONS: readonly KeyAction[] = [
  {
    id: "label",
    group: "Label",
    // The data set's keys: 0–9 for digits, 1–9 then 0 for the first ten
    // named classes (fewer with fewer classes).
    get keys() {
      return labelKeyRange();
    },
    get label() {
      return (digitClasses()
        ? "Label the selected image"
        : "Label the selected image with one of the first ten classes (its key is on its button)") +
        "; with a box/lasso selection, all of it (asks first when labels would change or more than 200 images)";
    },
    match: (ev) => plain(ev) && keyClass(ev) !== null,
    run: (store, ev) => labelWithClass(store, keyClass(ev)!),
  },
  {
    id: "pick",
    group: "Label",
    keys: ["/"],
    label:
      "Pick any class by name (more than ten classes): type part of it, ↑/↓ then Enter",
    available: () => needsClassPicker(),
    match: (ev) => plain(ev) && ev.key === "/" && needsClassPicker(),
    run: (store) => {
      store.ui.pickClass.value++;
      // Now, within this key press, so the next key is already typed into
      // the picker (the panel's effect would focus it a frame later).
      if (typeof document !== "undefined") {
        document.getElementById("sample-picker-input")?.focus();
      }
    },
  },
  {
    id: "delete",
    group: "Label",
    keys: ["Del", "⌫"],
    label: "Remove the label (of the selection, when there is one)",
    match: (ev) => plain(ev) && (ev.key === "Delete" || ev.key === "Backspace"),
    run: (store) => {
      if (store.active.selection.value) {
        store.active.actions.labelSelection(null);
      } else store.actions.deleteLabel();
    },
  },
  {
    id: "next",
    group: "Move",
    keys: ["N", "Space"],
    label: "Select the next suggestion",
    match: (ev) =>
      plain(ev) && (ev.key === "n" || ev.key === "N" || ev.key === " "),
    run: (store) => store.active.actions.nextSuggestion(),
  },
  {
    id: "skip",
    group: "Label",
    keys: ["S"],
    label:
      "Skip the selected image, not sure of it: out of the suggestions for the next 50 labels, then the next one",
    match: (ev) => plain(ev) && (ev.key === "s" || ev.key === "S"),
    run: (store) => store.active.actions.skip(),
  },
  {
    id: "back",
    group: "Move",
    keys: ["["],
    label: "Back to the image shown before (the last 500 are kept)",
    match: (ev) => plain(ev) && ev.key === "[",
    run: (store) => store.actions.back(),
  },
  {
    id: "forward",
    group: "Move",
    keys: ["]"],
    label: "Forward again, after [",
    match: (ev) => plain(ev) && ev.key === "]",
    run: (store) => store.actions.forward(),
  },
  {
    id: "review",
    group: "Move",
    keys: ["R"],
    label:
      "Review: select the next label the rest of the data disagrees with (most suspicious first)",
    match: (ev) => plain(ev) && (ev.key === "r" || ev.key === "R"),
    run: (store) => store.actions.reviewNext(),
  },
  {
    id: "confirm",
    group: "Label",
    keys: ["Enter"],
    label:
      "Review: the selected label is right — it leaves the review queue (a digit relabels it instead)",
    // Only on a label of the queue: elsewhere Enter stays the browser's.
    match: (ev, store) =>
      plain(ev) && ev.key === "Enter" && !isOnButton(ev) &&
      reviewItemOf(store, store.selected.value) !== null,
    run: (store) => store.actions.confirmReview(),
  },
  {
    id: "arrows",
    group: "Move",
    keys: ["←", "↑", "→", "↓"],
    label: "Move to the nearest point that way (map focused: Tab to it)",
  },
  {
    id: "clear",
    group: "Selection",
    keys: ["Esc"],
    label: "Clear the box/lasso selection",
    match: (ev) => plain(ev) && ev.key === "Escape",
    run: (store) => store.active.actions.setSelection(null),
  },
  {
    id: "box",
    group: "Selection",
    keys: ["B"],
    label: "Drag a box to select points",
    match: (ev) => plain(ev) && (ev.key === "b" || ev.key === "B"),
    run: (store) => store.active.dragMode.value = "select",
  },
  {
    id: "lasso",
    group: "Selection",
    keys: ["L"],
    label: "Draw a lasso to select points",
    match: (ev) => plain(ev) && (ev.key === "l" || ev.key === "L"),
    run: (store) => store.active.dragMode.value = "lasso",
  },
  {
    id: "zoom",
    group: "View",
    keys: ["Z"],
    label: "Drag to zoom (scroll zooms too; double-click resets)",
    match: (ev) => plain(ev) && (ev.key === "z" || ev.key === "Z"),
    run: (store) => store.active.dragMode.value = "zoom",
  },
  {
    id: "grid",
    group: "View",
    keys: ["G"],
    label:
      "The grid of thumbnails, filtered and sorted, or back to the map (the same keys label in both)",
    match: (ev) => plain(ev) && (ev.key === "g" || ev.key === "G"),
    run: (store) =>
      store.ui.view.value = store.ui.view.value === "grid" ? "map" : "grid",
  },
  {
    id: "colour",
    group: "View",
    keys: ["C"],
    label: "Next colour mode (user labels, predicted class, certainty)",
    match: (ev) => plain(ev) && (ev.key === "c" || ev.key === "C"),
    run: (store) => {
      const order = ["labels", "predicted", "certainty"] as const;
      const k = order.indexOf(store.colorMode.value);
      store.colorMode.value = order[(k + 1) % order.length];
    },
  },
  {
    id: "undo",
    group: "History",
    keys: ["Ctrl", "Z"],
    label: "Undo the last label action (a key, a batch or an import)",
    match: (ev) => ctrl(ev) && !ev.shiftKey && ev.key.toLowerCase() === "z",
    run: (store) => store.active.actions.undo(),
  },
  {
    id: "redo",
    group: "History",
    keys: ["Ctrl", "Y"],
    label: "Redo (Ctrl+Shift+Z too)",
    match: (ev) =>
      ctrl(ev) &&
      ((ev.shiftKey && ev.key.toLowerCase() === "z") ||
        (!ev.shiftKey && ev.key.toLowerCase() === "y")),
    run: (store) => store.active.actions.redo(),
  },
  {
    id: "help",
    group: "View",
    keys: ["?"],
    label: "Show or hide these shortcuts",
    match: (ev) => !ev.ctrlKey && !ev.metaKey && ev.key === "?",
    run: (store) => store.ui.helpOpen.value = !store.ui.helpOpen.value,
  },
];

/** "Select the next suggestion (N or Space)": a button's title. */
export function actionTitle(id: string): string {
  const a = KEY_ACTIONS.find((x) => x.id === id);
  if (!a) return "";
  const keys = a.keys.includes("–")
    ? a.keys.join("")
    : a.keys.length === 2 && a.keys[0] === "Ctrl"
    ? a.keys.join("+")
    : a.keys.join(" or ");
  return `${a.label} (${keys})`;
}

/** Whether the key's target is a button or link (Enter then presses it). */
function isOnButton(ev: KeyboardEvent): boolean {
  const t = ev.target as HTMLElement | null;
  return Boolean(
    t?.closest?.("button, a, summary, [role=button], [role=radio]"),
  );
}

/** Whether a key press belongs to a text field (then shortcuts stay off). */
export function isTypingTarget(t: EventTarget | null): boolean {
  if (!t || typeof HTMLElement === "undefined" || !(t instanceof HTMLElement)) {
    return false;
  }
  if (t.isContentEditable) return true;
  if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) {
    return true;
  }
  if (t instanceof HTMLInputElement) {
    // Sliders, buttons and checkboxes take no text: digits still label.
    return !["range", "button", "checkbox", "radio", "submit", "reset"]
      .includes(t.type);
  }
  return false;
}

/**
 * Runs the action `ev` triggers, if any; returns its id. Off while typing,
 * while a dialog is open (it has its own keys), and Space on a button
 * presses the button.
 */
export function dispatchKey(store: Store, ev: KeyboardEvent): string | null {
  if (ev.defaultPrevented || isTypingTarget(ev.target)) return null;
  if (store.ui.confirm.value) return null;
  if (store.ui.helpOpen.value && ev.key !== "?" && ev.key !== "Escape") {
    return null;
  }
  if (ev.key === " ") {
    const t = ev.target as HTMLElement | null;
    if (t?.closest?.("button, a, summary, [role=button], [role=radio]")) {
      return null;
    }
  }
  if (ev.key === "Escape" && store.ui.helpOpen.value) {
    store.ui.helpOpen.value = false;
    ev.preventDefault();
    return "help";
  }
  for (const a of KEY_ACTIONS) {
    if (a.match?.(ev, store) && a.run) {
      ev.preventDefault();
      a.run(store, ev);
      return a.id;
    }
  }
  return null;
}
