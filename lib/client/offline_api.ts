/**
 * The dashboard API as the page sees it when it may lose the server: an
 * `OfflineApi` wraps the server's `Api` and implements the same interface.
 * Online every call passes through. When the server cannot be reached:
 * - label writes (`setLabel`, `deleteLabel`, `setLabels`) go to the offline
 *   queue and answer `queued: true` — when the page is offline, when earlier
 *   writes are still queued (they must reach the server first), or when the
 *   request fails with a network error (an HTTP error is still an error);
 * - `latent` and `state` answer from the page's offline copies;
 * - `sample` is put together from the cached original image and the snapshot
 *   the page shows (no reconstruction: that needs the model).
 * Everything else passes through as is. The queue, the copies and the images
 * are handed in, so this runs (and is tested) without a browser.
 */
import type { AgreementResponse } from "../protocol/team.ts";
import type {
  LabelHistoryResponse,
  LabelSource,
} from "../protocol/label_events.ts";
import {
  ApiError,
  type DashboardApi,
  isNetworkError,
  type Thumbnails,
  type TrainingRequest,
  type WriteResult,
} from "./api.ts";
import type { ImportRequest } from "./active_store.ts";
import type { OfflineCopies } from "./offline_copies.ts";
import type { OfflineImages } from "./offline_images.ts";
import { bytesToBase64 } from "../protocol/base64.ts";
import type { LatentSnapshot } from "../protocol/latent_format.ts";
import type { ProbsSnapshot } from "../protocol/probs_format.ts";
import type * as Wire from "../protocol/api.ts";

/** The offline label queue as OfflineApi uses it (lib/client/outbox_sync.ts). */
export interface LabelQueue {
  /** Resolves once the queue is open: false when this browser cannot keep one. */
  ready(): Promise<boolean>;
  /** Operations waiting to be replayed. */
  readonly pending: number;
  /** Queues changes made at `clientTime`; resolves once they are stored. */
  add(changes: Wire.LabelChange[], clientTime: number): Promise<void>;
}

/** What an OfflineApi is built from. */
export interface OfflineApiDeps {
  /** The server. */
  server: DashboardApi;
  queue: LabelQueue;
  /** The kept snapshot and state (lib/client/offline_copies.ts). */
  copies: Pick<OfflineCopies, "latent" | "state">;
  /** The cached original images (lib/client/offline_images.ts). */
  images: Pick<OfflineImages, "image">;
  /** True when writes should not even try the server (lib/client/connectivity.ts). */
  isOffline(): boolean;
  /** The snapshot the page shows (queued labels laid over it). */
  snapshot(): LatentSnapshot | null;
  /** Called when a write finds the session ended (the page asks to sign in). */
  onSignedOut?: () => void;
  /** The clock of queued writes, ms since 1970 (tests pass their own). */
  now?: () => number;
}

/** The server's Api with the offline fallbacks above. */
export class OfflineApi implements DashboardApi {
  readonly #d: OfflineApiDeps;
  readonly #now: () => number;
  #lastTime = 0;

  constructor(deps: OfflineApiDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * The client time of a queued write: strictly increasing, so that two
   * writes in one millisecond still replay as "the later one wins".
   */
  #nextTime(): number {
    return this.#lastTime = Math.max(this.#now(), this.#lastTime + 1);
  }

  /**
   * Whether a failed request is one the offline layer stands in for: the
   * server out of reach, or a session that ended (a 401: the page asks to
   * sign in; writes wait in the queue under the same name, reads come from
   * this device, as offline).
   */
  #unreachable(e: unknown): boolean {
    if (e instanceof ApiError && e.status === 401) {
      this.#d.onSignedOut?.();
      return true;
    }
    return isNetworkError(e);
  }

  /** A write goes straight to the server unless offline or others are queued. */
  async #write<T extends object>(
    changes: Wire.LabelChange[],
    direct: () => Promise<WriteResult<T>>,
    queued: () => WriteResult<T>,
  ): Promise<WriteResult<T>> {
    const { queue } = this.#d;
    const time = this.#nextTime();
    const canQueue = await queue.ready();
    if (canQueue && (this.#d.isOffline() || queue.pending > 0)) {
      await queue.add(changes, time);
      return queued();
    }
    try {
      return await direct();
    } catch (e) {
      if (!canQueue || !this.#unreachable(e)) throw e;
      await queue.add(changes, time);
      return queued();
    }
  }

  setLabel(
    index: number,
    label: number,
    source?: LabelSource,
  ): Promise<WriteResult<Wire.LabelResult>> {
    return this.#write(
      [{ index, label }],
      () => this.#d.server.setLabel(index, label, source),
      () => ({ index, label, applied: true, queued: true }),
    );
  }

  deleteLabel(
    index: number,
    source?: LabelSource,
  ): Promise<WriteResult<Wire.LabelResult>> {
    return this.#write(
      [{ index, label: null }],
      () => this.#d.server.deleteLabel(index, source),
      () => ({ index, label: null, applied: true, queued: true }),
    );
  }

  /** The batch write (lasso, undo/redo): queued as one entry per change, one time. */
  setLabels(
    changes: Wire.LabelChange[],
    source?: LabelSource,
  ): Promise<WriteResult<Wire.BatchResult>> {
    return this.#write(
      changes,
      () => this.#d.server.setLabels(changes, source),
      () => ({
        applied: changes.length,
        changed: changes.length,
        stale: [],
        queued: true,
      }),
    );
  }

  async sample(index: number, signal?: AbortSignal): Promise<Wire.Sample> {
    let s: Wire.Sample;
    try {
      s = await this.#d.server.sample(index, signal);
    } catch (e) {
      if (!this.#unreachable(e)) throw e;
      const built = await this.#offlineSample(index);
      if (built) return built;
      throw new ApiError(
        0,
        `#${index} is not available offline yet (its image is still downloading)`,
      );
    }
    const snap = this.#d.snapshot();
    const v = s.latentVersion;
    if (
      this.#d.isOffline() && snap && v !== undefined && v !== snap.version
    ) {
      // A cached answer from an older model: the snapshot's opinion is newer.
      return {
        ...s,
        predClass: snap.predClass[index],
        certainty: snap.certainty[index] / 255,
        probs: [],
        offline: true,
      };
    }
    return s;
  }

  /** A sample from the cached image and the page's snapshot, or null. */
  async #offlineSample(index: number): Promise<Wire.Sample | null> {
    const snap = this.#d.snapshot();
    if (!snap || index >= snap.count) return null;
    const img = await this.#d.images.image(index);
    if (!img) return null;
    const ul = snap.userLabel[index];
    return {
      index,
      label: ul < 0 ? null : ul,
      predClass: snap.predClass[index],
      certainty: snap.certainty[index] / 255,
      probs: [],
      original: bytesToBase64(img),
      // Not derivable without the model: the panel says it is not cached.
      recon: "",
      offline: true,
    };
  }

  async latent(force?: boolean): Promise<LatentSnapshot | null> {
    try {
      return await this.#d.server.latent(force);
    } catch (e) {
      if (!this.#unreachable(e)) throw e;
      const snap = await this.#d.copies.latent();
      if (snap) return snap;
      throw e;
    }
  }

  async state(): Promise<Wire.ApiState> {
    try {
      return await this.#d.server.state();
    } catch (e) {
      if (!this.#unreachable(e)) throw e;
      const state = await this.#d.copies.state();
      if (state) return state;
      throw e;
    }
  }

  // Only the server can answer these: as they are.
  probs(): Promise<ProbsSnapshot | null> {
    return this.#d.server.probs();
  }

  thumbnails(
    indices: ArrayLike<number>,
    signal?: AbortSignal,
  ): Promise<Thumbnails> {
    return this.#d.server.thumbnails(indices, signal);
  }

  labelSources(signal?: AbortSignal): Promise<Uint8Array> {
    return this.#d.server.labelSources(signal);
  }

  evaluations(): Promise<{ runs: Wire.RunRecord[]; error?: string }> {
    return this.#d.server.evaluations();
  }

  /** Online only: the queue is the server's graph worker's. */
  review(): Promise<Wire.ReviewResponse> {
    return this.#d.server.review();
  }

  /** Online only: the server keeps the annotations. */
  agreement(): Promise<AgreementResponse> {
    return this.#d.server.agreement();
  }

  labelHistory(index: number): Promise<LabelHistoryResponse> {
    return this.#d.server.labelHistory(index);
  }

  confirmReview(index: number, label: number): Promise<void> {
    return this.#d.server.confirmReview(index, label);
  }

  exportLabels(): Promise<Map<number, number>> {
    return this.#d.server.exportLabels();
  }

  importLabels(body: ImportRequest): Promise<Wire.ImportResult> {
    return this.#d.server.importLabels(body);
  }

  startTraining(body: TrainingRequest): Promise<{ status: string }> {
    return this.#d.server.startTraining(body);
  }

  stopTraining(): Promise<void> {
    return this.#d.server.stopTraining();
  }
}
