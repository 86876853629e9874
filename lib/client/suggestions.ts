/**
 * The suggestion queue: which unlabelled image to label next. The class
 * probabilities come from `GET /api/probs` (one byte each); scores and the
 * ranking come from lib/active/strategies.ts, computed here in the browser.
 *
 * Ranking all N images costs one sort per (prediction version, strategy);
 * after a label only the walk down that order is repeated (labelled images
 * are skipped), so the queue follows every label in well under a millisecond.
 */
import {
  acquisitionScores,
  type Strategy,
  topSuggestions,
} from "../active/strategies.ts";

export { STRATEGIES, type Strategy } from "../active/strategies.ts";
import type { ProbsSnapshot } from "../protocol/probs_format.ts";
import type { GraphInfo } from "../protocol/api.ts";

/** The strategies in plain words; the technical term is in STRATEGY_TITLES. */
export const STRATEGY_NAMES: Record<Strategy, string> = {
  auto: "Auto",
  least_confidence: "Least sure",
  margin: "Close calls",
  entropy: "Most mixed",
  random: "Random",
};

/** What each strategy picks, with its name in the literature (tooltips). */
export const STRATEGY_TITLES: Record<Strategy, string> = {
  auto:
    "Typical images of regions no label covers yet, then the ones the predictions are least sure of (coverage, then uncertainty)",
  least_confidence:
    "Least confidence: the images whose most likely class is least likely",
  margin: "Margin: the images whose two most likely classes are closest",
  entropy:
    "Entropy: the images whose probability is spread over the most classes",
  random: "Random images: the baseline the others should beat",
};

const NONE: ReadonlySet<number> = new Set();

/** Seed of the random baseline: stable within a prediction version. */
export function randomSeed(version: number): number {
  return 1000 + version;
}

/** Every image ranked by one strategy (most useful first). */
export interface Ranking {
  version: number;
  strategy: Strategy;
  /** Indices, best first. */
  order: Uint32Array;
  /** rank[i] = position of image i in `order`. */
  rank: Uint32Array;
  /** Milliseconds spent scoring and sorting. */
  ms: number;
}

/**
 * Scores every image and sorts (ties: lower index first). "auto" is the
 * server's queue (label graph: typical images of regions no label covers
 * yet), followed by every other image by margin (ties shuffled when there
 * is no queue).
 */
export function rankAll(snap: ProbsSnapshot, strategy: Strategy): Ranking {
  const t0 = performance.now();
  let order: Uint32Array;
  if (strategy === "auto") {
    // Without the graph's queue (still building, or off) the rest by
    // margin; an untrained model's near-uniform, byte-quantised
    // probabilities tie almost everywhere, and ties by index walked the
    // images in index order, so ties go by a seeded shuffle then.
    const rest = snap.queue.length > 0
      ? rankAll(snap, "margin").order
      : marginShuffledTies(snap);
    order = new Uint32Array(snap.count);
    const seen = new Uint8Array(snap.count);
    let p = 0;
    for (const i of snap.queue) {
      if (!seen[i]) {
        seen[i] = 1;
        order[p++] = i;
      }
    }
    for (const i of rest) if (!seen[i]) order[p++] = i;
  } else {
    const scores = acquisitionScores(
      snap.probs,
      strategy,
      randomSeed(snap.version),
      snap.classes,
    );
    // topSuggestions over "all unlabelled" is the full order.
    order = topSuggestions(
      scores,
      new Float32Array(snap.count).fill(NaN),
      snap.count,
    );
  }
  const rank = new Uint32Array(snap.count);
  for (let p = 0; p < order.length; p++) rank[order[p]] = p;
  return {
    version: snap.version,
    strategy,
    order,
    rank,
    ms: performance.now() - t0,
  };
}

/** Every image by margin, ties in a shuffled order seeded by the version. */
function marginShuffledTies(snap: ProbsSnapshot): Uint32Array {
  const margin = acquisitionScores(snap.probs, "margin", 0, snap.classes);
  const tie = acquisitionScores(
    snap.probs,
    "random",
    randomSeed(snap.version),
    snap.classes,
  );
  const order = Uint32Array.from({ length: snap.count }, (_, i) => i);
  return order.sort((a, b) => margin[b] - margin[a] || tie[b] - tie[a]);
}

/** The first `k` unlabelled images (userLabel < 0) in ranking order. */
export function topUnlabelled(
  ranking: Ranking,
  userLabel: Int8Array,
  k: number,
  skip: ReadonlySet<number> = NONE,
): Uint32Array {
  const out: number[] = [];
  const { order } = ranking;
  for (let p = 0; p < order.length && out.length < k; p++) {
    const i = order[p];
    if (i < userLabel.length && userLabel[i] < 0 && !skip.has(i)) out.push(i);
  }
  return Uint32Array.from(out);
}

/**
 * The next suggestion after `current`: the first unlabelled image ranked
 * below it (so pressing N again walks down the queue), or the best one when
 * `current` is not an unlabelled image; images in `skip` (skipped with S)
 * are passed over. -1 when every image is labelled.
 */
export function nextSuggestion(
  ranking: Ranking,
  userLabel: Int8Array,
  current: number | null,
  skip: ReadonlySet<number> = NONE,
): number {
  const { order, rank } = ranking;
  const from = current !== null && current >= 0 && current < rank.length &&
      userLabel[current] < 0
    ? rank[current] + 1
    : 0;
  for (let pass = 0; pass < 2; pass++) {
    const start = pass === 0 ? from : 0;
    const end = pass === 0 ? order.length : from;
    for (let p = start; p < end; p++) {
      const i = order[p];
      if (userLabel[i] < 0 && i !== current && !skip.has(i)) return i;
    }
  }
  return -1;
}

/**
 * The line under the "auto" strategy: what the queue is doing now, and while
 * the label graph is not ready, why (its first build takes half a minute for
 * 60k images, minutes for 200k: without this the predictions simply would not
 * follow the labels yet, with no word why).
 */
export function queueNote(
  phase: "coverage" | "uncertainty" | null | undefined,
  graph: GraphInfo | null,
): string {
  if (phase === "coverage") {
    return "Typical images of regions no label covers yet. Every label updates the predictions at once." +
      featuresNote(graph);
  }
  if (phase === "uncertainty") {
    return "The images the predictions are least sure of." +
      featuresNote(graph);
  }
  switch (graph?.status) {
    case "building":
      return `Building the label graph${
        graph.message ? ` (${graph.message})` : ""
      }: until it is ready, suggestions go by margin and the predictions are the model's.`;
    case "error":
      return `The label graph failed${
        graph.message ? ` (${graph.message})` : ""
      }: suggestions go by margin.`;
    case "off":
      return "By margin (the label graph is off).";
    default:
      return "By margin until the label graph is ready.";
  }
}

/**
 * " Similar images by HOG features (86% on validation)." — which feature
 * space the label graph follows, so a user knows what "similar" means here.
 */
export function featuresNote(graph: GraphInfo | null): string {
  const f = graph?.features;
  if (!f) return "";
  if (graph.provisional) {
    return ` For now a quick graph of plain pixels; the full label graph is being built${
      graph.message ? ` (${graph.message})` : ""
    } and takes over by itself.`;
  }
  const name = f.kind === "hog"
    ? "HOG features"
    : f.kind === "deskewed hog"
    ? "deskewed HOG features"
    : f.kind === "embeddings"
    ? "your embeddings (--embeddings)"
    : `${f.kind} features`;
  return ` Similar images by ${name}${
    f.accuracy === null
      ? " (the default: no classes to compare spaces on)"
      : ` (${
        (100 * f.accuracy).toFixed(0)
      }% on validation, best of ${f.candidates.length})`
  }.`;
}

/**
 * The label graph's state while it is not fully there, for the line under
 * the map's title (above the fold: the Suggestions card's note was the only
 * word of it). Null once the full graph serves, or with the graph off.
 */
export function graphStatusLine(
  graph: GraphInfo | null,
): { text: string; kind: "info" | "error" } | null {
  if (!graph) return null;
  const step = graph.message ? ` (${graph.message})` : "";
  switch (graph.status) {
    case "building":
      return {
        kind: "info",
        text:
          `Building the label graph${step}. Until it is ready the predictions are the model's and the suggestions go by margin.`,
      };
    case "error":
      return {
        kind: "error",
        text:
          `The label graph failed${step}: the predictions are the model's and the suggestions go by margin.`,
      };
    case "ready":
      return graph.provisional
        ? {
          kind: "info",
          text:
            `Labels spread on a quick graph of plain pixels for now; the full label graph is being built${step} and takes over by itself.`,
        }
        : null;
    default:
      return null;
  }
}
