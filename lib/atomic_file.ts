/** Crash-safe file replacement shared by the labels store and the checkpoint. */

/**
 * Replaces `path` with `data` atomically: a temp file in the same folder, fsynced,
 * renamed over the target, then the folder fsynced so the rename itself is durable.
 * A crash at any point leaves either the old file or the new one, never a mix.
 * The folder must exist: a vanished folder is an error, not something to paper
 * over (callers create their folders up front).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
): Promise<void> {
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
