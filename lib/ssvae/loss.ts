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

/**
 * Distance of each class's prior component from the origin, in z's first two
 * dimensions. Adjacent centres on the circle are 2·R·sin(π/10) ≈ 2.5 apart: far
 * enough that unit Gaussians mostly separate, close enough that the map stays
 * one picture.
 */
export const CLASS_PRIOR_RADIUS = 4;

/**
 * The radius of the circle of `classes` centres: CLASS_PRIOR_RADIUS up to ten
 * classes; beyond, wider, so neighbouring centres stay as far apart as ten
 * classes' are (unit Gaussians closer than that would merge on the map).
 */
export function classPriorRadius(classes: number): number {
  if (classes <= 10) return CLASS_PRIOR_RADIUS;
  return CLASS_PRIOR_RADIUS * Math.sin(Math.PI / 10) /
    Math.sin(Math.PI / classes);
}

/**
 * The `classes` × latentDim centres of the class-mixture prior (zeros beyond
 * dim 2): evenly on a circle; ten of them for a data set of fewer classes
 * (the model has ten outputs then).
 */
export function classPriorCentres(
  latentDim: number,
  classes = 10,
): Float32Array {
  const r = classPriorRadius(classes);
  const c = new Float32Array(classes * latentDim);
  for (let k = 0; k < classes; k++) {
    const a = (2 * Math.PI * k) / classes;
    c[k * latentDim] = r * Math.cos(a);
    if (latentDim > 1) c[k * latentDim + 1] = r * Math.sin(a);
  }
  return c;
}

/**
 * Per-sample prior mean of z under the class-mixture prior: the centres
 * weighted by the sample's (soft) label row, normalised to sum 1; 0 for a row
 * with no label. The expected KL to the components, Σ_k t_k KL(q‖N(μ_k, I)),
 * equals KL(q‖N(Σ_k t_k μ_k, I)) up to a constant, so one mean per sample
 * gives the same gradient.
 */
export function classPriorMean(
  targets: tf.Tensor2D,
  latentDim: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const sum = tf.sum(targets, 1, true);
    const weights = tf.div(targets, tf.maximum(sum, 1e-12));
    // One centre per column of the (soft) labels: the model's class count.
    const k = targets.shape[1];
    const centres = tf.tensor2d(classPriorCentres(latentDim, k), [
      k,
      latentDim,
    ]);
    return tf.matMul(weights, centres) as tf.Tensor2D;
  });
}

/**
 * KL(N(m, exp(lv)) ‖ N(priorMean, I)) per sample (summed over z's dimensions);
 * `priorMean` null means the standard normal prior of the reference.
 */
export function klPerSample(
  m: tf.Tensor2D,
  lv: tf.Tensor2D,
  priorMean: tf.Tensor2D | null,
): tf.Tensor1D {
  const d = priorMean ? tf.sub(m, priorMean) : m;
  return tf.mul(
    tf.sum(tf.sub(tf.sub(tf.add(lv, 1), tf.square(d)), tf.exp(lv)), 1),
    -0.5,
  ) as tf.Tensor1D;
}

/** Computes the loss terms of the spec for one batch (or one shard of it). */
export function ssvaeLoss(
  x: tf.Tensor2D,
  out: Omit<ForwardOutputs, "hidden">,
  labels: LabelBatch,
  config:
    & Pick<
      SSVAEConfig,
      "recon_weight" | "kl_weight" | "label_weight"
    >
    & Partial<Pick<SSVAEConfig, "prior">>,
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
  const priorMean = config.prior === "class_mixture"
    ? classPriorMean(labels.oneHot, m.shape[1])
    : null;
  const kl = tf.mul(
    tf.div(tf.sum(klPerSample(m, lv, priorMean)), normalizer.batchSize),
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
