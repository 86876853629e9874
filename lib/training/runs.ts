/**
 * The per-run evaluation log of one checkpoint, `<checkpoint>.runs.json` (e.g.
 * `ssvae.ckpt.runs.json`): one record per dashboard training run of that
 * model with the label count, config, epochs, test accuracy (overall and per
 * class), confusion matrix, duration and time. One file per checkpoint, so two
 * models in one folder never show each other's accuracy history.
 *
 * Older versions kept one `runs.json` per folder, shared by every checkpoint
 * in it. It is still read (never written or removed) while the checkpoint has
 * no file of its own, and only when the checkpoint is the folder's only
 * `*.ckpt` file: then its records can only be this model's (those with a
 * step beyond the checkpoint's are dropped: they came from another model). The
 * first append writes them into the checkpoint's own file.
 *
 * The file is a JSON array rewritten whole with writeFileAtomic on every
 * append (a few kB per run), so a crash leaves the old list or the new one.
 * A file that cannot be parsed is never overwritten: appends then fail with
 * a RunsFileError and the records stay in memory only.
 */
import { basename, dirname } from "node:path";
import { writeFileAtomic } from "../atomic_file.ts";
import type { SSVAEConfig } from "../ssvae/config.ts";

/** One training run as evaluated on the test set. */
export interface RunRecord {
  /** 1-based run number within this file. */
  run: number;
  /** ISO time the run ended. */
  timestamp: string;
  /** User labels the run trained with. */
  labels: number;
  /** Labels per class (length: the model's class count, 10 up to ten classes). */
  labelsPerClass: number[];
  config: Partial<SSVAEConfig>;
  /** Epochs this run trained (it may stop early). */
  epochs: number;
  /** Epochs requested. */
  targetEpochs: number;
  /** The trainer's epoch and step counters after the run (over all runs). */
  totalEpochs: number;
  step: number;
  outcome: "complete" | "stopped" | "error";
  /** Training time of the run, seconds (excludes the evaluation). */
  durationSeconds: number;
  /** Seconds spent predicting and scoring the test set. */
  evalSeconds: number;
  testCount: number;
  /**
   * Accuracy of the dashboard's predictions: the label graph's when it had
   * predicted (`predictor: "graph"`), else the model's classifier.
   */
  accuracy: { overall: number; perClass: number[] };
  /** confusion[true][predicted], counts of the same predictions (10 × 10 up to ten classes, else classes × classes). */
  confusion: number[][];
  /**
   * Which predictions `accuracy` scores (absent in older records:
   * "classifier"). "quick graph": the first minute's graph, before the real
   * one existed; such a run is scored again once it does (`firstScore`).
   */
  predictor?: "graph" | "quick graph" | "classifier";
  /** The score the run had when it ended, before it was scored again on the real graph. */
  firstScore?: { overall: number; predictor: "quick graph" | "classifier" };
  /** The model's own classifier on the test set, for comparison. */
  classifierAccuracy?: number;
}

export class RunsFileError extends Error {
  override name = "RunsFileError";
}

/** The run records of the checkpoint at `weightsPath`: `<weightsPath>.runs.json`. */
export function runsPathFor(weightsPath: string): string {
  return `${weightsPath}.runs.json`;
}

/** The folder-wide `runs.json` of older versions (shared by its checkpoints). */
export function legacyRunsPathFor(weightsPath: string): string {
  return `${dirname(weightsPath)}/runs.json`;
}

/**
 * The records of the checkpoint at `weightsPath`, whose optimizer step is
 * `checkpointStep` (null: no checkpoint file, a fresh model). Its own file
 * when there is one; else the legacy folder-wide `runs.json` under the rule
 * in this module's comment; else none. `from` says which file they came from.
 * A fresh model has no records: a file of its own left behind belongs to a
 * model that is gone, and is renamed `<file>.orphaned-<ms>`.
 * Throws RunsFileError when the file to use is unreadable.
 */
export async function readRunsFor(
  weightsPath: string,
  checkpointStep: number | null,
): Promise<{ records: RunRecord[]; from: string | null }> {
  const own = runsPathFor(weightsPath);
  if (checkpointStep === null) {
    // Left behind by a deleted checkpoint: kept aside, so the new model's
    // first append neither shows nor overwrites them.
    try {
      await Deno.rename(own, `${own}.orphaned-${Date.now()}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new RunsFileError(`${own}: ${(e as Error).message}`);
      }
    }
    return { records: [], from: null };
  }
  const records = await readRuns(own, { missingOk: true });
  if (records !== null) return { records, from: own };
  const legacy = legacyRunsPathFor(weightsPath);
  if (!(await onlyCheckpointInFolder(weightsPath))) {
    return { records: [], from: null };
  }
  const old = await readRuns(legacy, { missingOk: true });
  if (old === null) return { records: [], from: null };
  return {
    records: old.filter((r) => !(r.step > checkpointStep)),
    from: legacy,
  };
}

/** Whether no other `*.ckpt` file shares the checkpoint's folder. */
async function onlyCheckpointInFolder(weightsPath: string): Promise<boolean> {
  const dir = dirname(weightsPath);
  const name = basename(weightsPath);
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".ckpt") && e.name !== name) {
        return false;
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return true;
    throw e;
  }
  return true;
}

/**
 * Reads the records; a missing file is an empty list (null with `missingOk`).
 * Throws RunsFileError when unreadable.
 */
export async function readRuns(path: string): Promise<RunRecord[]>;
export async function readRuns(
  path: string,
  opts: { missingOk: true },
): Promise<RunRecord[] | null>;
export async function readRuns(
  path: string,
  opts: { missingOk?: boolean } = {},
): Promise<RunRecord[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return opts.missingOk ? null : [];
    throw new RunsFileError(`${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunsFileError(`${path}: not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(value)) {
    throw new RunsFileError(`${path}: expected a JSON array of run records`);
  }
  value.forEach((r, i) => {
    if (
      r === null || typeof r !== "object" ||
      typeof (r as RunRecord).labels !== "number" ||
      typeof (r as RunRecord).accuracy?.overall !== "number"
    ) {
      throw new RunsFileError(
        `${path}: record ${i} lacks "labels" or "accuracy.overall"`,
      );
    }
  });
  return value as RunRecord[];
}

/**
 * Appends `record` to the file holding `existing` (the records read before)
 * and writes the whole list atomically. Returns the new list.
 */
/** The records with `record` in place of the one of the same run number, written. */
export async function replaceRun(
  path: string,
  existing: RunRecord[],
  record: RunRecord,
): Promise<RunRecord[]> {
  const next = existing.map((r) => r.run === record.run ? record : r);
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(next, null, 1) + "\n");
  return next;
}

export async function appendRun(
  path: string,
  existing: RunRecord[],
  record: RunRecord,
): Promise<RunRecord[]> {
  const next = [...existing, record];
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(next, null, 1) + "\n");
  return next;
}
