/**
 * A folder of more than ten classes, one sub-folder per class,
 * written from real images: MNIST digits under their names ("zero" …
 * "nine") and Fashion-MNIST classes under theirs ("sneaker", "bag", …).
 * Every third image is tinted (colour), the rest grey PNGs.
 */

import { FASHION_NAMES, pngOf, sourceImage, tint } from "./image_fixtures.ts";

/** The digits' folder names, in digit order. */
export const DIGIT_NAMES = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
];

/** What `writeManyClassFolder` wrote. */
export interface ManyClassFolder {
  dir: string;
  /** The class names as the dashboard orders them (sorted folder names). */
  classes: string[];
  /** Relative path → class index (into `classes`). */
  truth: Map<string, number>;
}

/**
 * Writes `perClass` images of each digit in `digits` and of each
 * Fashion-MNIST class in `fashion` (indices into FASHION_NAMES), one
 * sub-folder per class, under `dir`.
 */
export async function writeManyClassFolder(
  dir: string,
  opts: { digits?: number[]; fashion?: number[]; perClass?: number } = {},
): Promise<ManyClassFolder> {
  const digits = opts.digits ?? [...DIGIT_NAMES.keys()];
  const fashion = opts.fashion ?? [7, 8]; // sneaker, bag
  const perClass = opts.perClass ?? 8;
  const names = [
    ...digits.map((d) => DIGIT_NAMES[d]),
    ...fashion.map((f) => FASHION_NAMES[f]),
  ];
  const classes = [...names].sort();
  const truth = new Map<string, number>();
  let k = 0;
  const write = async (set: "mnist" | "fashion", wanted: number[]) => {
    const taken = new Map<number, number>();
    for (
      let i = 0;
      [...taken.values()].reduce((a, b) => a + b, 0) < wanted.length * perClass;
      i++
    ) {
      const { pixels, label } = await sourceImage(set, i);
      if (!wanted.includes(label) || (taken.get(label) ?? 0) >= perClass) {
        continue;
      }
      taken.set(label, (taken.get(label) ?? 0) + 1);
      const name = set === "mnist" ? DIGIT_NAMES[label] : FASHION_NAMES[label];
      await Deno.mkdir(`${dir}/${name}`, { recursive: true });
      const colour = k++ % 3 === 0;
      const file = `${name}/${set}_${String(i).padStart(5, "0")}.png`;
      await Deno.writeFile(
        `${dir}/${file}`,
        colour ? pngOf(tint(pixels, label), 3) : pngOf(pixels, 1),
      );
      truth.set(file, classes.indexOf(name));
    }
  };
  await write("mnist", digits);
  await write("fashion", fashion);
  return { dir, classes, truth };
}
