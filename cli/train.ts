/**
 * `deno task train`: trains the SSVAE on the labels file and writes the checkpoint
 * and a history CSV. Continues from the checkpoint when one exists (the same file
 * the dashboard uses), unless --fresh.
 */
import * as tf from "@tensorflow/tfjs";
import { dirname } from "node:path";
import { openDataset } from "../lib/data/dataset.ts";
import { loadTestImages, loadTrainSet } from "../lib/data/source.ts";
import { graphCacheDir } from "../lib/graph/cache_dir.ts";
import { readEmbeddings } from "../lib/graph/embeddings_file.ts";
import { encoderEmbeddings } from "../lib/graph/encoder.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { LabelStore } from "../lib/labels/labels_store.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import {
  ARCHITECTURE_FIELDS,
  isPreset,
  modelClassCount,
  presetConfig,
  PRESETS,
  resolveConfig,
  type SSVAEConfig,
  TUNABLE_FIELDS,
} from "../lib/ssvae/config.ts";
import { SSVAE } from "../lib/ssvae/model.ts";
import {
  ConsoleLogger,
  CsvHistoryExporter,
} from "../lib/training/callbacks.ts";
import {
  checkpointExists,
  loadCheckpoint,
  saveCheckpoint,
} from "../lib/training/checkpoint.ts";
import { InteractiveTrainer } from "../lib/training/interactive_trainer.ts";
import { TrainingError } from "../lib/training/types.ts";
import { makeSplit } from "../lib/training/split.ts";
import { parseCli, runCli } from "./args.ts";
import { DEFAULT_PATHS } from "../lib/protocol/paths.ts";

const USAGE = `Usage: deno task train [flags]
  --labels PATH          labels CSV (default ${DEFAULT_PATHS.labelsPath})
  --weights PATH         checkpoint to continue from and write (default ${DEFAULT_PATHS.weightsPath})
  --history PATH         history CSV (default: history.csv beside the checkpoint)
  --fresh                ignore an existing checkpoint and start from a new model
  --preset NAME          a new model's configuration: graph (default: the label
                         graph's soft labels, class-mixture prior) or original
                         (the reference SSVAE of the spec)
  --data-dir DIR         MNIST-layout IDX files (default: the embedded MNIST)
  --images DIR           a folder of PNG/JPEG files instead (see README "Label your
                         own images"), with --image-size N|WxH, --color,
                         --classes A,B,..., --holdout F, --follow-links and
                         --max-megapixels N as in the dashboard
  --limit N              use the first N training images
  --embeddings FILE.npy  N × D float32, one row per image in Serial order: one
                         more feature space for the label graph (as in start)
  --encoder model.onnx   an ONNX image encoder whose vectors are that space
  --backend wasm|cpu     tfjs backend (default wasm)
  --latent-dim, --batch-size, --max-epochs, --patience, --learning-rate,
  --recon-weight, --kl-weight, --label-weight, --weight-decay, --dropout-rate,
  --monitor-metric, --seed   model and training settings (lib/ssvae/config.ts)
Ctrl+C stops at the next batch and still saves the checkpoint.`;

await runCli(async () => {
  const { values, overrides, dataOptions, backend, labelsPath, weightsPath } =
    parseCli(Deno.args, {
      labels: { type: "string" },
      weights: { type: "string" },
      history: { type: "string" },
      fresh: { type: "boolean", default: false },
      preset: { type: "string", default: "graph" },
      embeddings: { type: "string" },
      encoder: { type: "string" },
    });
  if (values.help) return console.log(USAGE);
  const preset = values.preset as string;
  if (!isPreset(preset)) {
    throw new Error(
      `--preset must be one of ${PRESETS.join(", ")}, got ${preset}`,
    );
  }
  const weights = weightsPath;
  const historyPath = (values.history as string | undefined) ??
    `${dirname(weights)}/history.csv`;

  await initBackend(backend);
  const dataset = await openDataset(dataOptions, (l) => console.log(l));
  const data = await loadTrainSet(dataset.spec);
  const store = await LabelStore.open(labelsPath, data.count, {
    serials: dataset.info.serials,
    classCount: dataset.info.classes.length,
  });
  const pixels = data.rows * data.cols * data.channels;
  const classCount = dataset.info.classes.length;
  const numClasses = modelClassCount(classCount);
  const trainer = await openTrainer(
    weights,
    resolveConfig(
      { input_dim: pixels, num_classes: numClasses, ...overrides },
      presetConfig(preset),
    ),
    overrides,
    values.fresh as boolean,
  );
  if (trainer.config.input_dim !== pixels) {
    throw new Error(
      `${weights} is a model of ${trainer.config.input_dim}-pixel images, these have ${pixels}; ` +
        "pass another --weights or --fresh",
    );
  }
  if (trainer.config.num_classes !== numClasses) {
    throw new Error(
      `${weights} is a model of ${trainer.config.num_classes} classes, this data set has ${classCount}` +
        `${numClasses !== classCount ? ` (a model of ${numClasses})` : ""}; ` +
        "pass another --weights or --fresh",
    );
  }
  // The graph's soft labels, as the dashboard gives them (same cache file).
  let targets: Float32Array | undefined;
  if (trainer.config.pseudo_label_weight > 0 && store.labelledCount() > 0) {
    const test = await loadTestImages(
      dataset.spec,
      undefined,
      dataOptions.limit,
    )
      .catch(() => null);
    const { graph } = await LabelGraph.loadOrBuild(
      data.raw,
      data.count,
      pixels,
      graphCacheDir(weights),
      {
        test: test ? { raw: test.raw, count: test.count } : undefined,
        shape: data,
        // The dashboard's validation images choose the feature space, so
        // both read the same cache files.
        validation: trainer.config.val_split > 0
          ? makeSplit(
            data.count,
            trainer.config.val_split,
            trainer.config.random_seed,
          ).val
          : undefined,
        truth: data.labels,
        embeddings: typeof values.embeddings === "string"
          ? await readEmbeddings(values.embeddings, data.count)
          : typeof values.encoder === "string"
          ? await encoderEmbeddings(
            values.encoder,
            { ...data, raw: data.raw },
            graphCacheDir(weights),
            (step) => console.log(`label graph: ${step}`),
          )
          : undefined,
        progress: (step) => console.log(`label graph: ${step}`),
      },
    );
    targets = graph.propagate(store.labels, numClasses).probs;
  }
  console.log(
    `training on ${data.count} images, ${store.labelledCount()} labelled; ` +
      `model at epoch ${trainer.epoch}, step ${trainer.step}; ` +
      `tfjs ${tf.getBackend()}, ${trainer.threads} thread(s)`,
  );

  const stop = () => {
    console.log("stopping after the current batch...");
    trainer.requestStop();
  };
  Deno.addSignalListener("SIGINT", stop);
  try {
    let result;
    try {
      result = await trainer.fit(data.images, store.labels.slice(), [
        new ConsoleLogger(),
        new CsvHistoryExporter(historyPath),
      ], targets);
    } catch (err) {
      // The trainer restored its last good epoch: keep those epochs, then fail.
      if (err instanceof TrainingError && trainer.epoch > 0) {
        await saveCheckpoint(weights, trainer);
        console.error(
          `checkpoint ${weights} saved at the last good epoch ${trainer.epoch}`,
        );
      }
      throw err;
    }
    await saveCheckpoint(weights, trainer);
    const why = result.stopRequested
      ? "stopped"
      : result.stoppedEarly
      ? "stopped early"
      : "done";
    console.log(
      `${why}: ${result.epochsRun} epochs; checkpoint ${weights}; history ${historyPath}`,
    );
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    trainer.dispose();
  }
});

/** Continues the checkpoint (refusing changed architecture flags) or builds a new model. */
async function openTrainer(
  weights: string,
  freshConfig: SSVAEConfig,
  overrides: Partial<SSVAEConfig>,
  fresh: boolean,
): Promise<InteractiveTrainer> {
  // Checked even with --fresh: the new model is saved to the same path.
  const exists = await checkpointExists(weights);
  if (fresh || !exists) {
    return new InteractiveTrainer(new SSVAE(freshConfig));
  }
  const trainer = await loadCheckpoint(weights);
  for (const field of ARCHITECTURE_FIELDS) {
    if (
      field in overrides &&
      JSON.stringify(overrides[field]) !== JSON.stringify(trainer.config[field])
    ) {
      throw new Error(
        `--${field.replaceAll("_", "-")} ${
          overrides[field]
        } differs from the checkpoint's ` +
          `${
            JSON.stringify(trainer.config[field])
          }; use --fresh to start a new model`,
      );
    }
  }
  const tunable = Object.fromEntries(
    Object.entries(overrides).filter(([k]) =>
      (TUNABLE_FIELDS as readonly string[]).includes(k)
    ),
  );
  trainer.updateConfig(tunable);
  return trainer;
}
