/**
 * A prediction snapshot the size of MNIST's training set for the suggestion
 * queue: the test checks the rankings on it, `deno task bench:queue` times
 * them. Seeded, so both see the same numbers on every run.
 */
import {
  decodeProbs,
  encodeProbs,
  type ProbsSnapshot,
} from "../lib/protocol/probs_format.ts";

/** Images in {@linkcode queueOf60k}'s snapshot. */
export const QUEUE_IMAGES = 60_000;

/**
 * 60k rows of 10 class probabilities (peaked, as a trained model's are), from
 * a seeded Lehmer generator, through the wire format: the encoded bytes, the
 * decoded snapshot and the probabilities they hold.
 */
export function queueOf60k(
  seed = 1,
): { bytes: Uint8Array; snap: ProbsSnapshot; probs: Float32Array } {
  const n = QUEUE_IMAGES;
  const probs = new Float32Array(n * 10);
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < 10; k++) sum += probs[i * 10 + k] = rnd() ** 4;
    for (let k = 0; k < 10; k++) probs[i * 10 + k] /= sum;
  }
  const bytes = encodeProbs(probs, n, 10, 3);
  return { bytes, snap: decodeProbs(bytes.slice().buffer), probs };
}
