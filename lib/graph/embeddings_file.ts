/**
 * `--embeddings FILE.npy`: vectors the user brings for the label graph (a
 * CLIP or DINOv2 encoder run over their images, say), one row per image in
 * Serial order. Read with a clear error for every way the file can be wrong,
 * since a silently misread file would put every label in the wrong place.
 */
import { decodeNpyHeader } from "../npy.ts";
import type { Embeddings } from "./features.ts";

/** The first bytes read to check a file's header (format 1.0 headers are < 64 KB). */
const HEADER_BYTES = 65_536 + 12;

/** The row count, width and value type a header declares, checked against `count` images. */
function checkHeader(
  path: string,
  head: Uint8Array,
  count: number,
): { dim: number; descr: "<f4" | "<f8"; dataOffset: number } {
  const want = `${count} × D float32 (one row per image, in Serial order)`;
  let h;
  try {
    h = decodeNpyHeader(head);
  } catch {
    throw new Error(`${path} is not a NumPy .npy file: expected ${want}`);
  }
  if (h.descr !== "<f4" && h.descr !== "<f8") {
    throw new Error(
      `${path} holds ${h.descr} values: expected ${want} (numpy: x.astype("float32"))`,
    );
  }
  if (h.fortranOrder) {
    throw new Error(
      `${path} is stored column-major: expected ${want} (numpy: np.ascontiguousarray(x))`,
    );
  }
  if (h.shape.length !== 2 || h.shape[0] !== count || h.shape[1] < 1) {
    throw new Error(
      `${path} has shape (${h.shape.join(", ")}): expected ${want}`,
    );
  }
  return { dim: h.shape[1], descr: h.descr, dataOffset: h.dataOffset };
}

/** Checks only the header of `path` (at start, before the graph worker reads it all). */
export async function checkEmbeddingsFile(
  path: string,
  count: number,
): Promise<{ dim: number }> {
  const f = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(HEADER_BYTES);
    let got = 0;
    while (got < head.length) {
      const r = await f.read(head.subarray(got));
      if (r === null) break;
      got += r;
    }
    const h = checkHeader(path, head.subarray(0, got), count);
    const size = (await f.stat()).size;
    const bytes = h.descr === "<f4" ? 4 : 8;
    if (size !== h.dataOffset + count * h.dim * bytes) {
      throw new Error(
        `${path} is ${size} bytes; its header declares ${count} × ${h.dim} values: the file is cut short or padded`,
      );
    }
    return { dim: h.dim };
  } finally {
    f.close();
  }
}

/** Reads `path` as `count` rows of float32 (float64 is narrowed); every value must be finite. */
export async function readEmbeddings(
  path: string,
  count: number,
): Promise<Embeddings> {
  await checkEmbeddingsFile(path, count);
  return embeddingsFromBytes(path, await Deno.readFile(path), count);
}

/** A .npy file's bytes (`path` names it in errors) as `count` rows of float32; every value must be finite. */
export function embeddingsFromBytes(
  path: string,
  bytes: Uint8Array,
  count: number,
): Embeddings {
  const h = checkHeader(path, bytes, count);
  const n = count * h.dim;
  const body = bytes.slice(h.dataOffset).buffer;
  const data = h.descr === "<f4"
    ? new Float32Array(body, 0, n)
    : Float32Array.from(new Float64Array(body, 0, n));
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(
        `${path}: row ${
          Math.floor(i / h.dim)
        } (the image of that Serial) holds ${
          data[i]
        }; every value must be a finite number`,
      );
    }
  }
  return { data, dim: h.dim };
}
