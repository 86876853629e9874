/**
 * Progress within an epoch for the `batch` WebSocket message: turns the
 * trainer's per-batch hook into at most a few messages per second, with the
 * running mean loss of the epoch, the time since the run started and an
 * estimate of the time left. Pure (the clock is injected) so it is unit-tested
 * without training.
 */

import type { BatchInfo } from "./types.ts";
import type { BatchProgress } from "../protocol/api.ts";

/** Fewest milliseconds between two `batch` messages of a run (≤ 5 per second). */
export const BATCH_MESSAGE_INTERVAL_MS = 200;

/**
 * One run's progress. Call `batch` from the trainer's `onBatchEnd` and
 * `epochEnd` from its `onEpochEnd`; `batch` returns a message to send, or null
 * when throttled. The first batch of the run and the last batch of every epoch
 * are always sent; others only `BATCH_MESSAGE_INTERVAL_MS` after the last one.
 */
export class RunProgress {
  readonly #targetEpochs: number;
  readonly #now: () => number;
  readonly #started: number;
  #epoch = 1;
  /** When this epoch's training pass began (the previous epoch's end). */
  #epochStart: number;
  #lossSum = 0;
  #rows = 0;
  #lastBatchEnd = 0;
  /** Time from the last batch to the epoch's end (evaluation pass), summed. */
  #overheadMs = 0;
  #epochsDone = 0;
  #lastSent = -Infinity;
  #sentAny = false;

  constructor(
    targetEpochs: number,
    now: () => number = () => performance.now(),
  ) {
    this.#targetEpochs = targetEpochs;
    this.#now = now;
    this.#started = now();
    this.#epochStart = this.#started;
  }

  /** A finished batch; the message to send, or null (throttled). */
  batch(info: BatchInfo): BatchProgress | null {
    const now = this.#now();
    this.#lastBatchEnd = now;
    this.#lossSum += info.loss * info.size;
    this.#rows += info.size;
    const last = info.batch === info.batches;
    if (
      this.#sentAny && !last &&
      now - this.#lastSent < BATCH_MESSAGE_INTERVAL_MS
    ) {
      return null;
    }
    const first = !this.#sentAny;
    this.#sentAny = true;
    this.#lastSent = now;
    return {
      epoch: this.#epoch,
      targetEpochs: this.#targetEpochs,
      batch: info.batch,
      batches: info.batches,
      elapsedMs: Math.round(now - this.#started),
      etaMs: first ? null : this.#eta(now, info.batch, info.batches),
      loss: this.#rows > 0 ? this.#lossSum / this.#rows : NaN,
    };
  }

  /** The epoch (training and evaluation passes) is over. */
  epochEnd(): void {
    const now = this.#now();
    this.#overheadMs += now - this.#lastBatchEnd;
    this.#epochsDone++;
    this.#epoch++;
    this.#epochStart = now;
    this.#lossSum = 0;
    this.#rows = 0;
  }

  /**
   * The rest of this epoch and every later one at this epoch's batch rate,
   * plus one evaluation pass per epoch left at the mean measured so far (none
   * is known during the first epoch, so its estimate leaves them out).
   */
  #eta(now: number, batch: number, batches: number): number {
    const msPerBatch = (now - this.#epochStart) / batch;
    const later = this.#targetEpochs - this.#epoch;
    const overhead = this.#epochsDone > 0
      ? this.#overheadMs / this.#epochsDone
      : 0;
    return Math.round(
      msPerBatch * (batches - batch + later * batches) +
        overhead * (later + 1),
    );
  }
}
