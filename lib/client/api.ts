/** Thin typed wrappers over the dashboard's HTTP API (docs/architecture.md). */
import {
  decodeLatent,
  type LatentSnapshot,
} from "../protocol/latent_format.ts";
import { decodeProbs, type ProbsSnapshot } from "../protocol/probs_format.ts";
import type {
  ApiState,
  BatchResult,
  ImportResult,
  LabelChange,
  LabelResult,
  RunRecord,
  Sample,
} from "../protocol/api.ts";

/** A failed API call; `message` is the server's `{ error }` text when it sent one. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
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

export class Api {
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

  async setLabel(index: number, label: number): Promise<LabelResult> {
    return json(
      await fetch(`${this.base}/api/labels/${index}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ label, clientTime: Date.now() }),
      }),
      `PUT /api/labels/${index}`,
    );
  }

  async deleteLabel(index: number): Promise<LabelResult> {
    return json(
      await fetch(`${this.base}/api/labels/${index}`, {
        method: "DELETE",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ clientTime: Date.now() }),
      }),
      `DELETE /api/labels/${index}`,
    );
  }

  /** Many labels in one atomic server write (`PUT /api/labels`). */
  async setLabels(changes: LabelChange[]): Promise<BatchResult> {
    return json(
      await fetch(`${this.base}/api/labels`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ changes, clientTime: Date.now() }),
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

  /** Original images of up to 100 samples: one rows×cols×channels byte block each. */
  async thumbnails(
    indices: ArrayLike<number>,
    signal?: AbortSignal,
  ): Promise<
    { rows: number; cols: number; channels: number; bytes: Uint8Array }
  > {
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
  async importLabels(body: {
    csv: string;
    mode: "merge" | "replace";
    dryRun: boolean;
    name?: string;
    ifRevision?: number;
  }): Promise<ImportResult> {
    return json(
      await fetch(`${this.base}/api/labels/import`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
      "POST /api/labels/import",
    );
  }

  async startTraining(body: {
    epochs: number;
    recon_weight?: number;
    kl_weight?: number;
    learning_rate?: number;
  }): Promise<{ status: string }> {
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
