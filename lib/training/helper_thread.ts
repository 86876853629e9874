/**
 * The trainer's side of the helper worker (workers/gradient_worker.ts): starts it,
 * sends it shards and evaluation rows, and matches replies to requests.
 *
 * Why a second thread: tfjs' wasm backend runs on one core (its multi-threaded
 * build is off under Deno and gains little), and the machines have two. Splitting
 * every batch across two threads is what brings an epoch within its time budget.
 */
import type { BackendName } from "../ssvae/backend.ts";
import type { SSVAEConfig } from "../ssvae/config.ts";
import type { LossNormalizer } from "../ssvae/loss.ts";
import type { Prediction } from "../ssvae/model.ts";
import type { EvalSums, ShardInput, ShardResult } from "./shard.ts";
import { ownBuffers, SharedBuffers } from "./shared_buffers.ts";

/** Messages to the helper. */
export type HelperRequest =
  | {
    type: "init";
    id: number;
    config: SSVAEConfig;
    sharedValues: Float32Array;
    /** Where the helper writes its gradients, laid out like `sharedValues`. */
    sharedGrads: Float32Array;
    backend?: BackendName;
  }
  | { type: "config"; id: number; config: SSVAEConfig }
  | {
    type: "shard";
    id: number;
    version: number;
    shard: ShardInput;
    normalizer: LossNormalizer;
  }
  | {
    type: "predict";
    id: number;
    version: number;
    x: Float32Array;
    count: number;
    decode: boolean;
    /** Shared arrays for the `count` rows' results, written in place. */
    out: Prediction;
  }
  | {
    type: "eval";
    id: number;
    version: number;
    x: Float32Array;
    oneHot: Float32Array;
    labelled: number;
  };

/** Messages from the helper. */
export type HelperResponse =
  | { type: "ready"; id: number }
  | { type: "ok"; id: number }
  | {
    type: "shard";
    id: number;
    loss: number;
    /** Milliseconds from the request's arrival to the reply. */
    computeMs: number;
  }
  | { type: "eval"; id: number; sums: EvalSums }
  | { type: "predict"; id: number }
  | { type: "error"; id: number; message: string };

type Pending = {
  resolve: (r: HelperResponse) => void;
  reject: (e: Error) => void;
};

/**
 * A started helper worker. Rows and results go through `buffers` and the
 * shared gradients, one request at a time: a caller fills them, awaits the
 * reply, and only then reuses them.
 */
export class HelperThread {
  /** Arrays shared with the worker (rows to compute on, predictions). */
  readonly buffers = new SharedBuffers();
  /** The helper's gradients of the last shard, one view per parameter. */
  readonly grads: Float32Array[];
  readonly #sharedGrads: Float32Array;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #dead: Error | null = null;

  private constructor(sizes: number[]) {
    const all = new Float32Array(
      new SharedArrayBuffer(4 * sizes.reduce((a, b) => a + b, 0)),
    );
    let offset = 0;
    this.grads = sizes.map((n) => all.subarray(offset, offset += n));
    this.#sharedGrads = all;
    this.#worker = new Worker(
      new URL("../../workers/gradient_worker.ts", import.meta.url),
      { type: "module" },
    );
    this.#worker.onmessage = (e: MessageEvent<HelperResponse>) => {
      const p = this.#pending.get(e.data.id);
      if (!p) return;
      this.#pending.delete(e.data.id);
      if (e.data.type === "error") {
        p.reject(new Error(`helper thread: ${e.data.message}`));
      } else p.resolve(e.data);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`helper thread crashed: ${e.message}`));
    };
  }

  /**
   * Starts a helper holding a model of `config` that reads parameters from
   * `sharedValues` (one after the other, `sizes` values each, in
   * `variables()` order).
   */
  static async start(
    config: SSVAEConfig,
    sharedValues: Float32Array,
    sizes: number[],
    backend?: BackendName,
  ): Promise<HelperThread> {
    const h = new HelperThread(sizes);
    await h.#request({
      type: "init",
      id: 0,
      config,
      sharedValues,
      sharedGrads: h.#sharedGrads,
      backend,
    });
    return h;
  }

  #fail(err: Error): void {
    this.#dead = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #request(
    msg: HelperRequest,
    transfer: Transferable[] = [],
  ): Promise<HelperResponse> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** Sends the live config (loss weights change between runs). */
  async setConfig(config: SSVAEConfig): Promise<void> {
    await this.#request({ type: "config", id: 0, config });
  }

  /**
   * Starts the gradients of a shard; its arrays are transferred (unusable
   * afterwards) unless shared. The result's gradients are `grads`.
   */
  shard(
    version: number,
    shard: ShardInput,
    normalizer: LossNormalizer,
  ): Promise<ShardResult & { computeMs: number }> {
    const transfer = ownBuffers([
      shard.x,
      shard.oneHot,
      shard.eps,
      ...shard.dropoutMasks,
    ]);
    return this.#request(
      { type: "shard", id: 0, version, shard, normalizer },
      transfer,
    ).then((r) => {
      const { loss, computeMs } = r as { loss: number; computeMs: number };
      return { loss, computeMs, grads: this.grads };
    });
  }

  /** Evaluation sums of some rows; the arrays are transferred unless shared. */
  eval(
    version: number,
    x: Float32Array,
    oneHot: Float32Array,
    labelled: number,
  ): Promise<EvalSums> {
    return this.#request(
      { type: "eval", id: 0, version, x, oneHot, labelled },
      ownBuffers([x, oneHot]),
    ).then((r) => (r as { sums: EvalSums }).sums);
  }

  /**
   * Evaluation-mode predictions of `count` rows, written into `out` (shared
   * arrays, e.g. from `buffers`); `x` is transferred unless shared.
   */
  async predict(
    version: number,
    x: Float32Array,
    count: number,
    decode: boolean,
    out: Prediction,
  ): Promise<Prediction> {
    await this.#request(
      { type: "predict", id: 0, version, x, count, decode, out },
      ownBuffers([x]),
    );
    return out;
  }

  /** Stops the worker; pending requests reject. */
  terminate(): void {
    this.#worker.terminate();
    this.#fail(new Error("helper thread terminated"));
  }
}
