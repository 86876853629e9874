/**
 * The checkpoint file: config, weights, optimizer moments, step and epoch counters,
 * random stream and history in one file, written atomically.
 *
 * Layout: the 8-byte magic `SSVAECK2`, a uint32 header length (little-endian), a
 * 32-byte SHA-256 of everything after it, the JSON header, zero padding to a
 * multiple of 4, then every float32 array back to back. The checksum covers the
 * header too, so a truncated or altered file is refused instead of loading
 * garbage weights or counters.
 */
import { dirname } from "node:path";
import { removeStaleTempFiles, writeFileAtomic } from "../atomic_file.ts";
import {
  ARCHITECTURE_FIELDS,
  checkpointConfig,
  type SSVAEConfig,
} from "../ssvae/config.ts";
import { denseLayerSpecs, SSVAE } from "../ssvae/model.ts";
import { InteractiveTrainer } from "./interactive_trainer.ts";
import type { TrainerOptions, TrainerState } from "./trainer.ts";
import type { HistoryEntry } from "./types.ts";

const MAGIC = "SSVAECK2";
const FORMAT_VERSION = 2;
/** Magic, header length, checksum: the bytes before the header. */
const PREAMBLE = 8 + 4 + 32;

/** A checkpoint that cannot be read or does not fit the model. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset into the body, in float32 elements. */
  offset: number;
  length: number;
}

interface Header {
  format: number;
  createdAt: string;
  config: SSVAEConfig;
  step: number;
  epoch: number;
  rngState: number[];
  history: HistoryEntry[];
  params: TensorEntry[];
  moments1: TensorEntry[];
  moments2: TensorEntry[];
  bodyBytes: number;
}

/** Serialises a trainer's whole state to bytes. */
export async function encodeCheckpoint(
  trainer: InteractiveTrainer,
): Promise<Uint8Array> {
  const state = trainer.exportState();
  const vars = trainer.model.variables();
  const names = trainer.model.parameterNames();
  let offset = 0;
  const entries = (arrays: Float32Array[]) =>
    arrays.map((a, i): TensorEntry => {
      const e = {
        name: names[i],
        shape: vars[i].shape,
        offset,
        length: a.length,
      };
      offset += a.length;
      return e;
    });
  const params = entries(state.values);
  const moments1 = entries(state.m);
  const moments2 = entries(state.v);
  const body = new Float32Array(offset);
  [...state.values, ...state.m, ...state.v].reduce((at, a) => {
    body.set(a, at);
    return at + a.length;
  }, 0);
  const bodyBytes = new Uint8Array(body.buffer);
  const header: Header = {
    format: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    config: state.config,
    step: state.step,
    epoch: state.epoch,
    rngState: [...state.rngState],
    history: state.history,
    params,
    moments1,
    moments2,
    bodyBytes: bodyBytes.length,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = Math.ceil((PREAMBLE + json.length) / 4) * 4;
  const out = new Uint8Array(bodyStart + bodyBytes.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, PREAMBLE);
  out.set(bodyBytes, bodyStart);
  out.set(await sha256(out.subarray(PREAMBLE)), 12);
  return out;
}

/** Writes the trainer's state to `path` atomically (temp file, fsync, rename). */
export async function saveCheckpoint(
  path: string,
  trainer: InteractiveTrainer,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  // A killed save leaves a ~6 MB temp file: clear old ones before adding another.
  await removeStaleTempFiles(path);
  await writeFileAtomic(path, await encodeCheckpoint(trainer));
}

/** Parses checkpoint bytes into a resumable state; throws CheckpointError when corrupt. */
export async function decodeCheckpoint(
  bytes: Uint8Array,
  source = "checkpoint",
): Promise<TrainerState> {
  const fail = (why: string): never => {
    throw new CheckpointError(`${source}: ${why}`);
  };
  if (
    bytes.length < PREAMBLE ||
    new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC
  ) {
    fail("not an SSVAE checkpoint of this format (bad magic number)");
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(
    8,
    true,
  );
  if (PREAMBLE + headerLen > bytes.length) fail("truncated header");
  let header: Header;
  try {
    header = JSON.parse(
      new TextDecoder().decode(
        bytes.subarray(PREAMBLE, PREAMBLE + headerLen),
      ),
    );
  } catch (err) {
    return fail(`unreadable header (${(err as Error).message})`);
  }
  const bodyStart = Math.ceil((PREAMBLE + headerLen) / 4) * 4;
  if (bytes.length - bodyStart !== header.bodyBytes) {
    fail(
      `body is ${
        bytes.length - bodyStart
      } bytes, expected ${header.bodyBytes} (truncated?)`,
    );
  }
  const digest = await sha256(bytes.subarray(PREAMBLE));
  if (digest.some((b, i) => b !== bytes[12 + i])) {
    fail("checksum mismatch (corrupt file)");
  }
  if (header.format !== FORMAT_VERSION) {
    fail(`unsupported format version ${header.format}`);
  }
  let config: SSVAEConfig;
  try {
    config = checkpointConfig(header.config);
  } catch (err) {
    return fail(`invalid config (${(err as Error).message})`);
  }
  const body = new Float32Array(bytes.slice(bodyStart).buffer);
  checkLayout(header, config, body.length, fail);
  const arrays = (es: TensorEntry[]) =>
    es.map((e) => body.slice(e.offset, e.offset + e.length));
  return {
    config,
    values: arrays(header.params),
    m: arrays(header.moments1),
    v: arrays(header.moments2),
    step: header.step,
    epoch: header.epoch,
    rngState: Uint32Array.from(header.rngState),
    history: header.history,
  };
}

/**
 * Loads a checkpoint into a new InteractiveTrainer. With `expected`, a checkpoint
 * whose architecture differs (latent size, hidden layers) is refused by name.
 */
export async function loadCheckpoint(
  path: string,
  expected?: SSVAEConfig,
  options: TrainerOptions = {},
): Promise<InteractiveTrainer> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CheckpointError(`${path}: no such checkpoint`);
    }
    throw err;
  }
  const state = await decodeCheckpoint(bytes, path);
  if (expected) {
    for (const field of ARCHITECTURE_FIELDS) {
      if (
        JSON.stringify(expected[field]) !== JSON.stringify(state.config[field])
      ) {
        throw new CheckpointError(
          `${path}: architecture differs: ${field} is ${
            JSON.stringify(state.config[field])
          } in the checkpoint but ${
            JSON.stringify(expected[field])
          } in the config`,
        );
      }
    }
  }
  const model = new SSVAE(state.config);
  const vars = model.variables();
  if (
    vars.length !== state.values.length ||
    vars.some((v, i) => v.size !== state.values[i].length)
  ) {
    model.dispose();
    throw new CheckpointError(
      `${path}: tensor shapes do not match the architecture in its config`,
    );
  }
  const trainer = new InteractiveTrainer(model, options);
  trainer.importState(state);
  return trainer;
}

/**
 * Whether a checkpoint file exists at `path` (false: nothing there, so a fresh
 * model). Anything else at the path — a directory, a socket — is a
 * CheckpointError: taking it for "no checkpoint" would silently train a fresh
 * model and then fail to save it (or hide a mistyped path).
 */
export async function checkpointExists(path: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw new CheckpointError(`${path}: ${(err as Error).message}`);
  }
  if (!info.isFile) {
    throw new CheckpointError(
      `${path} is a ${
        info.isDirectory ? "directory" : "special file"
      }, not a checkpoint file: give the path of a checkpoint (or of one to create)`,
    );
  }
  return true;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
}

/**
 * Checks that the tensor table matches the architecture of `config` (names,
 * shapes, lengths) and tiles the body exactly: values, then both moments.
 */
function checkLayout(
  header: Header,
  config: SSVAEConfig,
  bodyFloats: number,
  fail: (why: string) => never,
): void {
  const specs = denseLayerSpecs(config).flatMap((l) => [
    { name: `${l.name}/kernel`, shape: [l.inDim, l.outDim] },
    { name: `${l.name}/bias`, shape: [l.outDim] },
  ]);
  let offset = 0;
  const tables: [string, TensorEntry[]][] = [
    ["params", header.params],
    ["moments1", header.moments1],
    ["moments2", header.moments2],
  ];
  for (const [table, entries] of tables) {
    if (!Array.isArray(entries) || entries.length !== specs.length) {
      fail(
        `${table} lists ${entries?.length} tensors; the architecture has ${specs.length}`,
      );
    }
    entries.forEach((e, i) => {
      const want = specs[i];
      const size = want.shape.reduce((a, b) => a * b, 1);
      if (
        e.name !== want.name ||
        JSON.stringify(e.shape) !== JSON.stringify(want.shape) ||
        e.length !== size || e.offset !== offset
      ) {
        fail(
          `${table}[${i}] is ${e.name} ${
            JSON.stringify(e.shape)
          } at ${e.offset}; ` +
            `expected ${want.name} ${JSON.stringify(want.shape)} at ${offset}`,
        );
      }
      offset += size;
    });
  }
  if (offset !== bodyFloats) {
    fail(`the tensors cover ${offset} of ${bodyFloats} floats`);
  }
}
