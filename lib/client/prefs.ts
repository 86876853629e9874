/**
 * Page settings that survive a reload (issue 23: a reload reset the epochs
 * and the colour mode): a signal read from localStorage when the store is
 * made and written back on every change. A value that fails `valid` (an
 * older page's, or edited by hand) gives the default.
 */
import { effect, type Signal, signal } from "@preact/signals";

const PREFIX = "ssvae.pref.";

/** A signal of `key`'s stored value (JSON), else `fallback`; kept stored. */
export function persistedSignal<T>(
  key: string,
  fallback: T,
  valid: (v: unknown) => v is T,
): Signal<T> {
  const s = signal(fallback);
  persist(s, key, valid);
  return s;
}

/**
 * Sets `s` from `key`'s stored value (when there is a valid one) and stores
 * every later value; returns the disposer of the store-back effect.
 */
export function persist<T>(
  s: Signal<T>,
  key: string,
  valid: (v: unknown) => v is T,
): () => void {
  try {
    const text = globalThis.localStorage?.getItem(PREFIX + key);
    if (text !== null && text !== undefined) {
      const v: unknown = JSON.parse(text);
      if (valid(v)) s.value = v;
    }
  } catch {
    // No storage (a private window's may throw) or bad JSON: the default.
  }
  return effect(() => {
    const v = s.value;
    try {
      globalThis.localStorage?.setItem(PREFIX + key, JSON.stringify(v));
    } catch {
      // Storage full or refused: the setting lasts this page only.
    }
  });
}
