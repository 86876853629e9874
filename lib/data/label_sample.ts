/** Seeded choices of which samples to label, for benchmarks and simulations. */
import { Rng } from "../ssvae/rng.ts";

/**
 * Picks `perClass` random indices of each class from `trueLabels` (seeded),
 * only among `candidates` when given, and returns a labels array (NaN =
 * unlabelled) holding just those.
 */
export function labelsPerClass(
  trueLabels: Uint8Array,
  perClass: number,
  seed: number,
  candidates: Uint32Array = Uint32Array.from(trueLabels.keys()),
): Float32Array {
  const order = new Rng(seed).shuffle(Uint32Array.from(candidates));
  const labels = new Float32Array(trueLabels.length).fill(NaN);
  // Any class a byte can hold (MNIST's ten, or a folder's up to MAX_CLASSES).
  const taken = new Array(256).fill(0);
  for (const i of order) {
    const y = trueLabels[i];
    if (taken[y] < perClass) {
      labels[i] = y;
      taken[y]++;
    }
  }
  return labels;
}
