/**
 * One checkpoint's run records in memory, appended to its runs.json
 * (lib/training/runs.ts) after every evaluated run. A file that could not be
 * read is never written: the records then stay in memory and say why.
 */

import { errorText } from "./error_text.ts";
import {
  appendRun,
  readRunsFor,
  replaceRun,
  type RunRecord,
  runsPathFor,
} from "./runs.ts";

/** Whether an appended record reached the file, and why not. */
export interface AppendResult {
  saved: boolean;
  message?: string;
}

/** The run records of one checkpoint: those read at open plus this process's appends. */
export class RunLog {
  /** The checkpoint's own records file (`<checkpoint>.runs.json`). */
  readonly path: string;
  /** Which file the records were read from (null: none); see `readRunsFor`. */
  readonly from: string | null;
  /** Why the file must not be written (it could not be read), or null. */
  readonly error: string | null;
  #records: RunRecord[];

  private constructor(
    path: string,
    records: RunRecord[],
    from: string | null,
    error: string | null,
  ) {
    this.path = path;
    this.#records = records;
    this.from = from;
    this.error = error;
  }

  /**
   * Reads the records of the checkpoint at `weightsPath`, whose step is
   * `checkpointStep` (null: a fresh model, no checkpoint file). Never throws:
   * an unreadable file gives an empty log with `error` set.
   */
  static async open(
    weightsPath: string,
    checkpointStep: number | null,
  ): Promise<RunLog> {
    const path = runsPathFor(weightsPath);
    try {
      const read = await readRunsFor(weightsPath, checkpointStep);
      return new RunLog(path, read.records, read.from, null);
    } catch (e) {
      return new RunLog(path, [], null, errorText(e));
    }
  }

  /** The records, oldest first. */
  get records(): readonly RunRecord[] {
    return this.#records;
  }

  /** The number the next record takes (1-based). */
  get nextRun(): number {
    return this.#records.length + 1;
  }

  /**
   * Puts `record` in place of the record of its run number (a run scored
   * again), in memory and in the file unless it is unwritable.
   */
  async replace(record: RunRecord): Promise<AppendResult> {
    const inMemory = () =>
      this.#records.map((r) => r.run === record.run ? record : r);
    if (this.error) {
      this.#records = inMemory();
      return { saved: false, message: `runs.json not updated: ${this.error}` };
    }
    try {
      this.#records = await replaceRun(this.path, this.#records, record);
      return { saved: true };
    } catch (e) {
      this.#records = inMemory();
      return {
        saved: false,
        message: `runs.json not updated: ${errorText(e)}`,
      };
    }
  }

  /** Appends `record` in memory, and to the file unless it is unwritable. */
  async append(record: RunRecord): Promise<AppendResult> {
    if (this.error) {
      this.#records = [...this.#records, record];
      return {
        saved: false,
        message: `not appended to runs.json: ${this.error}`,
      };
    }
    try {
      this.#records = await appendRun(this.path, this.#records, record);
      return { saved: true };
    } catch (e) {
      this.#records = [...this.#records, record];
      return {
        saved: false,
        message: `not appended to runs.json: ${errorText(e)}`,
      };
    }
  }
}
