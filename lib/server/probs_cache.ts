/**
 * The class probabilities served at `GET /api/probs`, encoded in the PRB1
 * format of lib/protocol/probs_format.ts once per prediction version.
 */

import { BOOT_ID } from "./boot_id.ts";
import { encodeProbs, type QueueTrailer } from "../protocol/probs_format.ts";

export class ProbsCache {
  #bytes: Uint8Array | null = null;
  #version = -1;

  /** `probs` holds `count` rows of the data set's classes. */
  get(
    probs: Float32Array,
    count: number,
    version: number,
    queue?: QueueTrailer,
  ): { bytes: Uint8Array; etag: string } {
    if (this.#bytes === null || this.#version !== version) {
      const classes = count > 0 ? probs.length / count : 0;
      this.#bytes = encodeProbs(probs, count, classes, version, queue);
      this.#version = version;
    }
    return { bytes: this.#bytes, etag: `"${BOOT_ID}-p${version}"` };
  }
}
