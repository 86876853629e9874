/** Command-line flags shared by `train` and `infer` (node:util's parseArgs; no @std/cli here). */
import { parseArgs } from "node:util";
import type { SSVAEConfig } from "../lib/ssvae/config.ts";
import { type ImageOptions, parseImageFlags } from "../lib/images/options.ts";
import { defaultPaths } from "../lib/protocol/paths.ts";

/** Flags that map onto config fields, with their parsers. */
const CONFIG_FLAGS: Record<
  string,
  [keyof SSVAEConfig, (v: string) => unknown]
> = {
  "latent-dim": ["latent_dim", Number],
  "batch-size": ["batch_size", Number],
  "max-epochs": ["max_epochs", Number],
  "patience": ["patience", Number],
  "learning-rate": ["learning_rate", Number],
  "recon-weight": ["recon_weight", Number],
  "kl-weight": ["kl_weight", Number],
  "label-weight": ["label_weight", Number],
  "weight-decay": ["weight_decay", Number],
  "dropout-rate": ["dropout_rate", Number],
  "monitor-metric": ["monitor_metric", String],
  "seed": ["random_seed", Number],
};

/** Parses `args` with the shared flags plus `extra` string/boolean options. */
export function parseCli(
  args: string[],
  extra: Record<
    string,
    { type: "string" | "boolean"; default?: string | boolean }
  >,
) {
  const options: Record<
    string,
    { type: "string" | "boolean"; default?: string | boolean }
  > = {
    "data-dir": { type: "string" },
    "limit": { type: "string" },
    "images": { type: "string" },
    "image-size": { type: "string" },
    "color": { type: "boolean" },
    "classes": { type: "string" },
    "holdout": { type: "string" },
    "follow-links": { type: "boolean" },
    "max-megapixels": { type: "string" },
    "backend": { type: "string" },
    "help": { type: "boolean" },
    ...Object.fromEntries(
      Object.keys(CONFIG_FLAGS).map((k) => [k, { type: "string" as const }]),
    ),
    ...extra,
  };
  const { values } = parseArgs({
    args,
    options,
    strict: true,
    allowPositionals: false,
  });
  const overrides: Partial<SSVAEConfig> = {};
  for (const [flag, [field, parse]] of Object.entries(CONFIG_FLAGS)) {
    const raw = values[flag];
    if (typeof raw === "string") {
      const v = parse(raw);
      if (parse === Number && Number.isNaN(v)) {
        throw new Error(`--${flag}: not a number: ${raw}`);
      }
      (overrides as Record<string, unknown>)[field] = v;
    }
  }
  const limit = typeof values.limit === "string"
    ? Number(values.limit)
    : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`--limit must be a positive integer, got ${values.limit}`);
  }
  const backend = values.backend;
  if (backend !== undefined && backend !== "wasm" && backend !== "cpu") {
    throw new Error(`--backend must be wasm or cpu, got ${backend}`);
  }
  const images: ImageOptions | undefined = parseImageFlags({
    images: values.images as string | undefined,
    imageSize: values["image-size"] as string | undefined,
    color: values.color as boolean | undefined,
    classes: values.classes as string | undefined,
    holdout: values.holdout as string | undefined,
    followLinks: values["follow-links"] as boolean | undefined,
    maxMegapixels: values["max-megapixels"] as string | undefined,
  });
  if (images && values["data-dir"] !== undefined) {
    throw new Error("--images and --data-dir exclude each other");
  }
  // An image folder has labels and a checkpoint of its own (as in the dashboard).
  const defaults = defaultPaths(images?.dir);
  const labelsPath = (values.labels as string | undefined) ??
    defaults.labelsPath;
  return {
    values,
    overrides,
    labelsPath,
    weightsPath: (values.weights as string | undefined) ?? defaults.weightsPath,
    dataOptions: {
      dataDir: values["data-dir"] as string | undefined,
      limit,
      images,
      labelsPath,
    },
    backend: backend as "wasm" | "cpu" | undefined,
  };
}

/** Runs `main`, printing an error as one clear line and exiting 1. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
