/**
 * Model and training configuration of the SSVAE: the reference model's fields
 * (documented field by field below) and the presets (docs/architecture.md,
 * "lib/ssvae and lib/training").
 */

import { MAX_CLASSES } from "../protocol/limits.ts";

/** Every field of the reference `SSVAEConfig`, snake_case as stored in checkpoints. */
export interface SSVAEConfig {
  /**
   * Pixels per image (height × width × channels): 784 for MNIST's 28×28 grey,
   * 3072 for 32×32 RGB. Absent in checkpoints written before it existed: 784.
   */
  input_dim: number;
  /**
   * Outputs of the classifier: 10 (MNIST's, and any data set of at most ten
   * classes: see `modelClassCount`), else one per class. Absent in
   * checkpoints written before it existed: 10.
   */
  num_classes: number;
  latent_dim: number;
  hidden_dims: number[];
  recon_weight: number;
  kl_weight: number;
  label_weight: number;
  learning_rate: number;
  weight_decay: number;
  dropout_rate: number;
  grad_clip_norm: number | null;
  batch_size: number;
  max_epochs: number;
  patience: number;
  val_split: number;
  random_seed: number;
  encoder_type: "dense";
  decoder_type: "dense";
  monitor_metric: "auto" | MetricName;
  /**
   * What the classifier reads: `"z"` (the reference: the 2-D latent, which caps
   * what it can learn) or `"hidden"`, the encoder's last hidden layer.
   */
  classifier_input: ClassifierInput;
  /**
   * The prior of z: `"normal"` (N(0, I), the reference) or `"class_mixture"`,
   * one unit Gaussian per class on a circle, so labelled and graph-labelled
   * images are pulled to their class's place on the map.
   */
  prior: PriorKind;
  /**
   * Weight of the graph's soft labels on unlabelled training images (0 = only
   * the user's labels train the classifier, as in the reference).
   */
  pseudo_label_weight: number;
}

export type ClassifierInput = "z" | "hidden";
export type PriorKind = "normal" | "class_mixture";

/** The named configurations: the reference model, and the dashboard's default. */
export const PRESETS = ["original", "graph"] as const;
export type PresetName = typeof PRESETS[number];

/** Whether `name` is a preset's name. */
export function isPreset(name: unknown): name is PresetName {
  return typeof name === "string" &&
    (PRESETS as readonly string[]).includes(name);
}

/**
 * The config stored in a checkpoint, completed: one written before the graph
 * preset existed has no `classifier_input`, `prior` or `pseudo_label_weight`,
 * and was the reference model, so it gets the reference's values (not the
 * new default's) and loads exactly as before.
 */
export function checkpointConfig(stored: Partial<SSVAEConfig>): SSVAEConfig {
  return resolveConfig({ ...ORIGINAL_MODEL_FIELDS, ...stored });
}

/** The fields a checkpoint written before they existed gets: the reference's. */
export const ORIGINAL_MODEL_FIELDS: Pick<
  SSVAEConfig,
  "classifier_input" | "prior" | "pseudo_label_weight"
> = { classifier_input: "z", prior: "normal", pseudo_label_weight: 0 };

/**
 * The classifier's width (`num_classes`) for a data set of `classCount`
 * classes: ten up to ten classes, so MNIST and every small folder keep the
 * model, the checkpoints and the wire formats they had (the outputs of
 * classes a folder lacks are masked, lib/training/restrict_classes.ts);
 * one output per class beyond.
 */
export function modelClassCount(classCount: number): number {
  return Math.max(10, classCount);
}

/** Names of the per-split metrics reported every epoch. */
export type MetricName =
  | "loss"
  | "reconstruction_loss"
  | "kl_loss"
  | "classification_loss"
  | "weighted_classification_loss";

export const METRIC_NAMES: readonly MetricName[] = [
  "loss",
  "reconstruction_loss",
  "kl_loss",
  "classification_loss",
  "weighted_classification_loss",
];

/** The dashboard's default: the `graph` preset (see `presetConfig`). */
export function defaultConfig(): SSVAEConfig {
  return presetConfig("graph");
}

/**
 * A named configuration. `original` is the reference SSVAE of the spec
 * (classifier on z, N(0, I) prior, only user labels). `graph` is the
 * dashboard's default, measured in the README's "Label efficiency": the label
 * graph's soft labels train every unlabelled image (`pseudo_label_weight`),
 * with a label weight that lets them shape z (100; at 1 the reconstruction
 * term drowns them), and z has a per-class mixture prior — so the 2-D map
 * separates the classes (≥ 90% of images share their class with most of
 * their 10 map neighbours after 100 labels, against ~60% for the reference).
 * The classifier still reads z; reading the hidden layer gave no better
 * features for the graph (README).
 */
export function presetConfig(name: PresetName): SSVAEConfig {
  const original = originalConfig();
  if (name === "original") return original;
  return {
    ...original,
    label_weight: 100,
    prior: "class_mixture",
    pseudo_label_weight: 1,
  };
}

/** The defaults of the reference implementation. */
function originalConfig(): SSVAEConfig {
  return {
    input_dim: 784,
    num_classes: 10,
    latent_dim: 2,
    hidden_dims: [256, 128, 64],
    recon_weight: 1000,
    kl_weight: 0.1,
    label_weight: 1.0,
    learning_rate: 1e-3,
    weight_decay: 1e-4,
    dropout_rate: 0.2,
    grad_clip_norm: 1.0,
    batch_size: 256,
    max_epochs: 200,
    patience: 20,
    val_split: 0.1,
    random_seed: 42,
    encoder_type: "dense",
    decoder_type: "dense",
    monitor_metric: "auto",
    ...ORIGINAL_MODEL_FIELDS,
  };
}

/** Fields that may change between runs without rebuilding the model. */
export const TUNABLE_FIELDS = [
  "recon_weight",
  "kl_weight",
  "label_weight",
  "learning_rate",
  "weight_decay",
  "dropout_rate",
  "grad_clip_norm",
  "batch_size",
  "max_epochs",
  "patience",
  "monitor_metric",
  "pseudo_label_weight",
] as const;

/** Fields that fix the architecture: a checkpoint must match them. */
export const ARCHITECTURE_FIELDS = [
  "input_dim",
  "num_classes",
  "latent_dim",
  "hidden_dims",
  "encoder_type",
  "decoder_type",
  "classifier_input",
  "prior",
] as const;

/** Error for a config value out of its range; names the field. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function check(ok: boolean, field: string, value: unknown, want: string) {
  if (!ok) {
    throw new ConfigError(
      `config.${field} = ${JSON.stringify(value)}: expected ${want}`,
    );
  }
}

const isNum = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v);

/** Merges `overrides` into `base` and validates every field, throwing a ConfigError. */
export function resolveConfig(
  overrides: Partial<SSVAEConfig> = {},
  base: SSVAEConfig = defaultConfig(),
): SSVAEConfig {
  const c: SSVAEConfig = { ...base, ...overrides };
  for (const key of Object.keys(overrides)) {
    check(
      key in base,
      key,
      (overrides as Record<string, unknown>)[key],
      "a known config field",
    );
  }
  check(
    Number.isInteger(c.input_dim) && c.input_dim >= 1 &&
      c.input_dim <= 1 << 16,
    "input_dim",
    c.input_dim,
    "an integer 1-65536",
  );
  check(
    Number.isInteger(c.num_classes) && c.num_classes >= 2 &&
      c.num_classes <= MAX_CLASSES,
    "num_classes",
    c.num_classes,
    `an integer 2-${MAX_CLASSES}`,
  );
  check(
    Number.isInteger(c.latent_dim) && c.latent_dim >= 1 && c.latent_dim <= 64,
    "latent_dim",
    c.latent_dim,
    "an integer 1-64",
  );
  check(
    Array.isArray(c.hidden_dims) && c.hidden_dims.length >= 1 &&
      c.hidden_dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 4096),
    "hidden_dims",
    c.hidden_dims,
    "a non-empty list of integers 1-4096",
  );
  check(
    isNum(c.recon_weight) && c.recon_weight >= 0 && c.recon_weight <= 1e6,
    "recon_weight",
    c.recon_weight,
    "a number >= 0",
  );
  check(
    isNum(c.kl_weight) && c.kl_weight >= 0 && c.kl_weight <= 1e3,
    "kl_weight",
    c.kl_weight,
    "a number >= 0",
  );
  check(
    isNum(c.label_weight) && c.label_weight >= 0,
    "label_weight",
    c.label_weight,
    "a number >= 0",
  );
  check(
    isNum(c.learning_rate) && c.learning_rate > 0 && c.learning_rate <= 1,
    "learning_rate",
    c.learning_rate,
    "a number in (0, 1]",
  );
  check(
    isNum(c.weight_decay) && c.weight_decay >= 0,
    "weight_decay",
    c.weight_decay,
    "a number >= 0",
  );
  check(
    isNum(c.dropout_rate) && c.dropout_rate >= 0 && c.dropout_rate < 1,
    "dropout_rate",
    c.dropout_rate,
    "a number in [0, 1)",
  );
  check(
    c.grad_clip_norm === null ||
      (isNum(c.grad_clip_norm) && c.grad_clip_norm > 0),
    "grad_clip_norm",
    c.grad_clip_norm,
    "a positive number or null",
  );
  check(
    Number.isInteger(c.batch_size) && c.batch_size >= 1 &&
      c.batch_size <= 65536,
    "batch_size",
    c.batch_size,
    "an integer 1-65536",
  );
  check(
    Number.isInteger(c.max_epochs) && c.max_epochs >= 1 &&
      c.max_epochs <= 100000,
    "max_epochs",
    c.max_epochs,
    "a positive integer",
  );
  check(
    Number.isInteger(c.patience) && c.patience >= 1,
    "patience",
    c.patience,
    "a positive integer",
  );
  check(
    isNum(c.val_split) && c.val_split >= 0 && c.val_split < 1,
    "val_split",
    c.val_split,
    "a number in [0, 1)",
  );
  check(
    Number.isInteger(c.random_seed),
    "random_seed",
    c.random_seed,
    "an integer",
  );
  check(c.encoder_type === "dense", "encoder_type", c.encoder_type, '"dense"');
  check(c.decoder_type === "dense", "decoder_type", c.decoder_type, '"dense"');
  check(
    c.monitor_metric === "auto" ||
      (METRIC_NAMES as readonly string[]).includes(c.monitor_metric),
    "monitor_metric",
    c.monitor_metric,
    `"auto" or one of ${METRIC_NAMES.join(", ")}`,
  );
  check(
    c.classifier_input === "z" || c.classifier_input === "hidden",
    "classifier_input",
    c.classifier_input,
    '"z" or "hidden"',
  );
  check(
    c.prior === "normal" || c.prior === "class_mixture",
    "prior",
    c.prior,
    '"normal" or "class_mixture"',
  );
  check(
    isNum(c.pseudo_label_weight) && c.pseudo_label_weight >= 0 &&
      c.pseudo_label_weight <= 100,
    "pseudo_label_weight",
    c.pseudo_label_weight,
    "a number 0-100",
  );
  return c;
}
