/**
 * The per-run evaluation log, `runs.json` beside the checkpoint: one record per
 * dashboard training run with the label count, config, epochs, test accuracy
 * (overall and per class), confusion matrix, duration and time.
 *
 * The file is a JSON array rewritten whole with writeFileAtomic on every
 * append (a few kB per run), so a crash leaves the old list or the new one.
 * A file that cannot be parsed is never overwritten: appends then fail with
 * a RunsFileError and the records stay in memory only.
 */
import { dirname } from "node:path";
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
  /** Labels per class (length 10). */
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
  /** confusion[true][predicted], 10 × 10 counts, of the same predictions. */
  confusion: number[][];
  /** Which predictions `accuracy` scores (absent in older records: "classifier"). */
  predictor?: "graph" | "classifier";
  /** The model's own classifier on the test set, for comparison. */
  classifierAccuracy?: number;
}

export class RunsFileError extends Error {
  override name = "RunsFileError";
}

/** `runs.json` in the checkpoint's folder. */
export function runsPathFor(weightsPath: string): string {
  return `${dirname(weightsPath)}/runs.json`;
}

/** Reads the records; a missing file is an empty list. Throws RunsFileError when unreadable. */
export async function readRuns(path: string): Promise<RunRecord[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
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
