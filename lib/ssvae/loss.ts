/** The SSVAE loss: weighted reconstruction + KL + masked classification. */
import * as tf from "@tensorflow/tfjs";
import type { SSVAEConfig } from "./config.ts";
import type { ForwardOutputs } from "./model.ts";

/** Loss terms of one batch, as scalar tensors. */
export interface LossTerms {
  /** recon_weight · mean squared error. */
  reconstruction: tf.Scalar;
  /** kl_weight · mean KL divergence to N(0, I). */
  kl: tf.Scalar;
  /** Cross-entropy averaged over the labelled samples (0 when none). */
  classification: tf.Scalar;
  /** label_weight · classification. */
  weightedClassification: tf.Scalar;
  total: tf.Scalar;
}

/**
 * Per-batch label inputs: one-hot rows, all-zero for unlabelled samples, so their
 * cross-entropy is 0 and only labelled samples count (the mask of the spec).
 */
export interface LabelBatch {
  oneHot: tf.Tensor2D;
  /** Number of labelled samples in the batch, known on the JS side. */
  labelledCount: number;
}

/**
 * The sizes the batch means divide by. A shard of a batch split across threads
 * passes the whole batch's sizes, so the shards' losses (and gradients) add up
 * exactly to the whole batch's.
 */
export interface LossNormalizer {
  batchSize: number;
  labelledCount: number;
}

/** Computes the loss terms of the spec for one batch (or one shard of it). */
export function ssvaeLoss(
  x: tf.Tensor2D,
  out: ForwardOutputs,
  labels: LabelBatch,
  config: Pick<SSVAEConfig, "recon_weight" | "kl_weight" | "label_weight">,
  normalizer: LossNormalizer = {
    batchSize: x.shape[0],
    labelledCount: labels.labelledCount,
  },
): LossTerms {
  // Mean over pixels, then over the batch.
  const mse = tf.div(
    tf.sum(tf.squaredDifference(x, out.recon)),
    normalizer.batchSize * x.shape[1],
  );
  const reconstruction = tf.mul(mse, config.recon_weight) as tf.Scalar;

  const { zMean: m, zLogvar: lv } = out;
  const klPerSample = tf.mul(
    tf.sum(tf.sub(tf.sub(tf.add(lv, 1), tf.square(m)), tf.exp(lv)), 1),
    -0.5,
  );
  const kl = tf.mul(
    tf.div(tf.sum(klPerSample), normalizer.batchSize),
    config.kl_weight,
  ) as tf.Scalar;

  let classification: tf.Scalar;
  if (labels.labelledCount > 0 && normalizer.labelledCount > 0) {
    const ce = tf.neg(
      tf.sum(tf.mul(labels.oneHot, tf.logSoftmax(out.logits)), 1),
    );
    classification = tf.div(tf.sum(ce), normalizer.labelledCount);
  } else {
    classification = tf.scalar(0);
  }
  const weightedClassification = tf.mul(
    classification,
    config.label_weight,
  ) as tf.Scalar;
  const total = tf.addN([
    reconstruction,
    kl,
    weightedClassification,
  ]) as tf.Scalar;
  return { reconstruction, kl, classification, weightedClassification, total };
}
