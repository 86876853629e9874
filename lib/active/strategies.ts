/**
 * "What to label next": acquisition scores from the classifier's probabilities.
 * Higher score = more useful to label.
 */
import { Rng } from "../ssvae/rng.ts";

export const STRATEGIES = [
  "auto",
  "least_confidence",
  "margin",
  "entropy",
  "random",
] as const;
export type Strategy = typeof STRATEGIES[number];

/** Whether `name` is a known strategy. */
export function isStrategy(name: unknown): name is Strategy {
  return typeof name === "string" &&
    (STRATEGIES as readonly string[]).includes(name);
}

/**
 * "auto" is the default queue of the label graph (lib/active/coverage.ts,
 * ranked on the server); the others score each sample here.
 *
 * One score per sample from `probs` (N × `classes` softmax rows; 10 for
 * MNIST):
 * - least_confidence: 1 − max p
 * - margin: 1 − (p₁ − p₂), the top two classes' gap, inverted
 * - entropy: −Σ p·ln p
 * - random: a uniform draw from `seed` (the baseline)
 */
export function acquisitionScores(
  probs: Float32Array,
  strategy: Strategy,
  seed = 0,
  classes = 10,
): Float32Array {
  const C = classes;
  const n = probs.length / C;
  const scores = new Float32Array(n);
  if (strategy === "auto") {
    throw new Error(
      '"auto" is ranked by the label graph (lib/active/coverage.ts)',
    );
  }
  if (strategy === "random") {
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) scores[i] = rng.uniform();
    return scores;
  }
  for (let i = 0; i < n; i++) {
    const o = i * C;
    if (strategy === "entropy") {
      let h = 0;
      for (let k = 0; k < C; k++) {
        const p = probs[o + k];
        if (p > 0) h -= p * Math.log(p);
      }
      scores[i] = h;
      continue;
    }
    let first = -Infinity, second = -Infinity;
    for (let k = 0; k < C; k++) {
      const p = probs[o + k];
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) second = p;
    }
    scores[i] = strategy === "least_confidence"
      ? 1 - first
      : 1 - (first - second);
  }
  return scores;
}

/**
 * The `k` unlabelled samples (labels[i] is NaN) with the highest scores, best
 * first; ties go to the lower index so the order is stable.
 */
export function topSuggestions(
  scores: Float32Array,
  labels: Float32Array,
  k: number,
): Uint32Array {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(labels[i])) candidates.push(i);
  }
  candidates.sort((a, b) => scores[b] - scores[a] || a - b);
  return Uint32Array.from(candidates.slice(0, Math.max(0, k)));
}
