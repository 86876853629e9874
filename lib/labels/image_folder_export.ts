/**
 * The labels as an ImageFolder: `<out>/<class>/<file>`, one folder per
 * class, the layout torchvision's `datasets.ImageFolder` and Hugging Face
 * `datasets` ("imagefolder" builder) both read as they are. An image
 * folder's files are linked (symbolic links to the originals) or copied;
 * images that have no file (MNIST's IDX) are written as PNGs.
 *
 * Beside the class folders, `labels.csv` (`path,label,class`, the path
 * relative to `<out>`) says the same in one file, for pandas or a training
 * script that wants the class indices as the dashboard numbers them
 * (ImageFolder numbers classes by sorted folder name).
 */

import { encode } from "fast-png";
import { basename, join, resolve } from "node:path";
import { stringify } from "csv-stringify/sync";
import { writeFileAtomic } from "../atomic_file.ts";

/** What to export. */
export interface ImageFolderSource {
  /** One per image, NaN = unlabelled. */
  labels: Float32Array;
  classes: string[];
  /** labels.csv's Serial of image i (file names keep it: unique). */
  serialOf: (index: number) => number;
  /** An image folder's files, relative to `dir`. */
  files?: { dir: string; paths: string[] };
  /** Else the images' bytes: count × rows × cols × channels. */
  pixels?: { raw: Uint8Array; rows: number; cols: number; channels: number };
}

/** How: links (image folders only) or copies. */
export type ExportMode = "link" | "copy";

/** A class name as a folder name: no separators, no dot-only names. */
export function classFolderName(name: string): string {
  const safe = name.replace(/[\/\\\0]/g, "_").trim();
  return safe === "" || safe === "." || safe === ".." ? `_${safe}` : safe;
}

/**
 * Writes the export to `out`, which must not exist or be empty (an export
 * is never mixed into another). Returns the images written per class.
 */
export async function exportImageFolder(
  src: ImageFolderSource,
  out: string,
  mode: ExportMode,
): Promise<{ images: number; perClass: number[] }> {
  if (!src.files && !src.pixels) throw new Error("nothing to export from");
  try {
    for await (const _ of Deno.readDir(out)) {
      throw new Error(
        `${out} is not empty: export into a new or empty folder`,
      );
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const folders = src.classes.map(classFolderName);
  if (new Set(folders).size !== folders.length) {
    throw new Error("two classes share a folder name");
  }
  await Deno.mkdir(out, { recursive: true });
  const made = new Set<number>();
  const perClass = new Array<number>(src.classes.length).fill(0);
  const rows: string[][] = [];
  for (let i = 0; i < src.labels.length; i++) {
    const label = src.labels[i];
    if (Number.isNaN(label)) continue;
    const folder = join(out, folders[label]);
    if (!made.has(label)) {
      await Deno.mkdir(folder, { recursive: true });
      made.add(label);
    }
    const serial = src.serialOf(i);
    let name: string;
    if (src.files) {
      const from = resolve(src.files.dir, src.files.paths[i]);
      // The serial keeps two files of the same name (a/x.png, b/x.png) apart.
      name = `${serial}_${basename(src.files.paths[i])}`;
      if (mode === "link") await Deno.symlink(from, join(folder, name));
      else await Deno.copyFile(from, join(folder, name));
    } else {
      const { raw, rows: h, cols: w, channels } = src.pixels!;
      const size = h * w * channels;
      name = `${serial}.png`;
      await Deno.writeFile(
        join(folder, name),
        encode({
          width: w,
          height: h,
          channels,
          depth: 8,
          data: raw.subarray(i * size, (i + 1) * size),
        }),
      );
    }
    perClass[label]++;
    rows.push([`${folders[label]}/${name}`, String(label), src.classes[label]]);
  }
  await writeFileAtomic(
    join(out, "labels.csv"),
    stringify(rows, { header: true, columns: ["path", "label", "class"] }),
  );
  return { images: rows.length, perClass };
}
