/**
 * What the graph workers read before a graph exists: the training and test
 * bytes, the user's vectors (`--embeddings`, `--encoder`), and the options
 * `LabelGraph.loadOrBuild` takes for them. One place, so the worker that
 * serves the graph and the worker that builds it look up the same cache.
 */

import type { RawImages } from "../data/mnist.ts";
import { loadTestRawSet, loadTrainRawSet } from "../data/source.ts";
import type {
  GraphInitMessage,
  GraphNoticeMessage,
} from "../protocol/graph_worker.ts";
import { makeNotice } from "../notices.ts";
import { readEmbeddings } from "./embeddings_file.ts";
import {
  cachedEncoderEmbeddings,
  type CacheProblem,
  encoderEmbeddings,
} from "./encoder.ts";
import type { Embeddings } from "./features.ts";
import type { LoadOptions } from "./label_graph.ts";

/** The images a graph is built from. */
export interface GraphImages {
  train: RawImages;
  /** null: the data set has no test split (a folder without --holdout). */
  test: { raw: Uint8Array; count: number } | null;
}

/** The data set's bytes (the graph scales pixels itself: no float copy). */
export async function loadGraphImages(
  data: GraphInitMessage["data"],
): Promise<GraphImages> {
  const train = await loadTrainRawSet(data);
  const test = await loadTestRawSet(data).catch(() => null);
  return { train, test: test ? { raw: test.raw, count: test.count } : null };
}

/**
 * The user's vectors, if any were asked for (undefined: none). With
 * `cachedOnly`, an encoder's vectors come only from its cache: null when the
 * model would have to run (then no graph of them is cached either).
 */
export async function userVectors(
  msg: GraphInitMessage,
  train: RawImages,
  say: (step: string) => void,
  opts: { cachedOnly?: boolean; onCacheProblem?: CacheProblem } = {},
): Promise<Embeddings | undefined | null> {
  if (msg.embeddings) return await readEmbeddings(msg.embeddings, train.count);
  if (!msg.encoder) return undefined;
  return opts.cachedOnly
    ? await cachedEncoderEmbeddings(
      msg.encoder,
      train,
      msg.cacheDir,
      say,
      opts.onCacheProblem,
    )
    : await encoderEmbeddings(
      msg.encoder,
      train,
      msg.cacheDir,
      say,
      opts.onCacheProblem,
    );
}

/**
 * Reports a cache file that was there but not used to the server, as a
 * notice for the terminal and the page (`post` is the worker's).
 */
export function cacheProblemPoster(
  post: (m: GraphNoticeMessage) => void,
): CacheProblem {
  return (path, reason) =>
    post({
      type: "notice",
      notice: makeNotice(
        "cache-rebuilt",
        `${path}: ${reason}; not used, made again`,
      ),
    });
}

/** `loadOrBuild`'s options for these images. */
export function graphLoadOptions(
  msg: GraphInitMessage,
  images: GraphImages,
  embeddings: Embeddings | undefined,
  progress: (step: string) => void,
  onCacheProblem?: CacheProblem,
): LoadOptions {
  return {
    onCacheProblem,
    test: images.test ?? undefined,
    shape: images.train,
    validation: msg.validation,
    truth: images.train.labels,
    embeddings,
    progress,
  };
}
