/**
 * The review queue as the API serves it: the graph worker's latest review
 * (lib/graph/review.ts) less the labels the user confirmed. A confirmation
 * holds while the label and the held-out prediction it was made against are
 * unchanged ("until the evidence changes"); it is kept in
 * `<labels>.confirmed.json` beside labels.csv (temp file, fsync, rename), so
 * a restart does not bring confirmed labels back.
 */

import { writeFileAtomic } from "../atomic_file.ts";
import type { ReviewInfo } from "../protocol/api.ts";

/** What a confirmation was made against. */
export interface Confirmation {
  label: number;
  predicted: number;
}

/** Where the confirmations of `labelsPath` are kept. */
export function confirmationsPath(labelsPath: string): string {
  return labelsPath.replace(/\.csv$/i, "") + ".confirmed.json";
}

export class ReviewService {
  readonly #path: string;
  readonly #confirmed: Map<number, Confirmation>;
  /** Why the confirmations file could not be read (then it is not written). */
  readonly error: string | null;

  private constructor(
    path: string,
    confirmed: Map<number, Confirmation>,
    error: string | null,
  ) {
    this.#path = path;
    this.#confirmed = confirmed;
    this.error = error;
  }

  /**
   * The confirmations of `labelsPath` for a data set of `count` images. A
   * missing file is none; an unreadable or malformed one is reported in
   * `error` and left as it is (never overwritten: the user may mend it).
   */
  static async open(labelsPath: string, count: number): Promise<ReviewService> {
    const path = confirmationsPath(labelsPath);
    const confirmed = new Map<number, Confirmation>();
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        return new ReviewService(path, confirmed, null);
      }
      return new ReviewService(path, confirmed, `${path}: ${e}`);
    }
    try {
      const value = JSON.parse(text);
      if (!Array.isArray(value)) throw new Error("expected a JSON array");
      for (const row of value) {
        const { index, label, predicted } = row ?? {};
        if (
          ![index, label, predicted].every(Number.isInteger) || index < 0 ||
          index >= count
        ) {
          throw new Error(`bad entry ${JSON.stringify(row).slice(0, 80)}`);
        }
        confirmed.set(index, { label, predicted });
      }
      return new ReviewService(path, confirmed, null);
    } catch (e) {
      return new ReviewService(
        path,
        new Map(),
        `${path}: ${
          (e as Error).message
        }; confirmations are not kept until it is mended or removed`,
      );
    }
  }

  /**
   * `review` without the confirmed labels and those changed since it was
   * made (`labels`: the live ones, NaN = none), cut to `limit` items of
   * each list.
   */
  filter(review: ReviewInfo, limit: number, labels: Float32Array): ReviewInfo {
    const open = review.items.filter((it) => {
      if (labels[it.index] !== it.label) return false;
      const c = this.#confirmed.get(it.index);
      return !(c && c.label === it.label && c.predicted === it.predicted);
    });
    return {
      ...review,
      items: open.slice(0, limit),
      outliers: review.outliers.filter((o) => labels[o.index] === o.label)
        .slice(0, limit),
    };
  }

  /** Confirmations made. */
  get size(): number {
    return this.#confirmed.size;
  }

  /**
   * Confirms the label of image `index` against the prediction `predicted`,
   * and writes the file; throws when it cannot be written (nothing changed).
   */
  async confirm(index: number, c: Confirmation): Promise<void> {
    if (this.error) throw new Error(this.error);
    const next = new Map(this.#confirmed).set(index, c);
    const rows = [...next].sort((a, b) => a[0] - b[0]).map(([i, v]) => ({
      index: i,
      ...v,
    }));
    await writeFileAtomic(this.#path, JSON.stringify(rows) + "\n");
    this.#confirmed.set(index, c);
  }
}
