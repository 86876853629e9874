/**
 * Image folders (lib/images): decoding real MNIST/Fashion-MNIST images written
 * as PNG and JPEG, grey and colour, enlarged and corrupt; the folder scan,
 * class names, the serial index, the pixel cache and the holdout split.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "./assert.ts";
import { decodeImage, ImageDecodeError } from "../lib/images/decode.ts";
import { parseClassList, resolveClasses } from "../lib/images/classes.ts";
import { readIndex } from "../lib/images/index_file.ts";
import {
  holdoutDraw,
  prepareImageFolder,
  reportLines,
} from "../lib/images/prepare.ts";
import { parseImageFlags } from "../lib/images/options.ts";
import { defaultPaths } from "../lib/protocol/paths.ts";
import { LabelStore } from "../lib/labels/labels_store.ts";
import {
  jpegOf,
  pngOf,
  sourceImage,
  tint,
  writeImageFolder,
} from "../support/image_fixtures.ts";
import { withTempDir as tempDir } from "../support/temp_dir.ts";

const GREY = { width: 28, height: 28, channels: 1 as const };
const RGB = { width: 28, height: 28, channels: 3 as const };

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const withTempDir = (fn: (dir: string) => Promise<void>) =>
  tempDir("ssvae_images_", fn);

Deno.test("decode: PNG grey and RGB exactly, 2× enlarged back exactly, JPEG closely, colour to grey", async () => {
  const { pixels, label } = await sourceImage("mnist", 0);
  assertEquals(await decodeImage(pngOf(pixels, 1), GREY), pixels);
  // Area averaging of a 2× nearest enlargement gives the original back.
  assertEquals(await decodeImage(pngOf(pixels, 1, 2), GREY), pixels);
  const rgb = tint(pixels, label);
  assertEquals(await decodeImage(pngOf(rgb, 3), RGB), rgb);
  // Grey input asked as RGB: three equal channels.
  const asRgb = await decodeImage(pngOf(pixels, 1), RGB);
  for (let i = 0; i < 784; i++) {
    assertEquals(asRgb[3 * i], pixels[i]);
    assertEquals(asRgb[3 * i + 2], pixels[i]);
  }
  // JPEG through sharp: lossy, but close.
  const jpeg = await decodeImage(await jpegOf(pixels, 1), GREY);
  assertEquals(jpeg.length, 784);
  assert(
    maxDiff(jpeg, pixels) < 80,
    `JPEG differs by ${maxDiff(jpeg, pixels)}`,
  );
  // Colour to grey: Rec. 601 luma of the tint.
  const grey = await decodeImage(pngOf(rgb, 3), GREY);
  const i = pixels.indexOf(255);
  assertEquals(
    grey[i],
    Math.round(
      0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2],
    ),
  );
});

Deno.test("decode: corrupt and foreign bytes are ImageDecodeErrors naming why", async () => {
  await assertRejects(
    () => decodeImage(new TextEncoder().encode("hello"), GREY),
    ImageDecodeError,
  );
  const png = pngOf((await sourceImage("mnist", 1)).pixels, 1);
  await assertRejects(
    () => decodeImage(png.slice(0, 30), GREY),
    Error,
    /not a readable PNG \(damaged or cut short\)/,
  );
  const jpeg = await jpegOf((await sourceImage("mnist", 1)).pixels, 1);
  await assertRejects(
    () => decodeImage(jpeg.slice(0, 40), GREY),
    Error,
    /not a readable image \(damaged or cut short\)/,
  );
});

Deno.test("a class-folder set: classes, ground truth, corrupt files reported, other files skipped, cache on the second start", async () => {
  await withTempDir(async (dir) => {
    const fx = await writeImageFolder(`${dir}/set`, { perClass: 6 });
    const labelsPath = `${dir}/state/labels.csv`;
    const progress: number[] = [];
    const first = await prepareImageFolder({
      dir: fx.dir,
      labelsPath,
      shape: RGB,
      onProgress: (p) => progress.push(p.done),
    });
    assertEquals(first.classes, ["tshirt", "trouser", "sneaker", "bag"]);
    assertEquals(first.hasTruth, true);
    assertEquals(first.train.count, fx.truth.size);
    first.train.paths.forEach((p, i) =>
      assertEquals(first.train.labels[i], fx.truth.get(p), p)
    );
    assertEquals(
      first.report.failed.map((f) => f.path).sort(),
      [...fx.corrupt].sort(),
    );
    assertEquals(first.report.skipped.map((s) => s.path), fx.skipped);
    assertEquals(progress.at(-1), fx.truth.size + fx.corrupt.length);
    // Every file is new; the report says how many of them cannot be read.
    assertEquals(first.report.addedUnreadable, fx.corrupt.length);
    assertMatch(
      reportLines(first)[1],
      new RegExp(
        `^images: ${
          fx.truth.size + fx.corrupt.length
        } new file\\(s\\) got new serials in .* \\(${fx.corrupt.length} of them could not be read: below\\)$`,
      ),
    );
    assertEquals(first.train.raw.length, first.train.count * 28 * 28 * 3);
    // The index covers every image file (the corrupt ones too), serials in path order.
    const index = await readIndex(first.report.indexPath);
    assertEquals(index.size, fx.truth.size + fx.corrupt.length);
    first.train.paths.forEach((p, i) =>
      assertEquals(index.get(first.train.serials[i]), p)
    );

    const second = await prepareImageFolder({
      dir: fx.dir,
      labelsPath,
      shape: RGB,
    });
    assertEquals(second.report.decoded, 0);
    assertEquals(second.report.fromCache, fx.truth.size + fx.corrupt.length);
    assertEquals(second.train.raw, first.train.raw);
    assertEquals(
      second.report.failed.length,
      2,
      "corrupt files are reported on every start",
    );
  });
});

Deno.test("files added, removed and renamed between starts: serials stay, labels stay with their files", async () => {
  await withTempDir(async (dir) => {
    const fx = await writeImageFolder(`${dir}/set`, {
      perClass: 4,
      flat: true,
      set: "mnist",
    });
    const labelsPath = `${dir}/state/labels.csv`;
    const open = async () => {
      const p = await prepareImageFolder({
        dir: fx.dir,
        labelsPath,
        shape: GREY,
      });
      const store = await LabelStore.open(labelsPath, p.train.count, {
        serials: p.train.serials,
        classCount: p.classes.length,
      });
      return { p, store };
    };
    const a = await open();
    assertEquals(a.p.classes, [
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
      "7",
      "8",
      "9",
    ]);
    assertEquals(a.p.hasTruth, false);
    const [first, second, third] = a.p.train.paths;
    await a.store.setMany([
      { index: 0, label: 3 },
      { index: 1, label: 4 },
      { index: 2, label: 5 },
    ]);
    // Remove the first, rename the second, add a new file that sorts first.
    await Deno.remove(`${fx.dir}/${first}`);
    await Deno.rename(`${fx.dir}/${second}`, `${fx.dir}/zz_renamed.png`);
    await Deno.writeFile(
      `${fx.dir}/aaa_new.png`,
      pngOf((await sourceImage("mnist", 500)).pixels, 1),
    );
    const b = await open();
    assertEquals(b.p.report.missing, [first, second]);
    assertEquals(b.p.report.added, 2);
    const at = (path: string) => b.p.train.paths.indexOf(path);
    assertEquals(
      b.store.get(at(third)),
      5,
      "the untouched file keeps its label",
    );
    assertEquals(
      b.store.get(at("aaa_new.png")),
      null,
      "a new file has no label",
    );
    assertEquals(
      b.store.get(at("zz_renamed.png")),
      null,
      "a renamed file is a new file",
    );
    // The removed files' rows stay in labels.csv with their old serials.
    const csv = await Deno.readTextFile(labelsPath);
    const serialOf = new Map(
      [...(await readIndex(`${dir}/state/labels.index.csv`))].map((
        [s, p],
      ) => [p, s]),
    );
    assertMatch(csv, new RegExp(`^${serialOf.get(first)},3$`, "m"));
    assertMatch(csv, new RegExp(`^${serialOf.get(second)},4$`, "m"));
    // A file that comes back gets its serial and its label back.
    await Deno.rename(`${fx.dir}/zz_renamed.png`, `${fx.dir}/${second}`);
    const c = await open();
    assertEquals(c.store.get(c.p.train.paths.indexOf(second)), 4);
  });
});

Deno.test("holdout: a seeded, stable share by path; refused without class folders; limit and class checks", async () => {
  await withTempDir(async (dir) => {
    const fx = await writeImageFolder(`${dir}/set`, { perClass: 10 });
    const labelsPath = `${dir}/state/labels.csv`;
    const p = await prepareImageFolder({
      dir: fx.dir,
      labelsPath,
      shape: GREY,
      holdout: 0.3,
    });
    assert(
      p.test && p.test.count > 0 && p.test.count < 25,
      `test ${p.test?.count}`,
    );
    assertEquals(p.train.count + p.test!.count, fx.truth.size);
    for (const path of p.test!.paths) assert(holdoutDraw(path, 0) < 0.3);
    const again = await prepareImageFolder({
      dir: fx.dir,
      labelsPath,
      shape: GREY,
      holdout: 0.3,
      limit: 5,
    });
    assertEquals(again.test!.paths, p.test!.paths);
    assertEquals(again.train.count, 5);
    const flat = await writeImageFolder(`${dir}/flat`, {
      perClass: 2,
      flat: true,
    });
    await assertRejects(
      () =>
        prepareImageFolder({
          dir: flat.dir,
          labelsPath: `${dir}/f/labels.csv`,
          shape: GREY,
          holdout: 0.1,
        }),
      Error,
      /--holdout needs the true classes/,
    );
    await assertRejects(
      () =>
        prepareImageFolder({
          dir: fx.dir,
          labelsPath,
          shape: GREY,
          classes: ["tshirt", "bag"],
        }),
      Error,
      /sneaker\/: a class sub-folder whose name is not among the classes/,
    );
    await assertRejects(
      () => prepareImageFolder({ dir: `${dir}/nope`, labelsPath, shape: GREY }),
      Error,
      /cannot open the image folder/,
    );
  });
});

Deno.test("flags: --image-size, --color, --classes, --holdout, defaults per folder", async () => {
  const o = parseImageFlags({
    images: "/tmp/x",
    imageSize: "32",
    color: true,
    classes: "cat, dog",
    holdout: "0.1",
  })!;
  assertEquals(o.shape, { width: 32, height: 32, channels: 3 });
  assertEquals(o.classes, ["cat", "dog"]);
  assertEquals(o.holdout, 0.1);
  assertEquals(
    parseImageFlags({ images: "/tmp/x", imageSize: "40x20" })!.shape,
    { width: 40, height: 20, channels: 1 },
  );
  assertEquals(parseImageFlags({}), undefined);
  assertThrows(
    () => parseImageFlags({ images: "/tmp/x", imageSize: "2" }),
    Error,
    /--image-size "2"/,
  );
  assertThrows(
    () => parseImageFlags({ images: "/tmp/x", holdout: "0.95" }),
    Error,
    /--holdout "0.95"/,
  );
  assertThrows(
    () => parseImageFlags({ color: true }),
    Error,
    /--color needs --images/,
  );
  assertThrows(() => parseClassList("a,b,a"), Error, /named twice/);
  assertThrows(() => parseClassList("a,,b"), Error, /bad class name ""/);
  // Up to MAX_CLASSES (100) names; eleven are fine.
  assertEquals(parseClassList("a,b,c,d,e,f,g,h,i,j,k").length, 11);
  const names = Array.from({ length: 101 }, (_, i) => `c${i}`);
  assertThrows(
    () => parseClassList(names.join(",")),
    Error,
    /101 classes; at most 100/,
  );
  const d1 = defaultPaths("/data/pets"), d2 = defaultPaths("/other/pets");
  assertMatch(d1.labelsPath, /^data\/images\/pets-[0-9a-f]{8}\/labels\.csv$/);
  assertNotEquals(d1.labelsPath, d2.labelsPath);
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/classes.txt`, "# pets\ncat\n\ndog\n");
    assertEquals((await resolveClasses(dir, undefined, null)).classes, [
      "cat",
      "dog",
    ]);
    assertEquals((await resolveClasses(dir, ["x"], null)).classes, ["x"]);
  });
});

Deno.test("labels.csv with serials: classCount bounds labels, unknown serials are kept, imports map serials", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.csv`;
    await Deno.writeTextFile(path, "Serial,label\n10,1\n11,2\n99,0\n");
    const store = await LabelStore.open(path, 2, {
      serials: Uint32Array.from([11, 10]),
      classCount: 3,
    });
    assertEquals(store.get(0), 2);
    assertEquals(store.get(1), 1);
    assertEquals(store.countsPerClass(), [0, 1, 1]);
    await assertRejects(
      () => store.set(0, 3),
      Error,
      /label must be an integer 0-2/,
    );
    await store.set(0, 0);
    assertEquals(
      await Deno.readTextFile(path),
      "Serial,label\n10,1\n11,0\n99,0\n",
    );
    assertEquals([...store.parse("Serial,label\n10,2\n50,1\n", "x.csv")], [
      NaN,
      2,
    ]);
    await Deno.writeTextFile(`${dir}/bad.csv`, "Serial,label\n10,7\n");
    await assertRejects(
      () =>
        LabelStore.open(`${dir}/bad.csv`, 2, {
          serials: Uint32Array.from([11, 10]),
          classCount: 3,
        }),
      Error,
      /line 2: label must be an integer 0-2, got "7"/,
    );
  });
});

Deno.test("the index file: paths with commas and quotes round-trip; a bad row names its line", async () => {
  const { writeIndex } = await import("../lib/images/index_file.ts");
  await withTempDir(async (dir) => {
    const path = `${dir}/labels.index.csv`;
    const index = new Map([[0, "a/plain.png"], [1, 'odd, "name".png'], [
      2,
      "b/x,y.jpg",
    ]]);
    await writeIndex(path, index);
    assertEquals(await readIndex(path), index);
    await writeIndex(path, new Map([[0, "a.png"], [5, "b,c.png"]]));
    assertEquals(
      await readIndex(path),
      new Map([[0, "a.png"], [5, "b,c.png"]]),
    );
    await Deno.writeTextFile(path, "Serial,path\n0,a.png\nx,b.png\n");
    await assertRejects(
      () => readIndex(path),
      Error,
      /line 3: expected "Serial,path", got "x,b.png"/,
    );
    await Deno.writeTextFile(path, "Serial,path\n0,a.png\n1,a.png\n");
    await assertRejects(
      () => readIndex(path),
      Error,
      /line 3: serial 1 or path "a.png" listed twice/,
    );
  });
});

Deno.test("decode: 16-bit grey, grey+alpha and RGBA PNGs; a symbolic link loop is walked once", async () => {
  const { encode } = await import("fast-png");
  const { pixels } = await sourceImage("mnist", 3);
  const sixteen = Uint16Array.from(pixels, (v) => v * 257);
  assertEquals(
    await decodeImage(
      encode({ width: 28, height: 28, data: sixteen, depth: 16, channels: 1 }),
      GREY,
    ),
    pixels,
  );
  // Half-transparent ink over black: half as bright.
  const ga = new Uint8Array(784 * 2);
  pixels.forEach((v, i) => {
    ga[2 * i] = v;
    ga[2 * i + 1] = 128;
  });
  const half = await decodeImage(
    encode({ width: 28, height: 28, data: ga, channels: 2 }),
    GREY,
  );
  const i = pixels.indexOf(255);
  assertEquals(half[i], Math.round(255 * 128 / 255));
  const rgba = new Uint8Array(784 * 4);
  pixels.forEach((v, k) => rgba.set([v, 0, 0, 255], 4 * k));
  const red = await decodeImage(
    encode({ width: 28, height: 28, data: rgba, channels: 4 }),
    RGB,
  );
  assertEquals([red[3 * i], red[3 * i + 1], red[3 * i + 2]], [255, 0, 0]);
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/set/a`, { recursive: true });
    await Deno.writeFile(`${dir}/set/a/x.png`, pngOf(pixels, 1));
    await Deno.symlink(`${dir}/set`, `${dir}/set/a/loop`);
    const p = await prepareImageFolder({
      dir: `${dir}/set`,
      labelsPath: `${dir}/s/labels.csv`,
      shape: GREY,
    });
    assertEquals(p.train.paths, ["a/x.png"]);
    assertMatch(
      p.report.skipped.map((s) => `${s.path}: ${s.reason}`).join("\n"),
      /a\/loop: a folder seen before/,
    );
  });
});

Deno.test("the first decode's time left is estimated from the first finished batch on", async () => {
  await withTempDir(async (dir) => {
    const fx = await writeImageFolder(`${dir}/set`, {
      classes: [0, 1],
      perClass: 300,
    });
    const ticks: Array<{ done: number; eta: number | null }> = [];
    await prepareImageFolder({
      dir: fx.dir,
      labelsPath: `${dir}/state/labels.csv`,
      shape: RGB,
      threads: 1,
      onProgress: (p) => ticks.push({ done: p.done, eta: p.etaSeconds }),
    });
    // Before any batch, and at the first one (it holds the workers' start):
    // no estimate. Then one, from the batches since.
    const first = ticks.findIndex((t) => t.done > 0);
    assertEquals(
      ticks.slice(0, first + 1).map((t) => t.eta),
      new Array(first + 1).fill(null),
    );
    // (The last tick always comes: it is the one of the last batch.)
    const later = ticks.slice(first + 1);
    assert(
      later.length > 0 && later.every((t) => t.eta !== null && t.eta >= 0),
      JSON.stringify(ticks),
    );
  });
});
