/**
 * The class names of an image folder: `--classes a,b,c`, else the folder's
 * `classes.txt` (one name per line), else its class sub-folders' names
 * (sorted), else the digits 0–9 (MNIST's classes).
 */

import { printable } from "../quote_input.ts";
import { MAX_CLASSES } from "../protocol/limits.ts";
import { CLASSES_FILE } from "./scan.ts";

export { MAX_CLASSES };

/** MNIST's classes, and the default of a folder that names none. */
export const DIGIT_CLASSES: readonly string[] = Array.from(
  { length: 10 },
  (_, i) => String(i),
);

/** A bad class list; the message names the name and the source. */
export class ClassesError extends Error {
  override name = "ClassesError";
}

/** Checks a list of names: 1–MAX_CLASSES (100), unique, non-empty, no commas or line breaks. */
export function validateClasses(names: string[], source: string): string[] {
  if (names.length === 0) throw new ClassesError(`${source}: no class names`);
  if (names.length > MAX_CLASSES) {
    throw new ClassesError(
      `${source}: ${names.length} classes; at most ${MAX_CLASSES} are supported`,
    );
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (name === "" || /[,\r\n\t]/.test(name) || name.length > 64) {
      throw new ClassesError(
        `${source}: bad class name ${
          JSON.stringify(name)
        } (1–64 characters, no comma, tab or line break)`,
      );
    }
    if (seen.has(name)) {
      throw new ClassesError(
        `${source}: class ${JSON.stringify(name)} is named twice`,
      );
    }
    seen.add(name);
  }
  return names;
}

/** Parses `--classes cat,dog,...` (names trimmed). */
export function parseClassList(text: string): string[] {
  return validateClasses(text.split(",").map((s) => s.trim()), "--classes");
}

/** Reads `classes.txt` from `dir`: one name per line, blank lines and `#` comments ignored; null when absent. */
export async function readClassesFile(dir: string): Promise<string[] | null> {
  const path = `${dir}/${CLASSES_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new ClassesError(`${path}: ${(e as Error).message}`);
  }
  const names = text.replace(/^\uFEFF/, "").split(/\r?\n/).map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  return validateClasses(names, path);
}

/**
 * The class names of a folder (see the module comment). With class
 * sub-folders, every folder must name a class.
 */
export async function resolveClasses(
  dir: string,
  explicit: string[] | undefined,
  classFolders: string[] | null,
): Promise<{ classes: string[]; source: string }> {
  let classes: string[];
  let source: string;
  const fromFile = explicit ? null : await readClassesFile(dir);
  if (explicit) {
    classes = validateClasses(explicit, "--classes");
    source = "--classes";
  } else if (fromFile) {
    classes = fromFile;
    source = `${dir}/${CLASSES_FILE}`;
  } else if (classFolders) {
    classes = validateClasses(
      [...classFolders].sort(),
      `the sub-folders of ${dir}`,
    );
    source = "sub-folders";
  } else {
    return { classes: [...DIGIT_CLASSES], source: "default (0-9)" };
  }
  if (classFolders) {
    for (const folder of classFolders) {
      if (!classes.includes(folder)) {
        throw new ClassesError(
          `${
            printable(`${dir}/${folder}`)
          }/: a class sub-folder whose name is not among the classes of ${source} (${
            classes.join(", ")
          })`,
        );
      }
    }
  }
  return { classes, source };
}
