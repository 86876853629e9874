/**
 * Undo and redo over label actions (one key press, or one batch from a lasso).
 * An entry remembers each index's label before and after; undoing writes the
 * "before" values back through the normal label path (one batch write when the
 * action was a batch), redoing writes the "after" values. Pure: no I/O here.
 */
import { signal } from "@preact/signals";

export interface UndoChange {
  index: number;
  before: number | null;
  after: number | null;
}

export interface UndoEntry {
  id: number;
  /** Shown in toasts: "label #12 as 3", "label 40 images as 7". */
  text: string;
  changes: UndoChange[];
}

const LIMIT = 100;
let nextId = 1;

export class UndoHistory {
  #undo: UndoEntry[] = [];
  #redo: UndoEntry[] = [];
  /** Stack depths as signals, for the buttons. */
  readonly undoDepth = signal(0);
  readonly redoDepth = signal(0);

  #sync() {
    this.undoDepth.value = this.#undo.length;
    this.redoDepth.value = this.#redo.length;
  }

  /** Records a new action; clears redo. No-op changes are dropped. */
  record(text: string, changes: UndoChange[]): UndoEntry | null {
    const real = changes.filter((c) => c.before !== c.after);
    if (real.length === 0) return null;
    const entry = { id: nextId++, text, changes: real };
    this.#undo.push(entry);
    if (this.#undo.length > LIMIT) this.#undo.shift();
    this.#redo = [];
    this.#sync();
    return entry;
  }

  /** Forgets an action whose write failed (it never happened). */
  discard(entry: UndoEntry) {
    this.#undo = this.#undo.filter((e) => e !== entry);
    this.#redo = this.#redo.filter((e) => e !== entry);
    this.#sync();
  }

  /** Moves the newest action to the redo stack and returns it (to be reverted). */
  takeUndo(): UndoEntry | null {
    const e = this.#undo.pop() ?? null;
    if (e) this.#redo.push(e);
    this.#sync();
    return e;
  }

  /** Moves the newest undone action back and returns it (to be re-applied). */
  takeRedo(): UndoEntry | null {
    const e = this.#redo.pop() ?? null;
    if (e) this.#undo.push(e);
    this.#sync();
    return e;
  }

  /** An undo whose write failed: the action is still in effect. */
  undoFailed(entry: UndoEntry) {
    const i = this.#redo.lastIndexOf(entry);
    if (i >= 0) {
      this.#redo.splice(i, 1);
      this.#undo.push(entry);
    }
    this.#sync();
  }

  /** A redo whose write failed: the action stays undone. */
  redoFailed(entry: UndoEntry) {
    const i = this.#undo.lastIndexOf(entry);
    if (i >= 0) {
      this.#undo.splice(i, 1);
      this.#redo.push(entry);
    }
    this.#sync();
  }

  get canUndo(): boolean {
    return this.#undo.length > 0;
  }

  get canRedo(): boolean {
    return this.#redo.length > 0;
  }
}

/** The label changes that revert `entry`. */
export function revertChanges(entry: UndoEntry) {
  return entry.changes.map((c) => ({ index: c.index, label: c.before }));
}

/** The label changes that re-apply `entry`. */
export function applyChanges(entry: UndoEntry) {
  return entry.changes.map((c) => ({ index: c.index, label: c.after }));
}
