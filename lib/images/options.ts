/**
 * The image-folder flags shared by the dashboard and the CLI: `--images DIR`,
 * `--image-size N|WxH`, `--color`, `--classes a,b,...`, `--holdout F`,
 * `--follow-links`, `--max-megapixels N` (where a folder's labels and
 * checkpoint go: lib/protocol/paths.ts).
 */

import { resolve } from "node:path";
import { parseClassList } from "./classes.ts";
import type { ImageShape } from "./decode.ts";
import { DEFAULT_MAX_MEGAPIXELS } from "../protocol/limits.ts";

/** What `--images` and its companions ask for. */
export interface ImageOptions {
  dir: string;
  shape: ImageShape;
  classes?: string[];
  holdout: number;
  /** Take symbolic links that lead out of the folder (default: skipped and listed). */
  followLinks: boolean;
  /** Images over this many pixels (by their header) are refused before decoding. */
  maxPixels: number;
}

/** Side lengths `--image-size` accepts. */
export const IMAGE_SIDE_MIN = 4;
export const IMAGE_SIDE_MAX = 256;

/** The raw flag values (strings as typed; `color` a boolean). */
export interface ImageFlags {
  images?: string;
  imageSize?: string;
  color?: boolean;
  classes?: string;
  holdout?: string;
  followLinks?: boolean;
  maxMegapixels?: string;
}

/** Parses the flags; undefined without `--images`. Throws an Error naming the flag. */
export function parseImageFlags(f: ImageFlags): ImageOptions | undefined {
  if (f.images === undefined || f.images === "") {
    for (
      const [flag, v] of [["--image-size", f.imageSize], [
        "--classes",
        f.classes,
      ], ["--holdout", f.holdout]]
    ) {
      if (v !== undefined && v !== "") {
        throw new Error(`${flag} needs --images DIR`);
      }
    }
    if (f.color) throw new Error("--color needs --images DIR");
    if (f.followLinks) throw new Error("--follow-links needs --images DIR");
    if (f.maxMegapixels !== undefined && f.maxMegapixels !== "") {
      throw new Error("--max-megapixels needs --images DIR");
    }
    return undefined;
  }
  let width = 28, height = 28;
  if (f.imageSize !== undefined && f.imageSize !== "") {
    const m = f.imageSize.trim().match(/^(\d+)(?:x(\d+))?$/i);
    width = Number(m?.[1]);
    height = Number(m?.[2] ?? m?.[1]);
    if (
      !m ||
      ![width, height].every((s) => s >= IMAGE_SIDE_MIN && s <= IMAGE_SIDE_MAX)
    ) {
      throw new Error(
        `--image-size ${
          JSON.stringify(f.imageSize)
        }: expected N or WxH, sides ${IMAGE_SIDE_MIN}-${IMAGE_SIDE_MAX}`,
      );
    }
  }
  const holdout = decimalFlag(
    "--holdout",
    f.holdout,
    0,
    (v) => v >= 0 && v <= 0.9,
    "a share 0-0.9, e.g. 0.1",
  );
  const megapixels = decimalFlag(
    "--max-megapixels",
    f.maxMegapixels,
    DEFAULT_MAX_MEGAPIXELS,
    (v) => v > 0 && v <= 10_000,
    "a number of megapixels above 0, at most 10000",
  );
  return {
    dir: resolve(f.images),
    shape: { width, height, channels: f.color ? 3 : 1 },
    classes: f.classes !== undefined && f.classes !== ""
      ? parseClassList(f.classes)
      : undefined,
    holdout,
    followLinks: f.followLinks === true,
    maxPixels: Math.round(megapixels * 1e6),
  };
}

/**
 * A flag's plain decimal ("0.1", "12", ".5"): `fallback` when not given;
 * an Error naming the flag, the value and `expected` when it is not one or
 * `ok` refuses it.
 */
function decimalFlag(
  flag: string,
  text: string | undefined,
  fallback: number,
  ok: (value: number) => boolean,
  expected: string,
): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || !ok(value)) {
    throw new Error(`${flag} ${JSON.stringify(text)}: expected ${expected}`);
  }
  return value;
}
