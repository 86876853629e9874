/**
 * The feature spaces the label graph can be built in, and the choice among
 * them on the validation images. Neighbours in the feature space are what
 * label spreading follows, so the features decide how far a label reaches
 * and how good 100 labels can be (shared/docs/label-efficiency-notes.md).
 *
 * - `pixels`: bytes / 255 (the no-network baseline's space);
 * - `deskewed pixels`: each grey image sheared upright first (lib/graph/deskew.ts);
 * - `hog` and `deskewed hog`: histograms of oriented gradients (lib/graph/hog.ts);
 * - `embeddings`: vectors the user brings (`--embeddings FILE.npy`).
 *
 * Every space is reduced to PCA_DIMS principal components before the
 * neighbour search (lib/graph/label_graph.ts).
 */
import { deskew } from "./deskew.ts";
import { hogCell, hogFeatures, hogLength } from "./hog.ts";
import { knn } from "./knn.ts";
import { fitPca, projectPca, type Rows } from "./pca.ts";
import { Rng } from "../ssvae/rng.ts";

/** The image-derived feature spaces, simplest first (a tie goes to the earlier). */
export const IMAGE_FEATURES = [
  "pixels",
  "deskewed pixels",
  "hog",
  "deskewed hog",
] as const;

/** A feature space of the label graph. */
export type FeatureKind = typeof IMAGE_FEATURES[number] | "embeddings";

/** Images as the graph reads them: `count` rows of rows × cols × channels bytes. */
export interface ImageBytes {
  raw: Uint8Array;
  count: number;
  rows: number;
  cols: number;
  channels: number;
}

/** Vectors the user brought: n × dim float32, rows in Serial order. */
export interface Embeddings {
  data: Float32Array;
  dim: number;
}

/** The feature spaces that apply to these images (deskewing needs grey). */
export function candidateFeatures(images: ImageBytes): FeatureKind[] {
  return IMAGE_FEATURES.filter((k) =>
    images.channels === 1 || !k.startsWith("deskewed")
  );
}

/**
 * A space's rows, computed chunk by chunk as PCA reads them (the n × dim
 * float matrix, 311 MB of HOG at 60k, is never built), and their width.
 * Deskewing is done once up front (bytes, the size of the images).
 */
export function featureRows(
  kind: FeatureKind,
  images: ImageBytes,
  embeddings?: Embeddings,
): { rows: Rows; dim: number } {
  if (kind === "embeddings") {
    if (!embeddings) throw new Error("the embeddings feature needs vectors");
    return { rows: embeddings.data, dim: embeddings.dim };
  }
  const { rows, cols, channels, count } = images;
  const src = kind.startsWith("deskewed")
    ? deskew(images.raw, count, rows, cols)
    : images.raw;
  let buffer = new Float32Array(0);
  const reuse = (length: number) => {
    if (buffer.length < length) buffer = new Float32Array(length);
    return buffer.subarray(0, length);
  };
  if (kind.endsWith("hog")) {
    const shape = { rows, cols, channels, cell: hogCell(rows, cols) };
    const dim = hogLength(shape);
    return {
      dim,
      rows: (s, c) => hogFeatures(src, s, c, shape, reuse(c * dim)),
    };
  }
  const dim = rows * cols * channels;
  return {
    dim,
    rows: (s, c) => {
      const out = reuse(c * dim);
      const from = s * dim;
      for (let i = 0; i < out.length; i++) out[i] = src[from + i] / 255;
      return out;
    },
  };
}

/**
 * Pixels / 255 averaged over f × f blocks, f the least that brings the
 * longer side to at most `side` (64 × 64 at side 28 → 22 × 22), per
 * channel; the rows of `images` in the order of `pick` when given (row i is
 * image pick[i]), else all of them. The quick graph's space: a large image
 * (a folder's 64 × 64 colour photos: 12,288 values) costs its projection
 * a few times the work of a blurred one, for a first minute.
 */
export function pooledPixels(
  images: ImageBytes,
  side: number,
  pick?: ArrayLike<number>,
): { rows: Rows; dim: number } {
  const { rows: h, cols: w, channels: ch, raw } = images;
  const pixels = h * w * ch;
  const f = Math.max(1, Math.ceil(Math.max(h, w) / side));
  const pw = Math.ceil(w / f);
  const dim = Math.ceil(h / f) * pw * ch;
  // Each block's pixel count (edge blocks can be smaller), inverted once.
  const scale = new Float32Array(dim);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        scale[((y / f | 0) * pw + (x / f | 0)) * ch + c] += 1;
      }
    }
  }
  for (let j = 0; j < dim; j++) scale[j] = 1 / (255 * scale[j]);
  let buffer = new Float32Array(0);
  return {
    dim,
    rows: (s, count) => {
      if (buffer.length < count * dim) buffer = new Float32Array(count * dim);
      const out = buffer.subarray(0, count * dim);
      out.fill(0);
      for (let r = 0; r < count; r++) {
        let p = (pick ? pick[s + r] : s + r) * pixels;
        const o = r * dim;
        for (let y = 0; y < h; y++) {
          const row = o + (y / f | 0) * pw * ch;
          for (let x = 0; x < w; x++) {
            const cell = row + (x / f | 0) * ch;
            for (let c = 0; c < ch; c++) out[cell + c] += raw[p++];
          }
        }
        for (let j = 0; j < dim; j++) out[o + j] *= scale[j];
      }
      return out;
    },
  };
}

/** How a space did on the validation images. */
export interface FeatureScore {
  kind: FeatureKind;
  /**
   * Share (0–1) of the validation images whose 10 nearest other validation
   * images, by their true classes, vote their own class; null without
   * ground truth.
   */
  accuracy: number | null;
}

/** The chosen space and every candidate's score. */
export interface FeatureChoice {
  kind: FeatureKind;
  accuracy: number | null;
  /** Validation images scored (0: no ground truth, the default was taken). */
  scoredOn: number;
  candidates: FeatureScore[];
}

/** At most this many validation images score a space (~1 s each at 28 × 28). */
export const CHOICE_SAMPLE = 6000;
/** Fewer validation images with a known class than this: no choice, the default. */
export const MIN_CHOICE_IMAGES = 200;
/**
 * The space taken when there is nothing to choose on (a flat folder has no
 * ground truth): HOG, the best or within half a point of the best on the
 * validation images of MNIST and Fashion-MNIST (see `chooseFeatures`).
 */
export const DEFAULT_FEATURES: FeatureKind = "hog";

/**
 * Scores every candidate space by the 10-NN leave-one-out vote of the
 * validation images (`validation`: indices into `images`, `truth`: every
 * image's true class, 255 = unknown) among themselves, in PCA_DIMS
 * components fitted on them, and takes the best. Only images the model
 * never trains on and the queue never proposes take part; the test set
 * plays no part. With embeddings they are one more candidate.
 *
 * Measured (seed 0 split, full 60k graph, val 10-NN with all labels):
 * Fashion-MNIST pixels 86.7%, HOG 89.0%; MNIST deskewed pixels 98.6%, HOG
 * 98.3%, deskewed HOG 98.8%.
 */
export function chooseFeatures(
  images: ImageBytes,
  validation: ArrayLike<number>,
  truth: Uint8Array,
  opts: {
    embeddings?: Embeddings;
    seed?: number;
    pcaDims?: number;
    progress?: (step: string) => void;
  } = {},
): FeatureChoice {
  const kinds: FeatureKind[] = [
    ...candidateFeatures(images),
    ...(opts.embeddings ? ["embeddings" as const] : []),
  ];
  const known = Array.from(validation).filter((i) => truth[i] !== 255);
  if (known.length < MIN_CHOICE_IMAGES) {
    const kind = opts.embeddings ? "embeddings" : DEFAULT_FEATURES;
    return {
      kind,
      accuracy: null,
      scoredOn: 0,
      candidates: kinds.map((k) => ({ kind: k, accuracy: null })),
    };
  }
  const sample = known.length > CHOICE_SAMPLE
    ? Array.from(
      new Rng(opts.seed ?? 0).shuffle(Uint32Array.from(known)).subarray(
        0,
        CHOICE_SAMPLE,
      ),
    )
    : known;
  const m = sample.length;
  const px = images.rows * images.cols * images.channels;
  const raw = new Uint8Array(m * px);
  const y = new Uint8Array(m);
  sample.forEach((i, j) => {
    raw.set(images.raw.subarray(i * px, (i + 1) * px), j * px);
    y[j] = truth[i];
  });
  const subset: ImageBytes = { ...images, raw, count: m };
  const sub: Embeddings | undefined = opts.embeddings && {
    dim: opts.embeddings.dim,
    data: gatherRows(opts.embeddings.data, opts.embeddings.dim, sample),
  };
  const k = 10;
  const candidates = kinds.map((kind): FeatureScore => {
    opts.progress?.(`choosing the features: trying ${kind}`);
    const { rows, dim } = featureRows(kind, subset, sub);
    const dims = Math.min(opts.pcaDims ?? 50, dim, m - 1);
    const pca = fitPca(rows, m, dim, dims, opts.seed ?? 0);
    const z = projectPca(pca, rows, m);
    const nb = knn(z, m, dims, z, m, k, { excludeSelf: true });
    let right = 0;
    const votes = new Float64Array(256);
    for (let i = 0; i < m; i++) {
      votes.fill(0);
      // Nearer neighbours break ties: each vote weighs a little more.
      for (let j = 0; j < k; j++) {
        votes[y[nb.index[i * k + j]]] += 1 + (k - j) * 1e-3;
      }
      let best = 0;
      for (let c = 1; c < 256; c++) if (votes[c] > votes[best]) best = c;
      if (best === y[i]) right++;
    }
    return { kind, accuracy: right / m };
  });
  let best = candidates[0];
  for (const c of candidates) {
    if ((c.accuracy ?? 0) > (best.accuracy ?? 0)) best = c;
  }
  return { kind: best.kind, accuracy: best.accuracy, scoredOn: m, candidates };
}

function gatherRows(
  data: Float32Array,
  dim: number,
  index: number[],
): Float32Array {
  const out = new Float32Array(index.length * dim);
  index.forEach((i, j) =>
    out.set(data.subarray(i * dim, (i + 1) * dim), j * dim)
  );
  return out;
}
