/** Crash-safe file replacement shared by the labels store and the checkpoint. */

import { basename, dirname } from "node:path";

/** The target of a write is read-only (no write permission bit set). */
export class ReadOnlyFileError extends Error {
  override name = "ReadOnlyFileError";
  constructor(readonly path: string, mode: number) {
    super(
      `${path} is read-only (mode ${
        (mode & 0o777).toString(8).padStart(4, "0")
      }): not saved; make it writable (chmod u+w) to save changes`,
    );
  }
}

/**
 * A symbolic link whose target is missing: writing would replace the link with
 * a plain file and the file it should reach would never get the data.
 */
export class DanglingLinkError extends Error {
  override name = "DanglingLinkError";
  constructor(readonly path: string, target: string) {
    super(
      `${path} is a symbolic link to ${target}, which does not exist: not saved; ` +
        "restore the target or remove the link",
    );
  }
}

/**
 * Replaces `path` with `data` atomically: a temp file in the same folder, fsynced,
 * renamed over the target, then the folder fsynced so the rename itself is durable.
 * A crash at any point leaves either the old file or the new one, never a mix.
 * The folder must exist: a vanished folder is an error, not something to paper
 * over (callers create their folders up front).
 *
 * A symbolic link is written through: the file it points at is replaced
 * (temp file beside the target), the link stays. People keep labels.csv in a
 * synced folder behind a link; renaming over the link itself would cut it off
 * silently. A link to a missing file is refused (DanglingLinkError).
 *
 * A target with no write permission bit is refused (ReadOnlyFileError) and left
 * untouched: renaming over it needs only the folder's permission, so without
 * this check a file the user made read-only would be silently replaced by a
 * writable one (and root passes every permission check anyway).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Uint8Array[],
): Promise<void> {
  const target = await linkTarget(path);
  await refuseReadOnly(target);
  const dir = dirname(target);
  const tmp = `${dir}/${tempName(basename(target))}`;
  // A list is written part after part (a cache's envelope, then its payload).
  const parts = typeof data === "string"
    ? [new TextEncoder().encode(data)]
    : Array.isArray(data)
    ? data
    : [data];
  try {
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    try {
      for (const bytes of parts) {
        let written = 0;
        while (written < bytes.length) {
          written += await file.write(bytes.subarray(written));
        }
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, target);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

/** The file a write of `path` replaces: `path`, or the end of its chain of links. */
async function linkTarget(path: string): Promise<string> {
  try {
    if (!(await Deno.lstat(path)).isSymlink) return path;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return path;
    throw e;
  }
  try {
    return await Deno.realPath(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new DanglingLinkError(
      path,
      await Deno.readLink(path).catch(() => "?"),
    );
  }
}

/**
 * A temp file's name: hidden, the target's name, this process's id (so a
 * start can tell a dead writer's leftovers from a live one's), a UUID.
 */
function tempName(base: string): string {
  return `.${base}.${Deno.pid}-${crypto.randomUUID()}.tmp`;
}

/** `.<name>.<pid>-<uuid>.tmp` (this version) or `.<name>.<uuid>.tmp` (earlier ones). */
const TEMP_NAME =
  /^\.(.+)\.(?:(\d+)-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Whether process `pid` runs (Linux's /proc); null where that cannot be told. */
function processAlive(pid: number): boolean | null {
  if (pid === Deno.pid) return true;
  if (Deno.build.os !== "linux") return null;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the temp files killed writers left in `dir` (any target's), at
 * start: those of a process that no longer runs go at once; those whose
 * writer cannot be told (an earlier version's names, or no /proc) once older
 * than `minAgeMs`, as a younger one may belong to a process writing now.
 * `only` keeps to the temp files of one target name. Returns the names removed.
 */
export async function sweepTempFiles(
  dir: string,
  minAgeMs = 10 * 60_000,
  only?: string,
): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return removed;
    throw err;
  }
  for (const entry of entries) {
    const m = entry.isFile ? TEMP_NAME.exec(entry.name) : null;
    if (!m || (only !== undefined && m[1] !== only)) continue;
    const file = `${dir}/${entry.name}`;
    const alive = m[2] === undefined ? null : processAlive(Number(m[2]));
    let stale = alive === false;
    if (alive === null) {
      try {
        const mtime = (await Deno.stat(file)).mtime?.getTime() ?? Date.now();
        stale = Date.now() - mtime >= minAgeMs;
      } catch {
        continue; // gone meanwhile
      }
    }
    if (stale) {
      await Deno.remove(file).catch(() => {});
      removed.push(entry.name);
    }
  }
  return removed;
}

/** Throws ReadOnlyFileError when `path` exists and no write bit is set. */
async function refuseReadOnly(path: string): Promise<void> {
  let mode: number | null;
  try {
    mode = (await Deno.stat(path)).mode;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  // null on Windows, which has no permission bits: nothing to check there.
  if (mode !== null && (mode & 0o222) === 0) {
    throw new ReadOnlyFileError(path, mode);
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(dir, { read: true });
  } catch {
    return; // Some platforms cannot open a directory; the rename is still atomic.
  }
  try {
    await handle.sync();
  } catch {
    // fsync on a directory is unsupported on some file systems.
  } finally {
    handle.close();
  }
}

/**
 * sweepTempFiles over the folders of `files` (each file's own folder, and
 * its link target's when it is a symbolic link) and over `dirs`; returns
 * the paths removed. Run at start, before anything is written.
 */
export async function sweepAtStart(
  files: string[],
  dirs: string[] = [],
): Promise<string[]> {
  const folders = new Set(dirs);
  for (const f of files) {
    folders.add(dirname(f));
    try {
      folders.add(dirname(await Deno.realPath(f)));
    } catch { /* missing: its folder is in already */ }
  }
  const removed: string[] = [];
  for (const dir of folders) {
    for (const name of await sweepTempFiles(dir)) {
      removed.push(`${dir}/${name}`);
    }
  }
  return removed;
}

/**
 * Removes the temp files killed writers of `path` left beside it (see
 * sweepTempFiles); returns how many.
 */
export async function removeStaleTempFiles(
  path: string,
  minAgeMs = 10 * 60_000,
): Promise<number> {
  const removed = await sweepTempFiles(dirname(path), minAgeMs, basename(path));
  return removed.length;
}
