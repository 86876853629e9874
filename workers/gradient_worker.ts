/**
 * The helper thread of data-parallel training: it computes the loss and gradients
 * of its shard of each batch, and half of each evaluation pass, on its own tfjs
 * wasm instance. Parameters are read from the trainer's SharedArrayBuffer, and
 * gradients and predictions written into shared arrays the trainer reads
 * (lib/training/shared_buffers.ts says why).
 */
/// <reference lib="deno.worker" />
import { initBackend, setVariableValues } from "../lib/ssvae/backend.ts";
import { lowerThreadPriority } from "../lib/thread_priority.ts";
import { SSVAE } from "../lib/ssvae/model.ts";
import { evalSums, shardGradients } from "../lib/training/shard.ts";
import type {
  HelperRequest,
  HelperResponse,
} from "../lib/training/helper_thread.ts";

let model: SSVAE | null = null;
let values: Float32Array[] = [];
let grads: Float32Array[] = [];
let loadedVersion = -1;

function syncParams(version: number): void {
  if (!model || version === loadedVersion) return;
  model.variables().forEach((v, i) => setVariableValues(v, values[i]));
  loadedVersion = version;
}

function reply(msg: HelperResponse, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

// Background work: the page's requests go first (lib/thread_priority.ts).
lowerThreadPriority();

self.onmessage = async (e: MessageEvent<HelperRequest>) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case "init": {
        await initBackend(msg.backend);
        model?.dispose();
        model = new SSVAE(msg.config);
        let offset = 0;
        values = [];
        grads = [];
        for (const v of model.variables()) {
          values.push(msg.sharedValues.subarray(offset, offset + v.size));
          grads.push(msg.sharedGrads.subarray(offset, offset + v.size));
          offset += v.size;
        }
        loadedVersion = -1;
        return reply({ type: "ready", id: msg.id });
      }
      case "config":
        if (model) Object.assign(model.config, msg.config);
        return reply({ type: "ok", id: msg.id });
      case "shard": {
        const t0 = performance.now();
        syncParams(msg.version);
        const r = shardGradients(
          model!,
          model!.config,
          msg.shard,
          msg.normalizer,
          grads,
        );
        return reply({
          type: "shard",
          id: msg.id,
          loss: r.loss,
          computeMs: performance.now() - t0,
        });
      }
      case "predict": {
        syncParams(msg.version);
        model!.predict(msg.x, msg.count, {
          decode: msg.decode,
          into: { out: msg.out, at: 0 },
        });
        return reply({ type: "predict", id: msg.id });
      }
      case "eval": {
        syncParams(msg.version);
        const sums = evalSums(model!, msg.x, msg.oneHot, msg.labelled);
        return reply({ type: "eval", id: msg.id, sums });
      }
    }
  } catch (err) {
    reply({
      type: "error",
      id: msg.id,
      message: err instanceof Error ? err.message : String(err),
    });
  }
};
