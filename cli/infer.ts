/**
 * `deno task infer`: runs the checkpoint over the train or test split and writes
 * NumPy .npy arrays (readable by numpy.load, PyTorch, Julia, R) plus a manifest.
 */
import { openDataset } from "../lib/data/dataset.ts";
import { loadTestImages, loadTrainSet } from "../lib/data/source.ts";
import { writeFileAtomic } from "../lib/atomic_file.ts";
import { encodeNpy } from "../lib/npy.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { loadCheckpoint } from "../lib/training/checkpoint.ts";
import { modelClassCount } from "../lib/ssvae/config.ts";
import { parseCli, runCli } from "./args.ts";
import { DEFAULT_PATHS } from "../lib/protocol/paths.ts";

const USAGE = `Usage: deno task infer [flags]
  --weights PATH      checkpoint (default ${DEFAULT_PATHS.weightsPath})
  --output DIR        output folder (default artifacts/inference/<split>)
  --split train|test  which images (default train)
  --data-dir DIR      MNIST-layout IDX files (default: the embedded MNIST)
  --images DIR        a folder of PNG/JPEG files instead, with --image-size,
                      --color, --classes, --holdout and --labels as in train
                      (test = the --holdout share)
  --limit N           only the first N images
  --no-recon          skip the reconstructions (N×28×28 float32 is the largest file)
Writes latent.npy (N×latent_dim float32), recon.npy (N×28×28 float32, raw decoder
output), pred_class.npy (N uint8), certainty.npy (N float32, max softmax),
probs.npy (N×C float32: C = 10 up to ten classes, else one per class),
true_label.npy (N uint8) and manifest.json.`;

await runCli(async () => {
  const { values, dataOptions, backend, weightsPath } = parseCli(Deno.args, {
    weights: { type: "string" },
    labels: { type: "string" },
    output: { type: "string" },
    split: { type: "string", default: "train" },
    "no-recon": { type: "boolean", default: false },
  });
  if (values.help) return console.log(USAGE);
  const split = values.split as string;
  if (split !== "train" && split !== "test") {
    throw new Error(`--split must be train or test, got ${split}`);
  }
  const output = (values.output as string | undefined) ??
    `artifacts/inference/${split}`;

  await initBackend(backend);
  const trainer = await loadCheckpoint(weightsPath, undefined, {
    threads: 1,
  });
  const dataset = await openDataset(dataOptions, (l) => console.error(l));
  const data = split === "train"
    ? await loadTrainSet(dataset.spec)
    : await loadTestImages(dataset.spec, undefined, dataOptions.limit);
  const pixels = data.rows * data.cols * data.channels;
  if (trainer.config.input_dim !== pixels) {
    throw new Error(
      `${weightsPath} is a model of ${trainer.config.input_dim}-pixel images, these have ${pixels}`,
    );
  }
  const classCount = dataset.info.classes.length;
  if (trainer.config.num_classes !== modelClassCount(classCount)) {
    throw new Error(
      `${weightsPath} is a model of ${trainer.config.num_classes} classes, this data set has ${classCount}`,
    );
  }
  const t0 = performance.now();
  const p = trainer.model.predict(data.images, data.count, {
    decode: !values["no-recon"],
  });
  const seconds = (performance.now() - t0) / 1000;
  trainer.dispose();

  const n = data.count, L = trainer.config.latent_dim;
  const files: Record<string, { dtype: string; shape: number[] }> = {};
  await Deno.mkdir(output, { recursive: true });
  const write = async (
    name: string,
    arr: Float32Array | Uint8Array,
    shape: number[],
  ) => {
    await writeFileAtomic(`${output}/${name}.npy`, encodeNpy(arr, shape));
    files[`${name}.npy`] = {
      dtype: arr instanceof Float32Array ? "float32" : "uint8",
      shape,
    };
  };
  await write("latent", p.latent, [n, L]);
  if (p.recon.length) {
    await write(
      "recon",
      p.recon,
      data.channels === 1
        ? [n, data.rows, data.cols]
        : [n, data.rows, data.cols, data.channels],
    );
  }
  await write("pred_class", p.predClass, [n]);
  await write("certainty", p.certainty, [n]);
  await write("probs", p.probs, [n, trainer.config.num_classes]);
  await write("true_label", data.labels, [n]);
  // 255 = unknown (an image folder without class sub-folders): no accuracy.
  const known = !data.labels.some((l) => l === 255);
  let correct = 0;
  for (let i = 0; i < n; i++) if (p.predClass[i] === data.labels[i]) correct++;
  const manifest = {
    split,
    count: n,
    checkpoint: weightsPath,
    classes: dataset.info.classes,
    ...(split === "train" && dataset.info.paths
      ? { paths: dataset.info.paths }
      : {}),
    epoch: trainer.epoch,
    step: trainer.step,
    accuracy: known ? correct / n : null,
    files,
  };
  await writeFileAtomic(
    `${output}/manifest.json`,
    JSON.stringify(manifest, null, 2) + "\n",
  );
  console.log(
    `${split}: ${n} images in ${
      seconds.toFixed(2)
    } s; accuracy against true labels ${
      (100 * correct / n).toFixed(2)
    }%; wrote ${output}/`,
  );
});
