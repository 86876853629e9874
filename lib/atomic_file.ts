/** Crash-safe file replacement shared by the labels store and the checkpoint. */

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
 * Replaces `path` with `data` atomically: a temp file in the same folder, fsynced,
 * renamed over the target, then the folder fsynced so the rename itself is durable.
 * A crash at any point leaves either the old file or the new one, never a mix.
 * The folder must exist: a vanished folder is an error, not something to paper
 * over (callers create their folders up front).
 *
 * A target with no write permission bit is refused (ReadOnlyFileError) and left
 * untouched: renaming over it needs only the folder's permission, so without
 * this check a file the user made read-only would be silently replaced by a
 * writable one (and root passes every permission check anyway).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  await refuseReadOnly(path);
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const base = path.slice(slash + 1);
  const tmp = `${dir}/.${base}.${crypto.randomUUID()}.tmp`;
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  try {
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    try {
      let written = 0;
      while (written < bytes.length) {
        written += await file.write(bytes.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
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
 * Removes temp files that a writer of `path` killed mid-write left behind
 * (`.<name>.<uuid>.tmp`). Only files older than `minAgeMs` go: a younger one may
 * belong to another process writing right now.
 */
export async function removeStaleTempFiles(
  path: string,
  minAgeMs = 10 * 60_000,
): Promise<number> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const prefix = `.${path.slice(slash + 1)}.`;
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (
        !entry.isFile || !entry.name.startsWith(prefix) ||
        !entry.name.endsWith(".tmp")
      ) {
        continue;
      }
      const file = `${dir}/${entry.name}`;
      const mtime = (await Deno.stat(file)).mtime?.getTime() ?? Date.now();
      if (Date.now() - mtime >= minAgeMs) {
        await Deno.remove(file).catch(() => {});
        removed++;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return removed;
}
