/**
 * Walks an image folder: every PNG/JPEG under it (recursively) with its size
 * and modification time, every other file as skipped with the reason, and
 * whether the folder has the ImageFolder layout (one sub-folder per class).
 */

import { IMAGE_EXTENSIONS } from "./decode.ts";

/** One image file, `path` relative to the folder with "/" separators. */
export interface ScannedImage {
  path: string;
  size: number;
  mtimeMs: number;
}

/** A file that is not labelled, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** What is in the folder. */
export interface FolderScan {
  /** Images, sorted by path (code-point order, so serials are assigned the same way everywhere). */
  images: ScannedImage[];
  skipped: SkippedFile[];
  /** Names of the top-level sub-folders when the layout is ImageFolder; else null. */
  classFolders: string[] | null;
}

/** The folder's own class list, read by lib/images/classes.ts; never an image. */
export const CLASSES_FILE = "classes.txt";

/** A missing or unreadable image folder. */
export class FolderError extends Error {
  override name = "FolderError";
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/**
 * Scans `root` (see the module comment). Throws FolderError when it is no
 * folder. A symbolic link that leads out of the folder is skipped (and
 * listed) unless `followLinks`: what is labelled and served is what lies
 * under the folder the user named.
 */
export async function scanFolder(
  root: string,
  opts: { followLinks?: boolean } = {},
): Promise<FolderScan> {
  try {
    if (!(await Deno.stat(root)).isDirectory) {
      throw new FolderError(`${root}: not a folder`);
    }
  } catch (e) {
    if (e instanceof FolderError) throw e;
    throw new FolderError(
      `${root}: cannot open the image folder: ${(e as Error).message}`,
    );
  }
  const candidates: string[] = [];
  const skipped: SkippedFile[] = [];
  const topDirs: string[] = [];
  let topImages = 0;
  // Real paths of the folders walked: a symbolic link back up the tree
  // would otherwise walk forever.
  const seen = new Set<string>();
  let realRoot: string;
  try {
    realRoot = Deno.realPathSync(root);
  } catch {
    realRoot = root;
  }
  const inside = (real: string) =>
    real === realRoot ||
    real.startsWith(realRoot.endsWith("/") ? realRoot : `${realRoot}/`);
  const walk = (rel: string, depth: number) => {
    const abs = rel ? `${root}/${rel}` : root;
    let real: string;
    try {
      real = Deno.realPathSync(abs);
    } catch {
      real = abs;
    }
    if (seen.has(real)) {
      skipped.push({
        path: rel,
        reason: "a folder seen before (symbolic link)",
      });
      return;
    }
    seen.add(real);
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(abs)];
    } catch (e) {
      skipped.push({
        path: rel || ".",
        reason: `unreadable folder: ${(e as Error).message}`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.name.startsWith(".")) {
        // Hidden files and folders (.DS_Store, .git, our own temp files).
        skipped.push({ path, reason: "hidden" });
        continue;
      }
      let isDir = entry.isDirectory, isFile = entry.isFile;
      if (entry.isSymlink) {
        let real: string;
        try {
          real = Deno.realPathSync(`${abs}/${entry.name}`);
          const st = Deno.statSync(real);
          isDir = st.isDirectory;
          isFile = st.isFile;
        } catch {
          skipped.push({ path, reason: "broken symbolic link" });
          continue;
        }
        if (!opts.followLinks && !inside(real)) {
          skipped.push({
            path,
            reason:
              `symbolic link out of the folder (to ${real}); --follow-links takes it`,
          });
          continue;
        }
      }
      if (isDir) {
        if (depth === 0) topDirs.push(entry.name);
        walk(path, depth + 1);
      } else if (isFile) {
        if (depth === 0 && entry.name === CLASSES_FILE) continue;
        if (IMAGE_EXTENSIONS[extensionOf(entry.name)]) {
          candidates.push(path);
          if (depth === 0) topImages++;
        } else {
          skipped.push({ path, reason: "not a .png, .jpg or .jpeg file" });
        }
      } else {
        skipped.push({ path, reason: "not a regular file" });
      }
    }
  };
  walk("", 0);
  candidates.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Synchronous stats: ~10× cheaper per file than awaiting each one, and a
  // cached start of 60k images is mostly this loop.
  const images: ScannedImage[] = [];
  for (const p of candidates) {
    try {
      const st = Deno.statSync(`${root}/${p}`);
      images.push({
        path: p,
        size: st.size,
        mtimeMs: st.mtime?.getTime() ?? 0,
      });
    } catch (e) {
      skipped.push({ path: p, reason: `unreadable: ${(e as Error).message}` });
    }
  }
  return {
    images,
    skipped,
    classFolders: topDirs.length > 0 && topImages === 0 ? topDirs : null,
  };
}
