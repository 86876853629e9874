/**
 * Decodes one PNG or JPEG file into the model's input shape: `height × width`
 * pixels of `channels` (1 = grey, 3 = RGB) bytes, row-major, interleaved.
 *
 * PNG goes through `fast-png` (pure JS, ~0.3 ms for a 28×28 file, several
 * times cheaper than a native call per file) and is resampled here; JPEG and
 * anything else goes through `sharp` (libvips: shrink-on-load makes large
 * photos cheap). Both stretch to the target size (no crop, no padding) and
 * composite transparency over black, like MNIST's background.
 */

import { decode as decodePng } from "fast-png";

/** The model's input shape. */
export interface ImageShape {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
}

/** An unreadable, corrupt or unsupported image; the message names why. */
export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

/** Ends the message of every ImageTooLargeError: the pixel cache retries such files. */
export const TOO_LARGE_MARK = "(--max-megapixels raises it)";

/**
 * An image whose header declares more pixels than the cap (`--max-megapixels`):
 * refused before any decoding, as a small file can declare a huge image
 * (a "decompression bomb": 388 KB for 20000×20000, ~2 GB once decoded).
 */
export class ImageTooLargeError extends ImageDecodeError {
  override name = "ImageTooLargeError";
  constructor(width: number, height: number, maxPixels: number) {
    super(
      `${width}×${height} pixels (${
        megapixels(width * height)
      } megapixels) is over the limit of ${
        megapixels(maxPixels)
      }: not decoded ${TOO_LARGE_MARK}`,
    );
  }
}

function megapixels(n: number): string {
  const mp = n / 1e6;
  return mp >= 10 ? mp.toFixed(0) : mp.toFixed(1);
}

/**
 * Width and height from the file's header, without decoding: PNG's IHDR, or
 * a JPEG's start-of-frame segment. Hand-written because the check has to come
 * before either decoder allocates (fast-png has no limit at all; sharp's
 * limitInputPixels guards only its own path); null when the header cannot
 * be read (the decoder then reports the file as corrupt).
 */
export function headerSize(
  bytes: Uint8Array,
): { width: number; height: number } | null {
  const kind = sniffKind(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === "png") {
    // Signature (8), chunk length (4), "IHDR" (4), width (4), height (4).
    if (
      bytes.length < 24 ||
      String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR"
    ) {
      return null;
    }
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (kind === "jpeg") {
    let at = 2;
    while (at + 4 <= bytes.length) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      // Fill bytes, and markers without a length (RSTn, SOI, TEM).
      if (marker === 0xff) {
        at++;
        continue;
      }
      if ((marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) {
        at += 2;
        continue;
      }
      const length = view.getUint16(at + 2);
      // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC): precision (1),
      // height (2), width (2).
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
        marker !== 0xc8 && marker !== 0xcc;
      if (isFrame) {
        if (at + 9 > bytes.length) return null;
        return {
          width: view.getUint16(at + 7),
          height: view.getUint16(at + 5),
        };
      }
      if (marker === 0xda || length < 2) return null; // scan data before any frame
      at += 2 + length;
    }
  }
  return null;
}

/** The file kinds labelled, by content (the extension only picks the candidates). */
export type ImageKind = "png" | "jpeg";

/** File extensions taken as images (lower case). */
export const IMAGE_EXTENSIONS: Readonly<Record<string, ImageKind>> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
};

/** The kind the bytes really are, from their magic number; null for neither. */
export function sniffKind(bytes: Uint8Array): ImageKind | null {
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 &&
    bytes[2] === 0x4e && bytes[3] === 0x47
  ) return "png";
  if (
    bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff
  ) return "jpeg";
  return null;
}

/**
 * Decodes `bytes` to `shape` (see the module comment); throws ImageDecodeError,
 * ImageTooLargeError when the header declares more than `maxPixels`.
 */
export async function decodeImage(
  bytes: Uint8Array,
  shape: ImageShape,
  maxPixels: number = Infinity,
): Promise<Uint8Array> {
  const kind = sniffKind(bytes);
  const size = kind ? headerSize(bytes) : null;
  if (size && size.width * size.height > maxPixels) {
    throw new ImageTooLargeError(size.width, size.height, maxPixels);
  }
  if (kind === "png") return decodePngTo(bytes, shape);
  if (kind === "jpeg") {
    return await decodeWithSharp(bytes, shape, maxPixels);
  }
  throw new ImageDecodeError("not a PNG or JPEG file (bad magic number)");
}

function decodePngTo(bytes: Uint8Array, shape: ImageShape): Uint8Array {
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    // Plain words first; the decoder's own after them, for whoever digs.
    throw new ImageDecodeError(
      `not a readable PNG (damaged or cut short): ${(e as Error).message}`,
    );
  }
  const { width, height } = png;
  if (!(width > 0 && height > 0)) {
    throw new ImageDecodeError(`PNG of size ${width}×${height}`);
  }
  const n = width * height;
  let channels = png.channels;
  let data: ArrayLike<number> = png.data;
  const maxValue = png.depth === 16 ? 65535 : (1 << png.depth) - 1;
  // Palette images hold indices: expand them to RGB(A) first.
  if (png.palette) {
    const pal = png.palette;
    const hasAlpha = pal.some((c) => c.length === 4);
    channels = hasAlpha ? 4 : 3;
    const out = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++) {
      const c = pal[png.data[i]] ?? [0, 0, 0, 255];
      for (let k = 0; k < channels; k++) {
        out[i * channels + k] = k < c.length ? c[k] : 255;
      }
    }
    data = out;
  } else if (data.length < n * channels) {
    throw new ImageDecodeError(`truncated PNG data (${width}×${height})`);
  }
  const pixels = toTargetChannels(
    data,
    n,
    channels,
    png.palette ? 255 : maxValue,
    shape.channels,
  );
  return resizeArea(pixels, width, height, shape);
}

/**
 * Source pixels (any of 1–4 channels, any bit depth) to `out` channels as
 * bytes: grey = Rec. 601 luma, alpha composited over black.
 */
function toTargetChannels(
  data: ArrayLike<number>,
  n: number,
  inChannels: number,
  maxValue: number,
  outChannels: 1 | 3,
): Uint8Array {
  const out = new Uint8Array(n * outChannels);
  const scale = 255 / maxValue;
  const colour = inChannels >= 3;
  const hasAlpha = inChannels === 2 || inChannels === 4;
  for (let i = 0; i < n; i++) {
    const o = i * inChannels;
    const a = hasAlpha ? data[o + inChannels - 1] / maxValue : 1;
    const r = data[o] * scale * a;
    let g = r, b = r;
    if (colour) {
      g = data[o + 1] * scale * a;
      b = data[o + 2] * scale * a;
    }
    if (outChannels === 1) {
      out[i] = Math.round(colour ? 0.299 * r + 0.587 * g + 0.114 * b : r);
    } else {
      out[i * 3] = Math.round(r);
      out[i * 3 + 1] = Math.round(g);
      out[i * 3 + 2] = Math.round(b);
    }
  }
  return out;
}

/**
 * Resamples by area averaging: each target pixel is the mean of the source
 * area it covers, with fractional edges (a box filter: exact for integer
 * shrink factors, no aliasing; enlarging gives soft-edged blocks).
 */
export function resizeArea(
  src: Uint8Array,
  width: number,
  height: number,
  shape: ImageShape,
): Uint8Array {
  const c = shape.channels;
  if (width === shape.width && height === shape.height) return src;
  const xs = spans(width, shape.width);
  const ys = spans(height, shape.height);
  const out = new Uint8Array(shape.width * shape.height * c);
  const acc = new Float64Array(c);
  for (let ty = 0; ty < shape.height; ty++) {
    const yspan = ys[ty];
    for (let tx = 0; tx < shape.width; tx++) {
      const xspan = xs[tx];
      acc.fill(0);
      let total = 0;
      for (let j = 0; j < yspan.index.length; j++) {
        const wy = yspan.weight[j];
        const row = yspan.index[j] * width;
        for (let i = 0; i < xspan.index.length; i++) {
          const w = wy * xspan.weight[i];
          const p = (row + xspan.index[i]) * c;
          for (let k = 0; k < c; k++) acc[k] += w * src[p + k];
          total += w;
        }
      }
      const o = (ty * shape.width + tx) * c;
      for (let k = 0; k < c; k++) out[o + k] = Math.round(acc[k] / total);
    }
  }
  return out;
}

/** For each target coordinate, the source indices it covers and their weights. */
function spans(
  from: number,
  to: number,
): Array<{ index: number[]; weight: number[] }> {
  const ratio = from / to;
  const out = [];
  for (let t = 0; t < to; t++) {
    const a = t * ratio, b = Math.max((t + 1) * ratio, a + 1e-9);
    const index: number[] = [], weight: number[] = [];
    for (let s = Math.floor(a); s < Math.min(Math.ceil(b), from); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s);
      if (w > 0) {
        index.push(s);
        weight.push(w);
      }
    }
    if (index.length === 0) {
      index.push(Math.min(from - 1, Math.floor(a)));
      weight.push(1);
    }
    out.push({ index, weight });
  }
  return out;
}

// deno-lint-ignore no-explicit-any
let sharpModule: Promise<any> | null = null;

/** JPEG (and anything PNG-shaped fast-png refuses) through libvips. */
async function decodeWithSharp(
  bytes: Uint8Array,
  shape: ImageShape,
  maxPixels: number,
): Promise<Uint8Array> {
  // Loaded on first use only: MNIST and PNG-only folders never need it.
  if (!sharpModule) {
    // libvips prints its own warnings for every corrupt JPEG; the error we
    // report names the file instead. Must be set before libvips starts.
    try {
      Deno.env.set("VIPS_WARNING", "0");
    } catch { /* no env permission: the warnings stay */ }
    sharpModule = import("sharp");
  }
  const sharp = (await sharpModule).default;
  try {
    let pipeline = sharp(bytes, {
      failOn: "error",
      // A backstop for a header this module could not read (sharp's own
      // default is 268 megapixels).
      limitInputPixels: Number.isFinite(maxPixels) ? maxPixels : false,
    })
      .rotate() // honour EXIF orientation
      .flatten({ background: "#000000" })
      .resize(shape.width, shape.height, { fit: "fill", kernel: "lanczos3" });
    pipeline = shape.channels === 1
      ? pipeline.greyscale().toColourspace("b-w")
      : pipeline.toColourspace("srgb");
    const { data, info } = await pipeline.raw().toBuffer({
      resolveWithObject: true,
    });
    if (info.channels !== shape.channels) {
      throw new Error(`got ${info.channels} channels`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    // libvips repeats its lines; one of each reads better in a report.
    const lines = (e as Error).message.split("\n").map((l) => l.trim());
    throw new ImageDecodeError(
      `not a readable image (damaged or cut short): ${
        [...new Set(lines.filter(Boolean))].join("; ")
      }`,
    );
  }
}
