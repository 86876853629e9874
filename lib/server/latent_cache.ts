/**
 * The latent snapshot served at `GET /api/latent`, encoded in the LAT1 format
 * of lib/protocol/latent_format.ts from the model's latest prediction and the
 * live labels.
 */

import { BOOT_ID } from "./boot_id.ts";
import {
  allocateLatent,
  decodeLatent,
  latentBytes,
  type LatentSnapshot,
} from "../protocol/latent_format.ts";

export interface LatentSource {
  /** N × latentDim z_mean values. */
  latent: Float32Array;
  latentDim: number;
  predClass: Uint8Array;
  certainty: Float32Array;
  /** Live label view: NaN = unlabelled. */
  labels: Float32Array;
  count: number;
}

/** The snapshot of `src` as LAT1 bytes. */
export function encodeLatentSource(
  src: LatentSource,
  version: number,
): Uint8Array {
  const n = src.count;
  const snap = allocateLatent(n, version);
  const d = src.latentDim;
  for (let i = 0; i < n; i++) {
    // A 1-D latent plots on a line; for d > 2 the first two dimensions are shown.
    snap.x[i] = src.latent[i * d];
    snap.y[i] = d > 1 ? src.latent[i * d + 1] : 0;
  }
  snap.predClass.set(src.predClass.subarray(0, n));
  for (let i = 0; i < n; i++) {
    const c = src.certainty[i];
    snap.certainty[i] = Number.isFinite(c)
      ? Math.round(Math.min(1, Math.max(0, c)) * 255)
      : 0;
  }
  writeUserLabels(snap, src.labels);
  return latentBytes(snap);
}

/** Rewrites only the label column (labels change far more often than predictions). */
function writeUserLabels(snap: LatentSnapshot, labels: Float32Array): void {
  for (let i = 0; i < snap.count; i++) {
    const l = labels[i];
    snap.userLabel[i] = Number.isNaN(l) ? -1 : l;
  }
}

/**
 * Caches the encoded snapshot: predictions are encoded once per version; a
 * label change only rewrites the N-byte label column. The ETag covers both,
 * so a browser's cached copy is never served with stale labels.
 */
export class LatentCache {
  #bytes: Uint8Array | null = null;
  #version = -1;
  #labelsRev = -1;

  get(
    src: LatentSource,
    version: number,
    labelsRev: number,
  ): { bytes: Uint8Array; etag: string } {
    if (this.#bytes === null || this.#version !== version) {
      this.#bytes = encodeLatentSource(src, version);
      this.#version = version;
      this.#labelsRev = labelsRev;
    } else if (this.#labelsRev !== labelsRev) {
      // The bytes already handed to earlier responses must not change under them.
      const next = this.#bytes.slice();
      writeUserLabels(decodeLatent(next), src.labels);
      this.#bytes = next;
      this.#labelsRev = labelsRev;
    }
    return { bytes: this.#bytes, etag: latentEtag(version, labelsRev) };
  }
}

/** A copy of LAT1 `bytes` with `labels` (index → label) in its label column. */
export function withOwnLabels(
  bytes: Uint8Array,
  labels: ReadonlyMap<number, number>,
): Uint8Array {
  const copy = bytes.slice();
  const snap = decodeLatent(copy);
  for (const [i, l] of labels) snap.userLabel[i] = l;
  return copy;
}

/**
 * Versions restart at 1 with every server start; the boot id keeps an ETag from
 * an earlier run (other labels, another model) from ever matching.
 */
export function latentEtag(version: number, labelsRev: number): string {
  return `"${BOOT_ID}-v${version}-l${labelsRev}"`;
}
