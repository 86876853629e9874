/**
 * The per-thread pieces of a training step and of the evaluation pass. A batch is
 * cut into shards (one per thread); each shard's loss is normalised by the whole
 * batch's sizes, so shard gradients simply add up. The training thread and the
 * helper worker run exactly this code.
 */
import * as tf from "@tensorflow/tfjs";
import { readInto } from "../ssvae/backend.ts";
import type { SSVAEConfig } from "../ssvae/config.ts";
import {
  classPriorMean,
  klPerSample,
  type LossNormalizer,
  ssvaeLoss,
} from "../ssvae/loss.ts";
import type { SSVAE } from "../ssvae/model.ts";

/** Host arrays of one shard of a training batch. */
export interface ShardInput {
  /** rows × 784 pixels. */
  x: Float32Array;
  /** rows × num_classes one-hot labels (all-zero rows = unlabelled). */
  oneHot: Float32Array;
  labelledCount: number;
  /** rows × latent_dim reparameterisation noise. */
  eps: Float32Array;
  /** Per classifier hidden layer, rows × width scaled keep-masks. */
  dropoutMasks: Float32Array[];
}

/** A shard's loss contribution and gradients (host arrays, `variables()` order). */
export interface ShardResult {
  loss: number;
  grads: Float32Array[];
}

/**
 * Loss and gradients of one shard, normalised by the whole batch. With `into`
 * (one array per variable), the gradients are written there and those arrays
 * returned: the trainer reuses one set step after step (and the helper thread
 * writes into arrays shared with the trainer) instead of ~2 MB of new arrays
 * per step and thread.
 */
export function shardGradients(
  model: SSVAE,
  config: SSVAEConfig,
  shard: ShardInput,
  normalizer: LossNormalizer,
  into?: Float32Array[],
): ShardResult {
  const D = model.config.input_dim;
  const rows = shard.x.length / D;
  const L = config.latent_dim;
  const vars = model.variables();
  const inputs = {
    x: tf.tensor2d(shard.x, [rows, D]),
    oneHot: tf.tensor2d(shard.oneHot, [rows, model.config.num_classes]),
    eps: tf.tensor2d(shard.eps, [rows, L]),
    masks: shard.dropoutMasks.map((m) =>
      tf.tensor2d(m, [rows, m.length / rows])
    ),
  };
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(inputs.x, {
      eps: inputs.eps,
      dropoutMasks: inputs.masks,
    });
    return ssvaeLoss(
      inputs.x,
      out,
      { oneHot: inputs.oneHot, labelledCount: shard.labelledCount },
      config,
      normalizer,
    ).total;
  }, vars);
  try {
    return {
      loss: value.dataSync()[0],
      // A parameter the loss did not reach (the classifier, on a shard with no
      // labels) has no gradient: it counts as zero, as in JAX.
      grads: vars.map((v, i) => {
        const g = grads[v.name];
        if (!into) {
          return g ? g.dataSync() as Float32Array : new Float32Array(v.size);
        }
        if (g) readInto(g, into[i]);
        else into[i].fill(0);
        return into[i];
      }),
    };
  } finally {
    tf.dispose([
      value,
      ...Object.values(grads),
      inputs.x,
      inputs.oneHot,
      inputs.eps,
      ...inputs.masks,
    ]);
  }
}

/** Sums of the evaluation metrics over some rows (z = mean, no dropout). */
export interface EvalSums {
  /** Σ over samples of the per-sample mean squared error. */
  mse: number;
  /** Σ over samples of the KL divergence. */
  kl: number;
  /** Σ over labelled samples of the cross-entropy. */
  ce: number;
  rows: number;
  labelled: number;
}

/** Evaluation sums over `x` rows with their one-hot labels, in chunks of `chunk`. */
export function evalSums(
  model: SSVAE,
  x: Float32Array,
  oneHot: Float32Array,
  labelled: number,
  chunk = 2048,
): EvalSums {
  const D = model.config.input_dim;
  const C = model.config.num_classes;
  const rows = x.length / D;
  const sums = { mse: 0, kl: 0, ce: 0, rows, labelled };
  for (let s = 0; s < rows; s += chunk) {
    const n = Math.min(chunk, rows - s);
    const t = tf.tidy(() => {
      const xb = tf.tensor2d(x.subarray(s * D, (s + n) * D), [n, D]);
      const yb = tf.tensor2d(
        oneHot.subarray(s * C, (s + n) * C),
        [n, C],
      );
      const out = model.forward(xb);
      const mse = tf.div(
        tf.sum(tf.squaredDifference(xb, out.recon)),
        D,
      );
      const priorMean = model.config.prior === "class_mixture"
        ? classPriorMean(yb, out.zMean.shape[1])
        : null;
      const kl = tf.sum(klPerSample(out.zMean, out.zLogvar, priorMean));
      const ce = tf.neg(tf.sum(tf.mul(yb, tf.logSoftmax(out.logits))));
      return tf.stack([mse, kl, ce]);
    });
    const [mse, kl, ce] = t.dataSync();
    t.dispose();
    sums.mse += mse;
    sums.kl += kl;
    sums.ce += ce;
  }
  return sums;
}
