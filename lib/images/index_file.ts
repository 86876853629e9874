/**
 * The image index beside labels.csv: which file each Serial of labels.csv is.
 * CSV `Serial,path` (path relative to the image folder, "/" separators).
 *
 * Serials are never reused or renumbered: a file seen before keeps its serial
 * (even while it is missing, so it gets it back when it returns), a new file
 * gets the next unused one. So a label in labels.csv always stays with its file.
 */

import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { writeFileAtomic } from "../atomic_file.ts";

/** A malformed index file; names the line. */
export class IndexFileError extends Error {
  override name = "IndexFileError";
}

/** The header of the index file. */
export const INDEX_HEADER = ["Serial", "path"] as const;

/** Where the index of a labels file lives: `labels.csv` → `labels.index.csv`. */
export function indexPathFor(labelsPath: string): string {
  return labelsPath.replace(/(\.csv)?$/i, ".index.csv");
}

/** Reads the index (serial → path); an absent file is an empty index. */
export async function readIndex(path: string): Promise<Map<number, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return new Map();
    throw new IndexFileError(`${path}: ${(e as Error).message}`);
  }
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  if (!text.includes('"')) {
    // Without quotes every row is "serial,path", split at its first comma: a
    // plain split is many times cheaper than the CSV parser on 60k rows.
    rows = [];
    text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((line, i) => {
      if (line === "") return;
      const k = line.indexOf(",");
      rows.push({
        record: k < 0 ? [line] : [line.slice(0, k), line.slice(k + 1)],
        info: { lines: i + 1 },
      });
    });
  } else {
    try {
      rows = parse(text, {
        bom: true,
        info: true,
        skip_empty_lines: true,
        relax_column_count: true,
      }) as unknown as typeof rows;
    } catch (e) {
      throw new IndexFileError(
        `${path}: malformed CSV: ${(e as Error).message}`,
      );
    }
  }
  const out = new Map<number, string>();
  const seen = new Set<string>();
  rows.forEach(({ record, info }, k) => {
    if (k === 0) {
      if (record.join(",") !== INDEX_HEADER.join(",")) {
        throw new IndexFileError(
          `${path}: line 1: expected header "Serial,path", got ${
            JSON.stringify(record.join(","))
          }`,
        );
      }
      return;
    }
    const [serialText, rel] = record;
    const serial = Number(serialText);
    if (
      record.length !== 2 || !/^\d+$/.test(serialText) ||
      !Number.isSafeInteger(serial) || !rel
    ) {
      throw new IndexFileError(
        `${path}: line ${info.lines}: expected "Serial,path", got ${
          JSON.stringify(record.join(","))
        }`,
      );
    }
    // Read as UTF-8: a byte that is not (a damaged file) comes back as
    // U+FFFD, and such a path would name no file and detach its labels.
    if (rel.includes("\uFFFD")) {
      throw new IndexFileError(
        `${path}: line ${info.lines}: the path is not valid UTF-8 text (a damaged file?); restore the index from a backup, or remove the line`,
      );
    }
    if (out.has(serial) || seen.has(rel)) {
      throw new IndexFileError(
        `${path}: line ${info.lines}: serial ${serial} or path ${
          JSON.stringify(rel)
        } listed twice`,
      );
    }
    out.set(serial, rel);
    seen.add(rel);
  });
  return out;
}

/** Writes the index atomically, rows by serial. */
export async function writeIndex(
  path: string,
  index: Map<number, string>,
): Promise<void> {
  const rows = [...index.entries()].sort((a, b) => a[0] - b[0]);
  await writeFileAtomic(
    path,
    stringify(rows, { header: true, columns: [...INDEX_HEADER] }),
  );
}

/** What changed between the stored index and the folder. */
export interface IndexUpdate {
  /** serial → path, every file ever seen (the new index). */
  index: Map<number, string>;
  /** path → serial for the files present now. */
  serialOf: Map<string, number>;
  added: string[];
  /** Files in the index that are not in the folder now (they keep their serial). */
  missing: string[];
  changed: boolean;
}

/**
 * Gives every present file its serial: the stored one, else the next unused
 * (in path order). `taken` are serials used elsewhere (labels.csv's rows): a
 * new serial is above them too, so a row removed from the index by hand can
 * never hand its labels to another file.
 */
export function updateIndex(
  stored: Map<number, string>,
  present: string[],
  taken: Iterable<number> = [],
): IndexUpdate {
  const index = new Map(stored);
  const byPath = new Map<string, number>();
  for (const [serial, rel] of stored) byPath.set(rel, serial);
  let next = 0;
  for (const serial of stored.keys()) next = Math.max(next, serial + 1);
  for (const serial of taken) next = Math.max(next, serial + 1);
  const serialOf = new Map<string, number>();
  const added: string[] = [];
  for (const rel of present) {
    let serial = byPath.get(rel);
    if (serial === undefined) {
      serial = next++;
      index.set(serial, rel);
      added.push(rel);
    }
    serialOf.set(rel, serial);
  }
  const missing = [...stored.values()].filter((rel) => !serialOf.has(rel));
  return { index, serialOf, added, missing, changed: added.length > 0 };
}
