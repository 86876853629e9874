/**
 * The dashboard's checkpoint file, shared with other writers (`deno task train`
 * on the same path): it remembers which version of the file it last loaded or
 * saved (mtime, size, inode), so a checkpoint written meanwhile by another
 * process is continued from, or kept, instead of silently overwritten.
 */

import {
  checkpointExists,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import type { InteractiveTrainer } from "./interactive_trainer.ts";
import type { TrainerOptions } from "./trainer.ts";
import { modelClassCount } from "../ssvae/config.ts";

/** A version of the file on disk (null: no file there). */
async function stampOf(path: string): Promise<string | null> {
  try {
    const st = await Deno.stat(path);
    return `${st.mtime?.getTime()}:${st.size}:${st.ino}`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** One checkpoint path and the version of it this process last saw. */
export class WatchedCheckpoint {
  /** The checkpoint file. */
  readonly path: string;
  /** The version last loaded or saved here; null: none yet. */
  #stamp: string | null = null;

  /** Watches `path`; nothing is read until `exists` or `load`. */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * Whether a checkpoint file is there. A directory at the path is a
   * CheckpointError, not "no checkpoint" (see `checkpointExists`).
   */
  exists(): Promise<boolean> {
    return checkpointExists(this.path);
  }

  /**
   * Loads the checkpoint and remembers its version. A model of another image
   * size than `inputDim` (another data set, --image-size or --color) is
   * refused, and so is one whose classifier does not fit `classCount`
   * classes (`modelClassCount`): it would misname every class.
   */
  async load(
    inputDim: number,
    options: TrainerOptions = {},
    classCount = 10,
  ): Promise<InteractiveTrainer> {
    // Stamped before reading: a write during the read then shows as a change.
    const stamp = await stampOf(this.path);
    const trainer = await loadCheckpoint(this.path, undefined, options);
    const dim = trainer.model.config.input_dim;
    if (dim !== inputDim) {
      trainer.dispose();
      throw new Error(
        `CheckpointError: ${this.path} is a model of ${dim}-pixel images, ` +
          `but these images have ${inputDim} (another data set or --image-size/--color); pass another --weights`,
      );
    }
    const classes = trainer.model.config.num_classes;
    const want = modelClassCount(classCount);
    if (classes !== want) {
      trainer.dispose();
      throw new Error(
        `CheckpointError: ${this.path} is a model of ${classes} classes, ` +
          `but this data set has ${classCount}${
            want !== classCount ? ` (a model of ${want})` : ""
          }; pass another --weights`,
      );
    }
    this.#stamp = stamp;
    return trainer;
  }

  /**
   * Whether another process wrote the file since this one last loaded or
   * saved it. No file is no change (nothing to lose by writing).
   */
  async changedOnDisk(): Promise<boolean> {
    const onDisk = await stampOf(this.path);
    return onDisk !== null && onDisk !== this.#stamp;
  }

  /**
   * Saves `trainer` atomically. When the file was rewritten by another
   * process since it was last seen here, that file is kept: the trainer is
   * saved beside it (`<name>.dashboard-<ms>.ckpt`) and this throws, naming it.
   */
  async save(trainer: InteractiveTrainer): Promise<void> {
    if (await this.changedOnDisk()) {
      const aside = this.path.replace(
        /(\.ckpt)?$/,
        `.dashboard-${Date.now()}.ckpt`,
      );
      await saveCheckpoint(aside, trainer);
      throw new Error(
        `the checkpoint was rewritten by another process during this run; ` +
          `it was kept, and this run was saved to ${aside}`,
      );
    }
    await saveCheckpoint(this.path, trainer);
    this.#stamp = await stampOf(this.path);
  }
}
