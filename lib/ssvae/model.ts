/**
 * The dense SSVAE: encoder (784 → hidden → z_mean, z_logvar), decoder
 * (z → reversed hidden → 784, linear output) and a classifier on z.
 */
import * as tf from "@tensorflow/tfjs";
import type { SSVAEConfig } from "./config.ts";
import { readInto } from "./backend.ts";
import { fusedDense, fusedDenseAvailable } from "./dense_kernels.ts";
import { Rng } from "./rng.ts";

/** MNIST's pixels per image: the default `config.input_dim`. */
export const IMAGE_SIZE = 784;
/** MNIST's classes: the default `config.num_classes`. */
export const NUM_CLASSES = 10;
export const LEAKY_SLOPE = 0.01;
/** Widths of the classifier's hidden layers (fixed by the reference). */
export const CLASSIFIER_HIDDEN = [64, 64];

/** One dense layer's shape; kernels are stored `[in, out]`. */
export interface LayerSpec {
  name: string;
  inDim: number;
  outDim: number;
}

/** Everything `predict` returns, as flat typed arrays (row-major). */
export interface Prediction {
  /** N × latent_dim, the posterior mean. */
  latent: Float32Array;
  /** N × 784 raw decoder output; empty when predict was asked not to decode. */
  recon: Float32Array;
  predClass: Uint8Array;
  /** Max softmax probability per sample. */
  certainty: Float32Array;
  /** N × num_classes softmax probabilities. */
  probs: Float32Array;
  /**
   * N × featureDim: the encoder's last hidden layer, what the neighbour graph
   * is built on (`featureDim(config)` wide).
   */
  features: Float32Array;
}

/** Width of `Prediction.features`: the encoder's last hidden layer. */
export function featureDim(config: SSVAEConfig): number {
  return config.hidden_dims[config.hidden_dims.length - 1];
}

/** Tensors of one forward pass. */
export interface ForwardOutputs {
  /** The encoder's last hidden layer. */
  hidden: tf.Tensor2D;
  zMean: tf.Tensor2D;
  zLogvar: tf.Tensor2D;
  recon: tf.Tensor2D;
  logits: tf.Tensor2D;
}

/** The random draws of one training forward pass, made by the trainer's Rng. */
export interface ForwardNoise {
  /** batch × latent_dim standard normals for the reparameterisation. */
  eps: tf.Tensor2D;
  /** One keep-mask per classifier hidden layer, already scaled by 1/(1-rate). */
  dropoutMasks: tf.Tensor2D[];
}

/** The layer list of the dense architecture, in a fixed order (checkpoint order). */
export function denseLayerSpecs(config: SSVAEConfig): LayerSpec[] {
  const specs: LayerSpec[] = [];
  const h = config.hidden_dims;
  let inDim = config.input_dim;
  h.forEach((d, i) => {
    specs.push({ name: `encoder/dense_${i}`, inDim, outDim: d });
    inDim = d;
  });
  specs.push({ name: "encoder/z_mean", inDim, outDim: config.latent_dim });
  specs.push({ name: "encoder/z_logvar", inDim, outDim: config.latent_dim });
  inDim = config.latent_dim;
  [...h].reverse().forEach((d, i) => {
    specs.push({ name: `decoder/dense_${i}`, inDim, outDim: d });
    inDim = d;
  });
  specs.push({ name: "decoder/output", inDim, outDim: config.input_dim });
  inDim = config.classifier_input === "hidden"
    ? featureDim(config)
    : config.latent_dim;
  CLASSIFIER_HIDDEN.forEach((d, i) => {
    specs.push({ name: `classifier/dense_${i}`, inDim, outDim: d });
    inDim = d;
  });
  specs.push({
    name: "classifier/logits",
    inDim,
    outDim: config.num_classes,
  });
  return specs;
}

/** A dense layer's trainable variables. */
export interface DenseParams {
  spec: LayerSpec;
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** tfjs variable names are global to the process: each model gets a prefix. */
let nextModelId = 0;

/** The semi-supervised VAE with its parameters. */
export class SSVAE {
  readonly config: SSVAEConfig;
  readonly layers: DenseParams[];
  readonly #byName: Map<string, DenseParams>;

  /** Builds the model with LeCun-normal kernels drawn from `config.random_seed`. */
  constructor(config: SSVAEConfig) {
    this.config = structuredClone(config);
    const rng = new Rng(config.random_seed);
    const prefix = `ssvae${nextModelId++}`;
    // A variable holds its own reference to the initial data: drop ours.
    this.layers = denseLayerSpecs(config).map((spec) => {
      const init = lecunNormal(rng, spec.inDim, spec.outDim);
      const zeros = tf.zeros([spec.outDim]);
      const layer = {
        spec,
        kernel: tf.variable(init, true, `${prefix}/${spec.name}/kernel`),
        bias: tf.variable(zeros, true, `${prefix}/${spec.name}/bias`),
      };
      tf.dispose([init, zeros]);
      return layer;
    });
    this.#byName = new Map(this.layers.map((l) => [l.spec.name, l]));
  }

  /** Every trainable variable, kernels and biases, in layer order. */
  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  /** Stable parameter names (`encoder/dense_0/kernel`, ...), in `variables()` order. */
  parameterNames(): string[] {
    return this.layers.flatMap((
      l,
    ) => [`${l.spec.name}/kernel`, `${l.spec.name}/bias`]);
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.variables().reduce((n, v) => n + v.size, 0);
  }

  #layer(name: string): DenseParams {
    const l = this.#byName.get(name);
    if (!l) throw new Error(`no layer ${name}`);
    return l;
  }

  #dense(name: string, x: tf.Tensor2D, activate: boolean): tf.Tensor2D {
    const l = this.#layer(name);
    if (fusedDenseAvailable()) {
      // One kernel forward, lazy native gradients (dense_kernels.ts).
      return fusedDense(
        x,
        l.kernel as tf.Tensor2D,
        l.bias as tf.Tensor1D,
        activate ? LEAKY_SLOPE : null,
      );
    }
    const y = tf.add(
      tf.matMul(x, l.kernel as tf.Tensor2D),
      l.bias,
    ) as tf.Tensor2D;
    return activate ? tf.leakyRelu(y, LEAKY_SLOPE) : y;
  }

  /** Encoder: its last hidden layer, and the posterior mean and log-variance of z. */
  encode(
    x: tf.Tensor2D,
  ): { hidden: tf.Tensor2D; zMean: tf.Tensor2D; zLogvar: tf.Tensor2D } {
    let h = x;
    this.config.hidden_dims.forEach((_, i) => {
      h = this.#dense(`encoder/dense_${i}`, h, true);
    });
    return {
      hidden: h,
      zMean: this.#dense("encoder/z_mean", h, false),
      zLogvar: this.#dense("encoder/z_logvar", h, false),
    };
  }

  /** Decoder: raw (linear) pixel values, batch × 784. */
  decode(z: tf.Tensor2D): tf.Tensor2D {
    let h = z;
    this.config.hidden_dims.forEach((_, i) => {
      h = this.#dense(`decoder/dense_${i}`, h, true);
    });
    return this.#dense("decoder/output", h, false);
  }

  /**
   * Classifier logits from its input (z or the hidden layer, per
   * `config.classifier_input`), with dropout when masks are given (training).
   */
  classify(input: tf.Tensor2D, dropoutMasks?: tf.Tensor2D[]): tf.Tensor2D {
    let h = input;
    CLASSIFIER_HIDDEN.forEach((_, i) => {
      h = this.#dense(`classifier/dense_${i}`, h, true);
      if (dropoutMasks) h = tf.mul(h, dropoutMasks[i]);
    });
    return this.#dense("classifier/logits", h, false);
  }

  /**
   * One forward pass. With `noise` (training) z is sampled and dropout applied;
   * without it (evaluation, predict) z is the posterior mean.
   */
  forward(x: tf.Tensor2D, noise?: ForwardNoise): ForwardOutputs {
    const { hidden, zMean, zLogvar } = this.encode(x);
    const z = noise
      ? tf.add(
        zMean,
        tf.mul(tf.exp(tf.mul(zLogvar, 0.5)), noise.eps),
      ) as tf.Tensor2D
      : zMean;
    const classifierInput = this.config.classifier_input === "hidden"
      ? hidden
      : z;
    return {
      hidden,
      zMean,
      zLogvar,
      recon: this.decode(z),
      logits: this.classify(classifierInput, noise?.dropoutMasks),
    };
  }

  /**
   * Evaluation-mode outputs for all `count` images, computed in batches so memory
   * stays flat. `decode: false` skips the decoder (recon comes back empty).
   * With `into`, the rows are written to `into.out` from row `into.at` on (and
   * that prediction is returned): the trainer fills one output from both
   * threads without a temporary prediction per chunk.
   */
  predict(
    images: Float32Array,
    count: number,
    opts: {
      batchSize?: number;
      decode?: boolean;
      into?: { out: Prediction; at: number };
    } = {},
  ): Prediction {
    const batchSize = opts.batchSize ?? 2048;
    const decode = opts.decode ?? true;
    const L = this.config.latent_dim;
    const H = featureDim(this.config);
    const D = this.config.input_dim;
    const C = this.config.num_classes;
    const out = opts.into?.out ?? emptyPrediction(count, L, H, decode, D, C);
    const at = opts.into?.at ?? 0;
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const [latent, hidden, probs, recon] = tf.tidy(() => {
        const x = tf.tensor2d(
          images.subarray(start * D, (start + n) * D),
          [n, D],
        );
        const { hidden, zMean } = this.encode(x);
        const p = tf.softmax(
          this.classify(
            this.config.classifier_input === "hidden" ? hidden : zMean,
          ),
        );
        return decode
          ? [zMean, hidden, p, this.decode(zMean)]
          : [zMean, hidden, p];
      });
      const row = at + start;
      readInto(latent, out.latent, row * L);
      readInto(hidden, out.features, row * H);
      readInto(probs, out.probs, row * C);
      if (recon) readInto(recon, out.recon, row * D);
      tf.dispose([latent, hidden, probs, recon]);
      const p = out.probs;
      for (let i = row; i < row + n; i++) {
        let best = 0;
        for (let k = 1; k < C; k++) {
          if (p[i * C + k] > p[i * C + best]) best = k;
        }
        out.predClass[i] = best;
        out.certainty[i] = p[i * C + best];
      }
    }
    return out;
  }

  /** Decodes latent points (N × latent_dim) to raw pixel rows (N × 784). */
  decodeLatent(latent: Float32Array, count: number): Float32Array {
    const t = tf.tidy(() =>
      this.decode(tf.tensor2d(latent, [count, this.config.latent_dim]))
    );
    const data = t.dataSync() as Float32Array;
    t.dispose();
    return data;
  }

  /** Frees every variable. */
  dispose(): void {
    tf.dispose(this.variables());
  }
}

/** Zero-filled prediction arrays for `count` images. */
export function emptyPrediction(
  count: number,
  latentDim: number,
  featureWidth: number,
  decode: boolean,
  inputDim = IMAGE_SIZE,
  numClasses = NUM_CLASSES,
): Prediction {
  return {
    latent: new Float32Array(count * latentDim),
    recon: new Float32Array(decode ? count * inputDim : 0),
    predClass: new Uint8Array(count),
    certainty: new Float32Array(count),
    probs: new Float32Array(count * numClasses),
    features: new Float32Array(count * featureWidth),
  };
}

/** LeCun normal, truncated at ±2σ like Flax's `lecun_normal`. */
function lecunNormal(rng: Rng, fanIn: number, fanOut: number): tf.Tensor2D {
  // 0.8796... is the std of a standard normal truncated to (-2, 2); dividing by it
  // keeps the variance at 1/fan_in.
  const std = Math.sqrt(1 / fanIn) / 0.87962566103423978;
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) {
    values[i] = rng.truncatedNormal() * std;
  }
  return tf.tensor2d(values, [fanIn, fanOut]);
}
