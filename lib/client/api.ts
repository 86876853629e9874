/**
 * What the page's controller asks of the server (`DashboardApi`), and `Api`,
 * its thin typed wrappers over the dashboard's HTTP API (docs/architecture.md).
 * The offline layer (lib/client/offline_api.ts) implements the same interface
 * by wrapping an `Api`.
 */
import type { AgreementResponse } from "../protocol/team.ts";
import {
  decodeLatent,
  type LatentSnapshot,
} from "../protocol/latent_format.ts";
import { decodeProbs, type ProbsSnapshot } from "../protocol/probs_format.ts";
import { REVIEW_PAGE } from "../protocol/limits.ts";
import type {
  LabelHistoryResponse,
  LabelSource,
} from "../protocol/label_events.ts";
import { writeHeaders } from "./client_id.ts";
import type {
  ApiState,
  BatchResult,
  ImportResult,
  LabelChange,
  LabelResult,
  ReviewResponse,
  RunRecord,
  Sample,
} from "../protocol/api.ts";
import type { ImportRequest } from "./active_store.ts";

/** A failed API call; `message` is the server's `{ error }` text when it sent one. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A fetch that never reached the server (offline, refused, reset). */
export function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError ||
    (e instanceof Error && e.name === "NetworkError");
}

/**
 * A label write's answer. `queued`: the offline layer kept it on this device
 * for the next sync instead of sending it (the page says "Queued offline").
 */
export type WriteResult<T> = T & { queued?: boolean };

/** The thumbnails of up to 100 samples: one rows×cols×channels byte block each. */
export interface Thumbnails {
  rows: number;
  cols: number;
  channels: number;
  bytes: Uint8Array;
}

/** The body of `POST /api/training/start`. */
export interface TrainingRequest {
  epochs: number;
  recon_weight?: number;
  kl_weight?: number;
  learning_rate?: number;
}

/**
 * Everything the controllers (lib/client/controller.ts,
 * lib/client/active_controller.ts) ask of the server. `Api` sends each call;
 * `OfflineApi` answers some of them from this device when it cannot.
 */
export interface DashboardApi {
  state(): Promise<ApiState>;
  /** The snapshot, or `null` when unchanged since the last call (`force`: always). */
  latent(force?: boolean): Promise<LatentSnapshot | null>;
  sample(index: number, signal?: AbortSignal): Promise<Sample>;
  /** `source`: what the label history records the write as (lib/protocol/label_events.ts). */
  setLabel(
    index: number,
    label: number,
    source?: LabelSource,
  ): Promise<WriteResult<LabelResult>>;
  deleteLabel(
    index: number,
    source?: LabelSource,
  ): Promise<WriteResult<LabelResult>>;
  setLabels(
    changes: LabelChange[],
    source?: LabelSource,
  ): Promise<WriteResult<BatchResult>>;
  /** Quantised class probabilities; `null` when unchanged since the last call. */
  probs(): Promise<ProbsSnapshot | null>;
  thumbnails(
    indices: ArrayLike<number>,
    signal?: AbortSignal,
  ): Promise<Thumbnails>;
  /**
   * Each image's latest label source (GET /api/labels/sources): 1 + its
   * place in LABEL_SOURCES, 0 for none.
   */
  labelSources(signal?: AbortSignal): Promise<Uint8Array>;
  evaluations(): Promise<{ runs: RunRecord[]; error?: string }>;
  /** The review queue (GET /api/review). */
  review(): Promise<ReviewResponse>;
  /** The team's agreement and disagreements (GET /api/agreement, `--overlap`). */
  agreement(): Promise<AgreementResponse>;
  /** Image `index`'s label history, newest first. */
  labelHistory(index: number): Promise<LabelHistoryResponse>;
  /** Confirms that image `index`'s label `label` is right. */
  confirmReview(index: number, label: number): Promise<void>;
  exportLabels(): Promise<Map<number, number>>;
  importLabels(body: ImportRequest): Promise<ImportResult>;
  startTraining(body: TrainingRequest): Promise<{ status: string }>;
  stopTraining(): Promise<void>;
}

async function failure(res: Response, what: string): Promise<ApiError> {
  let message = `${what}: HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && typeof body.error === "string") message = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(res.status, message);
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw await failure(res, what);
  return await res.json() as T;
}

/** The server, one fetch per call. */
export class Api implements DashboardApi {
  /** ETag of the last snapshot, for `If-None-Match`. */
  #latentEtag: string | null = null;

  constructor(readonly base = "") {}

  async state(): Promise<ApiState> {
    return json(
      await fetch(`${this.base}/api/state`, { cache: "no-store" }),
      "GET /api/state",
    );
  }

  /**
   * The latent snapshot, or `null` when the server answers 304 (unchanged
   * since the last call). `force` skips the conditional header.
   */
  async latent(force = false): Promise<LatentSnapshot | null> {
    const conditional = this.#latentEtag !== null && !force;
    // First load: "no-cache" lets the browser revalidate its own copy (a
    // reload then gets a 304 and reuses the cached body). Later: our own
    // If-None-Match, so that a 304 reaches us as "unchanged".
    const res = await fetch(`${this.base}/api/latent`, {
      headers: conditional ? { "If-None-Match": this.#latentEtag! } : {},
      cache: conditional ? "no-store" : "no-cache",
    });
    if (res.status === 304) return null;
    if (!res.ok) throw await failure(res, "GET /api/latent");
    const snap = decodeLatent(await res.arrayBuffer());
    this.#latentEtag = res.headers.get("ETag");
    return snap;
  }

  async sample(index: number, signal?: AbortSignal): Promise<Sample> {
    return json(
      await fetch(`${this.base}/api/samples/${index}`, {
        signal,
        cache: "no-store",
      }),
      `GET /api/samples/${index}`,
    );
  }

  async setLabel(
    index: number,
    label: number,
    source?: LabelSource,
  ): Promise<LabelResult> {
    return json(
      await fetch(`${this.base}/api/labels/${index}`, {
        method: "PUT",
        headers: writeHeaders(),
        body: JSON.stringify({ label, clientTime: Date.now(), source }),
      }),
      `PUT /api/labels/${index}`,
    );
  }

  async deleteLabel(
    index: number,
    source?: LabelSource,
  ): Promise<LabelResult> {
    return json(
      await fetch(`${this.base}/api/labels/${index}`, {
        method: "DELETE",
        headers: writeHeaders(),
        body: JSON.stringify({ clientTime: Date.now(), source }),
      }),
      `DELETE /api/labels/${index}`,
    );
  }

  /** Many labels in one atomic server write (`PUT /api/labels`). */
  async setLabels(
    changes: LabelChange[],
    source?: LabelSource,
  ): Promise<BatchResult> {
    return json(
      await fetch(`${this.base}/api/labels`, {
        method: "PUT",
        headers: writeHeaders(),
        body: JSON.stringify({ changes, clientTime: Date.now(), source }),
      }),
      "PUT /api/labels",
    );
  }

  #probsEtag: string | null = null;

  /** Quantised class probabilities; `null` when unchanged since the last call. */
  async probs(): Promise<ProbsSnapshot | null> {
    const res = await fetch(`${this.base}/api/probs`, {
      headers: this.#probsEtag ? { "If-None-Match": this.#probsEtag } : {},
      cache: "no-store",
    });
    if (res.status === 304) return null;
    if (!res.ok) throw await failure(res, "GET /api/probs");
    const snap = decodeProbs(await res.arrayBuffer());
    this.#probsEtag = res.headers.get("ETag");
    return snap;
  }

  async labelSources(signal?: AbortSignal): Promise<Uint8Array> {
    const res = await fetch(`${this.base}/api/labels/sources`, {
      signal,
      cache: "no-store",
    });
    if (!res.ok) throw await failure(res, "GET /api/labels/sources");
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Original images of up to 100 samples: one rows×cols×channels byte block each. */
  async thumbnails(
    indices: ArrayLike<number>,
    signal?: AbortSignal,
  ): Promise<Thumbnails> {
    const res = await fetch(
      `${this.base}/api/thumbnails?indices=${Array.from(indices).join(",")}`,
      { signal, cache: "no-store" },
    );
    if (!res.ok) throw await failure(res, "GET /api/thumbnails");
    return {
      rows: Number(res.headers.get("X-Image-Rows") ?? 28),
      cols: Number(res.headers.get("X-Image-Cols") ?? 28),
      channels: Number(res.headers.get("X-Image-Channels") ?? 1),
      bytes: new Uint8Array(await res.arrayBuffer()),
    };
  }

  async evaluations(): Promise<{ runs: RunRecord[]; error?: string }> {
    return json(
      await fetch(`${this.base}/api/evaluations`, { cache: "no-store" }),
      "GET /api/evaluations",
    );
  }

  /** Every label on the server, index → label (the JSON export). */
  async exportLabels(): Promise<Map<number, number>> {
    const body = await json<
      { labels: Array<{ index: number; label: number }> }
    >(
      await fetch(`${this.base}/api/labels/export?format=json`, {
        cache: "no-store",
      }),
      "GET /api/labels/export",
    );
    return new Map(body.labels.map((r) => [r.index, r.label]));
  }

  /** Previews (dryRun) or applies a labels CSV. A bad row: ApiError naming it. */
  async review(): Promise<ReviewResponse> {
    return json(
      await fetch(`${this.base}/api/review?limit=${REVIEW_PAGE.max}`, {
        cache: "no-store",
      }),
      "GET /api/review",
    );
  }

  async agreement(): Promise<AgreementResponse> {
    return json(
      await fetch(`${this.base}/api/agreement`, { cache: "no-store" }),
      "GET /api/agreement",
    );
  }

  async labelHistory(index: number): Promise<LabelHistoryResponse> {
    return json(
      await fetch(`${this.base}/api/labels/${index}/history`, {
        cache: "no-store",
      }),
      `GET /api/labels/${index}/history`,
    );
  }

  async confirmReview(index: number, label: number): Promise<void> {
    await json(
      await fetch(`${this.base}/api/review/${index}/confirm`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ label }),
      }),
      "POST /api/review/confirm",
    );
  }

  async importLabels(body: ImportRequest): Promise<ImportResult> {
    return json(
      await fetch(`${this.base}/api/labels/import`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
      "POST /api/labels/import",
    );
  }

  async startTraining(body: TrainingRequest): Promise<{ status: string }> {
    return json(
      await fetch(`${this.base}/api/training/start`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
      "POST /api/training/start",
    );
  }

  async stopTraining(): Promise<void> {
    const res = await fetch(`${this.base}/api/training/stop`, {
      method: "POST",
    });
    if (!res.ok) throw await failure(res, "POST /api/training/stop");
    await res.body?.cancel();
  }
}
