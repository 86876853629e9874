/** The fixed train/validation split of a model. */
import { Rng } from "../ssvae/rng.ts";

/** Indices of the two splits, each sorted ascending. */
export interface Split {
  train: Uint32Array;
  val: Uint32Array;
}

/**
 * Draws `floor(count · valSplit)` validation indices from `seed`. The same seed and
 * count give the same split every time, so the split stays fixed for the life of a
 * model (the reference re-drew it per call, leaking validation images into training).
 */
export function makeSplit(
  count: number,
  valSplit: number,
  seed: number,
): Split {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  // A stream of its own, so the split does not depend on any other draw.
  new Rng((seed ^ 0x5eed5417) >>> 0).shuffle(order);
  const nVal = Math.floor(count * valSplit);
  return {
    val: order.slice(0, nVal).sort(),
    train: order.slice(nVal).sort(),
  };
}
