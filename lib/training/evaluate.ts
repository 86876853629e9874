/** The evaluation pass: metrics of a split with z = mean and no dropout. */
import type { SSVAEConfig } from "../ssvae/config.ts";
import type { SSVAE } from "../ssvae/model.ts";
import { gatherRows } from "./batches.ts";
import type { HelperThread } from "./helper_thread.ts";
import { type EvalSums, evalSums } from "./shard.ts";
import type { SplitMetrics } from "./types.ts";

/** Rows per evaluation chunk: big enough for fast matmuls, small enough to stay light. */
const CHUNK = 4096;

/**
 * Metrics over the samples `indices`. Reconstruction and KL are averaged over all
 * samples; classification over the labelled ones only (0 when there are none), so
 * unlabelled samples do not dilute it. With a helper thread, every chunk is
 * shared between the two threads.
 */
export async function evaluateSplit(
  model: SSVAE,
  config: SSVAEConfig,
  images: Float32Array,
  labels: Float32Array,
  indices: Uint32Array,
  helper?: { thread: HelperThread; version: number },
): Promise<SplitMetrics> {
  const total: EvalSums = { mse: 0, kl: 0, ce: 0, rows: 0, labelled: 0 };
  const add = (s: EvalSums) => {
    total.mse += s.mse;
    total.kl += s.kl;
    total.ce += s.ce;
    total.rows += s.rows;
    total.labelled += s.labelled;
  };
  // With a helper, each chunk is cut in two halves computed at once, so both
  // threads stay busy to the last (odd) chunk.
  const step = helper ? 2 * CHUNK : CHUNK;
  // This thread's rows go through one reused buffer, the helper's through
  // arrays shared with it.
  const C = model.config.num_classes;
  const scratch = {
    x: new Float32Array(Math.min(CHUNK, indices.length) * config.input_dim),
    oneHot: new Float32Array(Math.min(CHUNK, indices.length) * C),
  };
  for (let s = 0; s < indices.length; s += step) {
    const chunk = indices.subarray(s, s + step);
    const cut = helper ? Math.ceil(chunk.length / 2) : chunk.length;
    let remote: Promise<EvalSums> | null = null;
    if (helper && cut < chunk.length) {
      const rest = chunk.subarray(cut);
      const r = gatherRows(
        images,
        labels,
        rest,
        undefined,
        helper.thread.buffers.rows(rest.length, config.input_dim, C),
        C,
      );
      remote = helper.thread.eval(
        helper.version,
        r.x,
        r.oneHot,
        r.labelledCount,
      );
    }
    const r = gatherRows(
      images,
      labels,
      chunk.subarray(0, cut),
      undefined,
      scratch,
      C,
    );
    add(evalSums(model, r.x, r.oneHot, r.labelledCount));
    if (remote) add(await remote);
  }
  return metricsFromSums(total, config);
}

/** Turns summed evaluation terms into the reported metrics. */
export function metricsFromSums(
  s: EvalSums,
  config: SSVAEConfig,
): SplitMetrics {
  const n = Math.max(s.rows, 1);
  const reconstruction_loss = config.recon_weight * s.mse / n;
  const kl_loss = config.kl_weight * s.kl / n;
  const classification_loss = s.labelled > 0 ? s.ce / s.labelled : 0;
  const weighted_classification_loss = config.label_weight *
    classification_loss;
  return {
    loss: reconstruction_loss + kl_loss + weighted_classification_loss,
    reconstruction_loss,
    kl_loss,
    classification_loss,
    weighted_classification_loss,
  };
}
