/** The evaluation pass: metrics of a split with z = mean and no dropout. */
import * as tf from "@tensorflow/tfjs";
import type { SSVAEConfig } from "../ssvae/config.ts";
import type { SSVAE } from "../ssvae/model.ts";
import { disposeBatch, gatherBatch } from "./batches.ts";
import type { SplitMetrics } from "./types.ts";

const EVAL_BATCH = 2048;

/**
 * Metrics over the samples `indices`. Reconstruction and KL are averaged over all
 * samples; classification over the labelled ones only (0 when there are none), so
 * unlabelled samples do not dilute it.
 */
export function evaluateSplit(
  model: SSVAE,
  config: SSVAEConfig,
  images: Float32Array,
  labels: Float32Array,
  indices: Uint32Array,
): SplitMetrics & { labelled: number } {
  let mseSum = 0, klSum = 0, ceSum = 0, labelled = 0;
  for (let s = 0; s < indices.length; s += EVAL_BATCH) {
    const batch = gatherBatch(
      images,
      labels,
      indices.subarray(s, s + EVAL_BATCH),
    );
    const sums = tf.tidy(() => {
      const out = model.forward(batch.x);
      const mse = tf.div(
        tf.sum(tf.squaredDifference(batch.x, out.recon)),
        out.recon.shape[1],
      );
      const lv = out.zLogvar, m = out.zMean;
      const kl = tf.mul(
        tf.sum(tf.sub(tf.sub(tf.add(lv, 1), tf.square(m)), tf.exp(lv))),
        -0.5,
      );
      const ce = tf.neg(
        tf.sum(tf.mul(batch.labels.oneHot, tf.logSoftmax(out.logits))),
      );
      return tf.stack([mse, kl, ce]);
    });
    const [mse, kl, ce] = sums.dataSync();
    sums.dispose();
    mseSum += mse;
    klSum += kl;
    ceSum += ce;
    labelled += batch.labels.labelledCount;
    disposeBatch(batch);
  }
  const n = Math.max(indices.length, 1);
  const reconstruction_loss = config.recon_weight * mseSum / n;
  const kl_loss = config.kl_weight * klSum / n;
  const classification_loss = labelled > 0 ? ceSum / labelled : 0;
  const weighted_classification_loss = config.label_weight *
    classification_loss;
  return {
    loss: reconstruction_loss + kl_loss + weighted_classification_loss,
    reconstruction_loss,
    kl_loss,
    classification_loss,
    weighted_classification_loss,
    labelled,
  };
}
