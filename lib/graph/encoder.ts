/**
 * `--encoder model.onnx`: an image encoder the user brings (a CLIP or DINOv2
 * vision tower exported to ONNX, or any network), run once over every image
 * with onnxruntime-node (its CPU kernels ship inside the npm package) to
 * give the label graph one more feature space. The vectors are cached as a
 * .npy beside the graph, named by a digest of the model and the images, so a
 * restart reads them back instead of running the model again.
 *
 * The model's contract: one input, N × C × H × W float32 in [0, 1] (the
 * images' own size and channels; N free), one output whose rows (N × …)
 * are the vectors.
 */
import {
  type CacheMeta,
  readCacheFile,
  writeCacheFile,
} from "../cache_file.ts";
import { encodeNpy } from "../npy.ts";
import { sha256Hex } from "./digest.ts";
import { embeddingsFromBytes, readEmbeddings } from "./embeddings_file.ts";
import type { Embeddings, ImageBytes } from "./features.ts";

/** A problem with a cache file that was there (it is not used, and is rebuilt). */
export type CacheProblem = (path: string, reason: string) => void;

/** Images per model call: big enough for the kernels, small enough for memory. */
const BATCH = 128;

/**
 * The encoder's vectors of `images`, from the cache in `cacheDir` when it
 * holds them for this model and these images, else computed and cached.
 */
export async function encoderEmbeddings(
  modelPath: string,
  images: ImageBytes,
  cacheDir: string,
  progress: (step: string) => void = () => {},
  onProblem?: CacheProblem,
): Promise<Embeddings> {
  const file = await cacheFile(modelPath, images, cacheDir);
  const cached = await readCached(file, images.count, progress, onProblem);
  if (cached) return cached;
  const out = await runEncoder(modelPath, file.model, images, progress);
  await writeCacheFile(
    file.path,
    file.meta,
    encodeNpy(out.data, [images.count, out.dim]),
    progress,
  );
  return out;
}

/** The cached vectors `encoderEmbeddings` would return; null when it would run the model. */
export async function cachedEncoderEmbeddings(
  modelPath: string,
  images: ImageBytes,
  cacheDir: string,
  progress: (step: string) => void = () => {},
  onProblem?: CacheProblem,
): Promise<Embeddings | null> {
  const file = await cacheFile(modelPath, images, cacheDir);
  return await readCached(file, images.count, progress, onProblem);
}

/** The vectors' cache file: sealed .npy bytes, and where an earlier version kept them unsealed. */
interface VectorCache {
  model: Uint8Array;
  path: string;
  legacyPath: string;
  meta: CacheMeta;
}

/** The model's bytes and its vectors' cache file (named by model and images). */
async function cacheFile(
  modelPath: string,
  images: ImageBytes,
  cacheDir: string,
): Promise<VectorCache> {
  const model = await Deno.readFile(modelPath).catch((e) => {
    throw new Error(`--encoder ${modelPath}: ${(e as Error).message}`);
  });
  const pixels = images.rows * images.cols * images.channels;
  const digest = await sha256Hex([
    new TextEncoder().encode(
      `${images.count}x${images.channels}x${images.rows}x${images.cols}:`,
    ),
    model,
    images.raw.subarray(0, images.count * pixels),
  ]);
  const name = `${cacheDir}/encoder-${digest.slice(0, 16)}`;
  return {
    model,
    path: `${name}.cache`,
    legacyPath: `${name}.npy`,
    meta: { format: "encoder-vectors", version: 1, key: digest },
  };
}

/**
 * The cached vectors; null (after `onProblem` when a file was there but
 * not usable) when the model has to run. An earlier version's unsealed
 * .npy is taken when it reads back whole and finite, then sealed.
 */
async function readCached(
  file: VectorCache,
  count: number,
  progress: (step: string) => void,
  onProblem?: CacheProblem,
): Promise<Embeddings | null> {
  const vectors = await readCacheFile(file.path, file.meta, {
    decode: (npy) => embeddingsFromBytes(file.path, npy, count),
    what: "not the vectors of these images",
    onProblem,
    say: progress,
  }) ?? await readLegacy(file, count, progress, onProblem);
  if (vectors) progress(`encoder vectors loaded from cache (${file.path})`);
  return vectors;
}

/** An earlier version's unsealed .npy of the vectors: read back, sealed under the new name, removed. */
async function readLegacy(
  file: VectorCache,
  count: number,
  progress: (step: string) => void,
  onProblem?: CacheProblem,
): Promise<Embeddings | null> {
  try {
    const vectors = await readEmbeddings(file.legacyPath, count);
    await writeCacheFile(
      file.path,
      file.meta,
      await Deno.readFile(file.legacyPath),
      progress,
    );
    await Deno.remove(file.legacyPath).catch(() => {});
    return vectors;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      onProblem?.(file.legacyPath, (e as Error).message);
    }
    return null;
  }
}

/** Runs the model over every image in batches of BATCH. */
async function runEncoder(
  modelPath: string,
  model: Uint8Array,
  images: ImageBytes,
  progress: (step: string) => void,
): Promise<Embeddings> {
  const { count, rows, cols, channels, raw } = images;
  const want =
    `one input of N × ${channels} × ${rows} × ${cols} float32 in [0, 1], one output of N × D`;
  // Loaded only here: its native library (tens of MB) stays out of every
  // graph worker that has no encoder.
  const { default: ort } = await import("onnxruntime-node");
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(model);
  } catch (e) {
    throw new Error(
      `--encoder ${modelPath} is not a model onnxruntime can load: ${
        (e as Error).message
      }`,
    );
  }
  try {
    const input = session.inputNames[0], output = session.outputNames[0];
    const plane = rows * cols, pixels = plane * channels;
    let data: Float32Array | null = null;
    let dim = 0;
    const t0 = performance.now();
    for (let start = 0; start < count; start += BATCH) {
      const b = Math.min(BATCH, count - start);
      // The images' bytes are H × W × C; the model takes C × H × W.
      const x = new Float32Array(b * pixels);
      for (let j = 0; j < b; j++) {
        const src = (start + j) * pixels, dst = j * pixels;
        for (let p = 0; p < plane; p++) {
          for (let c = 0; c < channels; c++) {
            x[dst + c * plane + p] = raw[src + p * channels + c] / 255;
          }
        }
      }
      let y: InstanceType<typeof ort.Tensor>;
      try {
        const r = await session.run({
          [input]: new ort.Tensor("float32", x, [b, channels, rows, cols]),
        });
        y = r[output];
      } catch (e) {
        throw new Error(
          `--encoder ${modelPath} failed on the images: it should take ${want} (${
            (e as Error).message
          })`,
        );
      }
      if (y.type !== "float32" || y.dims[0] !== b || y.data.length % b) {
        throw new Error(
          `--encoder ${modelPath} gave ${y.type} of shape (${
            y.dims.join(", ")
          }) for ${b} images: it should take ${want}`,
        );
      }
      const d = y.data.length / b;
      if (!data) {
        dim = d;
        data = new Float32Array(count * dim);
      }
      data.set(y.data as Float32Array, start * dim);
      if (start + b === count || (start / BATCH) % 50 === 0) {
        progress(
          `encoder: ${Math.min(count, start + b)} of ${count} images (${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s)`,
        );
      }
    }
    for (let i = 0; i < data!.length; i++) {
      if (!Number.isFinite(data![i])) {
        throw new Error(
          `--encoder ${modelPath} gave ${data![i]} for image ${
            Math.floor(i / dim)
          }: every value must be finite`,
        );
      }
    }
    return { data: data!, dim };
  } finally {
    await session.release();
  }
}
