/**
 * The image-folder flags shared by the dashboard and the CLI: `--images DIR`,
 * `--image-size N|WxH`, `--color`, `--classes a,b,...`, `--holdout F` (where
 * a folder's labels and checkpoint go: lib/protocol/paths.ts).
 */

import { resolve } from "node:path";
import { parseClassList } from "./classes.ts";
import type { ImageShape } from "./decode.ts";

/** What `--images` and its companions ask for. */
export interface ImageOptions {
  dir: string;
  shape: ImageShape;
  classes?: string[];
  holdout: number;
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
  let holdout = 0;
  if (f.holdout !== undefined && f.holdout !== "") {
    holdout = Number(f.holdout);
    if (
      !/^\d*\.?\d+$/.test(f.holdout.trim()) || !(holdout >= 0 && holdout <= 0.9)
    ) {
      throw new Error(
        `--holdout ${
          JSON.stringify(f.holdout)
        }: expected a share 0-0.9, e.g. 0.1`,
      );
    }
  }
  return {
    dir: resolve(f.images),
    shape: { width, height, channels: f.color ? 3 : 1 },
    classes: f.classes !== undefined && f.classes !== ""
      ? parseClassList(f.classes)
      : undefined,
    holdout,
  };
}
