/**
 * Image folders made from real MNIST and Fashion-MNIST images (PNG, some
 * JPEG, some in colour, some corrupt, a stray text file), flat or in one
 * sub-folder per class: for the tests, bench:images and the screenshot script.
 */

import { encode } from "fast-png";
import { readIdxFile } from "../lib/data/idx.ts";
import { defaultDataDir } from "../lib/data/mnist.ts";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
/** Fashion-MNIST's class names, in its label order. */
export const FASHION_NAMES = [
  "tshirt",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "boot",
];

let mnist: Promise<{ images: Uint8Array; labels: Uint8Array }> | null = null;
let fashion: Promise<{ images: Uint8Array; labels: Uint8Array }> | null = null;

async function load(dir: string, gz: boolean) {
  const ext = gz ? ".gz" : "";
  const [images, labels] = await Promise.all([
    readIdxFile(`${dir}/t10k-images-idx3-ubyte${ext}`),
    readIdxFile(`${dir}/t10k-labels-idx1-ubyte${ext}`),
  ]);
  return { images: images.data, labels: labels.data };
}

/** The i-th MNIST or Fashion-MNIST test image (784 grey bytes) and its class. */
export async function sourceImage(
  set: "mnist" | "fashion",
  i: number,
): Promise<{ pixels: Uint8Array; label: number }> {
  const d = set === "mnist"
    ? await (mnist ??= load(defaultDataDir(), false))
    : await (fashion ??= load(FASHION_DIR, true));
  return { pixels: d.images.slice(i * 784, (i + 1) * 784), label: d.labels[i] };
}

/** A grey image tinted into RGB (a colour per class), so colour is visible. */
export function tint(pixels: Uint8Array, label: number): Uint8Array {
  const hue = [
    [1, .3, .3],
    [.3, 1, .3],
    [.3, .3, 1],
    [1, 1, .3],
    [1, .3, 1],
    [.3, 1, 1],
    [1, .6, .2],
    [.6, .2, 1],
    [.2, .6, 1],
    [1, 1, 1],
  ][label % 10];
  const out = new Uint8Array(pixels.length * 3);
  for (let i = 0; i < pixels.length; i++) {
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round(pixels[i] * hue[k]);
  }
  return out;
}

/** PNG bytes of `pixels` (side × side, 1 or 3 channels), optionally enlarged by `scale` (nearest). */
export function pngOf(
  pixels: Uint8Array,
  channels: 1 | 3,
  scale = 1,
  side = 28,
): Uint8Array {
  let data = pixels, w = side;
  if (scale > 1) {
    w = side * scale;
    data = new Uint8Array(w * w * channels);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const s = (Math.floor(y / scale) * side + Math.floor(x / scale)) *
          channels;
        for (let k = 0; k < channels; k++) {
          data[(y * w + x) * channels + k] = pixels[s + k];
        }
      }
    }
  }
  return encode({ width: w, height: w, data, channels });
}

/** JPEG bytes of a grey or RGB 28×28 image (through sharp). */
export async function jpegOf(
  pixels: Uint8Array,
  channels: 1 | 3,
): Promise<Uint8Array> {
  const sharp = (await import("sharp")).default;
  const buf = await sharp(pixels, { raw: { width: 28, height: 28, channels } })
    .jpeg({ quality: 95 }).toBuffer();
  return new Uint8Array(buf);
}

/** What a folder written by `writeImageFolder` holds. */
export interface FolderFixture {
  dir: string;
  /** Relative path → true class index, for every readable image. */
  truth: Map<string, number>;
  corrupt: string[];
  skipped: string[];
}

/**
 * Writes `perClass` Fashion-MNIST images of each of `classes` (indices into
 * FASHION_NAMES) in one sub-folder per class (or flat with `flat`); every
 * third in colour, every fifth a JPEG, every seventh enlarged to 56×56; plus
 * two corrupt files and a notes.txt.
 */
export async function writeImageFolder(
  dir: string,
  opts: {
    classes?: number[];
    perClass?: number;
    flat?: boolean;
    set?: "mnist" | "fashion";
  } = {},
): Promise<FolderFixture> {
  const classes = opts.classes ?? [0, 1, 7, 8];
  const perClass = opts.perClass ?? 12;
  const set = opts.set ?? "fashion";
  const names = set === "fashion"
    ? FASHION_NAMES
    : FASHION_NAMES.map((_, i) => String(i));
  const truth = new Map<string, number>();
  const counts = new Map<number, number>();
  let k = 0;
  for (let i = 0; k < classes.length * perClass; i++) {
    const { pixels, label } = await sourceImage(set, i);
    const c = classes.indexOf(label);
    if (c < 0 || (counts.get(c) ?? 0) >= perClass) continue;
    counts.set(c, (counts.get(c) ?? 0) + 1);
    const folder = opts.flat ? dir : `${dir}/${names[label]}`;
    await Deno.mkdir(folder, { recursive: true });
    const colour = k % 3 === 0;
    const jpeg = k % 5 === 0;
    const px = colour ? tint(pixels, label) : pixels;
    const ch = colour ? 3 : 1;
    const name = `img_${String(i).padStart(5, "0")}.${jpeg ? "jpg" : "png"}`;
    const bytes = jpeg
      ? await jpegOf(px, ch)
      : pngOf(px, ch, k % 7 === 0 ? 2 : 1);
    await Deno.writeFile(`${folder}/${name}`, bytes);
    truth.set(opts.flat ? name : `${names[label]}/${name}`, c);
    k++;
  }
  const sub = opts.flat ? "" : `${names[classes[0]]}/`;
  const corrupt = [`${sub}broken.png`, `${sub}truncated.jpg`];
  await Deno.writeFile(
    `${dir}/${corrupt[0]}`,
    new TextEncoder().encode("not a png at all"),
  );
  const good = await jpegOf((await sourceImage(set, 0)).pixels, 1);
  await Deno.writeFile(`${dir}/${corrupt[1]}`, good.slice(0, 40));
  await Deno.writeTextFile(`${dir}/notes.txt`, "not an image\n");
  if (!opts.flat) {
    await Deno.writeTextFile(
      `${dir}/classes.txt`,
      classes.map((c) => names[c]).join("\n") + "\n",
    );
  }
  return { dir, truth, corrupt, skipped: ["notes.txt"] };
}

/**
 * Labels `perClass` images of every class of a running dashboard on a class
 * folder, each with its true class (its top-level folder's name), in one
 * batch. What the screenshot scripts do before their training run.
 */
export async function labelFromFolders(
  base: string,
  perClass: number,
): Promise<{ count: number; classes: string[]; labelled: number }> {
  const state = await (await fetch(`${base}/api/state`)).json();
  const classes: string[] = state.dataset.classes;
  const per = new Map<number, number>();
  const changes: Array<{ index: number; label: number }> = [];
  for (
    let i = 0;
    i < state.count && changes.length < perClass * classes.length;
    i++
  ) {
    const s = await (await fetch(`${base}/api/samples/${i}`)).json();
    const c = classes.indexOf(s.path.split("/")[0]);
    if ((per.get(c) ?? 0) >= perClass) continue;
    per.set(c, (per.get(c) ?? 0) + 1);
    changes.push({ index: i, label: c });
  }
  const r = await fetch(`${base}/api/labels`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", Origin: base },
    body: JSON.stringify({ changes }),
  });
  if (!r.ok) throw new Error(`labelling: ${r.status} ${await r.text()}`);
  await r.body?.cancel();
  return { count: state.count, classes, labelled: changes.length };
}

/**
 * A "decompression bomb": a valid grey 8-bit PNG declaring width × height
 * pixels of black, deflated as it is made (20000 × 20000 is ~390 KB on disk
 * and 400 MB once decoded), so making it costs no memory.
 */
export async function bombPng(
  width: number,
  height: number,
): Promise<Uint8Array> {
  const zlib = (await import("node:zlib")).default;
  const deflate = zlib.createDeflate({ level: 9 });
  const parts: Uint8Array[] = [];
  deflate.on("data", (c: Uint8Array) => parts.push(c));
  const ended = new Promise((resolve) => deflate.on("end", resolve));
  const row = new Uint8Array(width + 1); // filter byte 0, then the row
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) {
      await new Promise((resolve) => deflate.once("drain", resolve));
    }
  }
  deflate.end();
  await ended;
  const idat = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    idat.set(p, at);
    at += p.length;
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // depth 8, grey, deflate, no filter, no interlace
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const d = new DataView(out.buffer);
    d.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    d.setUint32(8 + data.length, zlib.crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const pieces = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array()),
  ];
  const png = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  at = 0;
  for (const p of pieces) {
    png.set(p, at);
    at += p.length;
  }
  return png;
}
