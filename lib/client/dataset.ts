/**
 * What the page knows of the data set (`dataset` of GET /api/state): its
 * class names and image shape, and the helpers every panel uses to name a
 * class, map a key to a class and draw an image. MNIST (classes "0"–"9",
 * 28×28 grey) is the default, so a page without it looks as before.
 */

import { signal } from "@preact/signals";
import { MAX_CLASSES } from "../protocol/limits.ts";
import type { DatasetView } from "../protocol/api.ts";

export type { DatasetView };

/** MNIST: the default until the server says otherwise. */
export const MNIST_VIEW: DatasetView = {
  kind: "mnist",
  name: "MNIST",
  classes: Array.from({ length: 10 }, (_, i) => String(i)),
  rows: 28,
  cols: 28,
  channels: 1,
};

/** The data set of this page (one per page: a server serves one data set). */
export const dataset = signal<DatasetView>(MNIST_VIEW);

/** Takes the server's description when it is a valid one; keeps the old one otherwise. */
export function setDataset(d: unknown): void {
  const v = d as Partial<DatasetView> | null | undefined;
  if (
    !v || !Array.isArray(v.classes) || v.classes.length < 1 ||
    v.classes.length > MAX_CLASSES ||
    !v.classes.every((c) => typeof c === "string") ||
    !(Number(v.rows) > 0 && Number(v.cols) > 0) ||
    (v.channels !== 1 && v.channels !== 3)
  ) return;
  const next = v as DatasetView;
  const cur = dataset.value;
  if (
    cur.name === next.name && cur.rows === next.rows &&
    cur.cols === next.cols && cur.channels === next.channels &&
    cur.classes.join("\n") === next.classes.join("\n") &&
    cur.hasTest === next.hasTest
  ) return;
  dataset.value = { ...next, classes: [...next.classes] };
}

/** The name of class `c` ("7" for MNIST, "sneaker" for a named class). */
export function className(c: number, d: DatasetView = dataset.value): string {
  return d.classes[c] ?? String(c);
}

/** True when the classes are the digits 0–9 (then key d is class d). */
export function digitClasses(d: DatasetView = dataset.value): boolean {
  return d.classes.length === 10 && d.classes.every((c, i) => c === String(i));
}

/**
 * The class a key labels, or null: the digit itself for MNIST; otherwise
 * 1–9 the first nine classes and 0 the tenth (the keyboard's order).
 */
export function classForKey(
  key: string,
  d: DatasetView = dataset.value,
): number | null {
  if (key.length !== 1 || key < "0" || key > "9") return null;
  const n = Number(key);
  const c = digitClasses(d) ? n : (n + 9) % 10;
  return c < d.classes.length ? c : null;
}

/**
 * The key that labels class `c` (see `classForKey`), or "" for none: only
 * the first ten classes have keys; the others are picked by name.
 */
export function keyForClass(c: number, d: DatasetView = dataset.value): string {
  if (c < 0 || c >= 10 || c >= d.classes.length) return "";
  return String(digitClasses(d) ? c : (c + 1) % 10);
}

/** The first and last label keys: "0"–"9" for MNIST, "1"–"0" (or fewer) for names. */
export function labelKeys(d: DatasetView = dataset.value): [string, string] {
  return digitClasses(d)
    ? ["0", "9"]
    : ["1", keyForClass(Math.min(d.classes.length, 10) - 1, d)];
}

/** The label keys as a range to show: ["0", "–", "9"], ["1", "–", "0"], or ["1"] for one class. */
export function labelKeyRange(d: DatasetView = dataset.value): string[] {
  const [first, last] = labelKeys(d);
  return first === last ? [first] : [first, "–", last];
}

/** True when the classes outnumber the label keys: the page adds a class picker. */
export function needsClassPicker(d: DatasetView = dataset.value): boolean {
  return d.classes.length > 10;
}

/**
 * The classes whose name contains `query` (case-insensitive), those that
 * start with it first, each group in class order; all of them for "". The
 * class picker's list.
 */
export function filterClasses(
  query: string,
  d: DatasetView = dataset.value,
): number[] {
  const q = query.trim().toLowerCase();
  const all = d.classes.map((_, c) => c);
  if (q === "") return all;
  const starts: number[] = [], inside: number[] = [];
  for (const c of all) {
    const name = d.classes[c].toLowerCase();
    if (name.startsWith(q)) starts.push(c);
    else if (name.includes(q)) inside.push(c);
  }
  return [...starts, ...inside];
}

/**
 * Draws one image (`rows × cols` pixels of `channels` bytes) onto a canvas of
 * that size; CSS scales it up (pixelated).
 */
export function drawImage(
  canvas: HTMLCanvasElement,
  bytes: Uint8Array,
  rows: number,
  cols: number,
  channels: number,
): void {
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const img = ctx.createImageData(cols, rows);
  const d = img.data;
  const n = rows * cols;
  for (let i = 0; i < n; i++) {
    if (channels === 3) {
      d[4 * i] = bytes[3 * i] ?? 0;
      d[4 * i + 1] = bytes[3 * i + 1] ?? 0;
      d[4 * i + 2] = bytes[3 * i + 2] ?? 0;
    } else {
      d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = bytes[i] ?? 0;
    }
    d[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
