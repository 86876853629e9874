/**
 * Label writes as the API sees them: last-writer-wins by client time, the
 * LabelStore's atomic file write before the caller gets an answer, and one
 * batched `labels_changed` event per burst of writes.
 */

import type { LabelStore } from "../labels/labels_store.ts";

import type {
  ImportResult,
  LabelChange,
  LabelResult,
} from "../protocol/api.ts";
import { HTTPException } from "hono/http-exception";
import {
  type ImportBody,
  importDiff,
  labelsWithAnnotatorCsv,
  parseImportCsv,
} from "./bulk_labels.ts";
import { planRevert, type RevertPlan } from "../labels/revert_batch.ts";
import type {
  LabelEvent,
  LabelHistoryResponse,
  WriteMeta,
} from "../protocol/label_events.ts";

/** Outcome of a batch write (see LabelService.writeMany). */
export interface BatchResult {
  /** Changes that now hold (written, or already so). */
  applied: number;
  /** Changes that needed the file write (the rest were already so). */
  changed: number;
  /** Changes older than the index's last change: not applied; the value kept. */
  stale: LabelChange[];
}

export interface LabelCounts {
  count: number;
  labelled: number;
  countsPerClass: number[];
}

export class LabelService {
  readonly #store: LabelStore;
  readonly #notify: (type: string, payload: Record<string, unknown>) => void;
  /**
   * Time of the change that set each index's current value (client time when
   * given, else server time). A replayed offline write older than this loses.
   */
  readonly #changedAt = new Map<number, number>();
  /** Writes queued in the store per index. */
  readonly #inFlight = new Map<number, number>();
  #pending: LabelChange[] = [];
  #flushScheduled = false;
  /** Bumped on every applied change; part of the latent snapshot's ETag. */
  revision = 0;

  constructor(
    store: LabelStore,
    notify: (type: string, payload: Record<string, unknown>) => void,
  ) {
    this.#store = store;
    this.#notify = notify;
  }

  /** The live labels, one per image (NaN = none): read-only for callers. */
  get labels(): Float32Array {
    return this.#store.labels;
  }

  /** The label of image `index`, or null. */
  get(index: number): number | null {
    return this.#store.get(index);
  }

  /** Classes a label may name (0 … classCount − 1). */
  get classCount(): number {
    return this.#store.classCount;
  }

  labelledCount(): number {
    return this.#store.labelledCount();
  }

  /** Completed labels.csv writes (a test hook: a batch is one write). */
  get writeCount(): number {
    return this.#store.writeCount;
  }

  /** Why the label log is not kept or was started afresh, if so. */
  get historyWarning(): string | null {
    return this.#store.historyWarning;
  }

  /** Waits for queued writes, then closes the label log (shutdown). */
  async close(): Promise<void> {
    await this.#store.whenIdle();
    this.#store.close();
  }

  /**
   * The labels as labels.csv's text (`Serial,label`), or with a third
   * column naming each label's annotator.
   */
  exportCsv(opts: { annotator?: boolean } = {}): string {
    if (!opts.annotator) return this.#store.format(this.#store.labels);
    return labelsWithAnnotatorCsv(
      this.#store.labels,
      (i) => this.#store.serialOf(i),
      (i) => this.#store.annotatorOf(i),
    );
  }

  /** labels.csv's Serial of image `index`. */
  serialOf(index: number): number {
    return this.#store.serialOf(index);
  }

  /** The account that made image `index`'s current label (null: none known). */
  annotatorOf(index: number): string | null {
    return this.#store.annotatorOf(index);
  }

  /**
   * Previews (dryRun) or applies an uploaded labels file as one batch write.
   * Writes already queued land first, so the diff is against what is on
   * disk; `ifRevision` refuses (409) an apply whose preview is out of date.
   * A row that does not parse throws ImportError (its line and value).
   */
  async import(
    req: ImportBody,
    log: (line: string) => void,
    who: Omit<WriteMeta, "source"> = {},
  ): Promise<ImportResult & { counts?: LabelCounts }> {
    const incoming = parseImportCsv(req.csv, this.#store, req.name);
    await this.#store.whenIdle();
    const labelledBefore = this.#store.labelledCount();
    const diff = importDiff(this.#store.labels, incoming, req.mode);
    const summary = {
      mode: req.mode,
      rows: diff.rows,
      added: diff.added,
      changed: diff.changed,
      removed: diff.removed,
      unchanged: diff.unchanged,
      labelledBefore,
      labelledAfter: diff.labelledAfter,
      sample: diff.sample,
    };
    if (req.dryRun) {
      return { dryRun: true, ...summary, labelsRevision: this.revision };
    }
    if (req.ifRevision !== undefined && req.ifRevision !== this.revision) {
      throw new HTTPException(409, {
        message:
          "the labels changed since the preview: preview the import again",
      });
    }
    if (diff.changes.length > 0) {
      await this.writeMany(diff.changes, undefined, {
        ...who,
        source: "import",
      });
      log(
        `import ${req.name} (${req.mode}): +${diff.added} ~${diff.changed} -${diff.removed}`,
      );
    }
    return {
      dryRun: false,
      ...summary,
      labelsRevision: this.revision,
      counts: this.counts(),
    };
  }

  /**
   * Each image's latest label source, one byte per image
   * (`labelSourceCode`; `GET /api/labels/sources`, the grid's filter).
   */
  sources(): Uint8Array {
    return this.#store.sourceOf;
  }

  /**
   * Image `index`'s label events, newest first (at most `limit`); empty
   * with a warning when no log is kept or it could not be opened.
   */
  history(
    index: number,
    limit: number,
    onlyAnnotator?: string,
  ): LabelHistoryResponse {
    const log = this.#store.history;
    const warning = this.#store.historyWarning ?? undefined;
    if (!log) {
      return { index, events: [], warning: warning ?? "no label history kept" };
    }
    const events: LabelEvent[] = log.forSerial(
      this.#store.serialOf(index),
      limit,
      onlyAnnotator,
    );
    return warning ? { index, events, warning } : { index, events };
  }

  /**
   * Reverts history batch `id` (lib/labels/revert_batch.ts) as one write of
   * source "revert"; images changed since are left and listed. 404 for a
   * batch the log does not have, 409 when no log is kept.
   */
  async revertBatch(
    id: number,
    who: Omit<WriteMeta, "source"> = {},
  ): Promise<Omit<RevertPlan, "changes"> & { reverted: number }> {
    const log = this.#store.history;
    if (!log) {
      throw new HTTPException(409, {
        message: this.#store.historyWarning ?? "no label history kept",
      });
    }
    // Queued writes first, so "changed since" is judged on the file.
    await this.#store.whenIdle();
    const events = log.batch(id);
    if (events.length === 0) {
      throw new HTTPException(404, {
        message: `no batch ${id} in the history`,
      });
    }
    const { changes, ...plan } = planRevert(
      events,
      (i) => this.#store.get(i),
    );
    if (changes.length > 0) {
      await this.writeMany(changes, undefined, { ...who, source: "revert" });
    }
    return { ...plan, reverted: changes.length };
  }

  counts(): LabelCounts {
    return {
      count: this.#store.labels.length,
      labelled: this.#store.labelledCount(),
      countsPerClass: this.#store.countsPerClass(),
    };
  }

  /**
   * Sets (label 0-9) or deletes (null) one label. Idempotent: repeating a
   * write returns applied=true and writes nothing. A write whose clientTime
   * is older than the index's last change is not applied (applied=false) and
   * the current value is returned.
   */
  async write(
    index: number,
    label: number | null,
    clientTime?: number,
    meta?: WriteMeta,
  ): Promise<LabelResult> {
    const now = Date.now();
    // A client clock ahead of ours must not freeze an index against later edits.
    const time = clientTime === undefined ? now : Math.min(clientTime, now);
    const last = this.#changedAt.get(index);
    if (last !== undefined && time < last) {
      return { index, label: this.#store.get(index), applied: false };
    }
    this.#changedAt.set(index, time);
    // The store updates memory only once a write is on disk, so while a write
    // to this index is in flight its current value is not yet known: never
    // skip then, or a delete racing a set would be lost.
    const inFlight = this.#inFlight.get(index) ?? 0;
    if (inFlight === 0 && this.#store.get(index) === label) {
      return { index, label, applied: true };
    }
    this.#inFlight.set(index, inFlight + 1);
    try {
      if (label === null) await this.#store.delete(index, meta);
      else await this.#store.set(index, label, meta);
    } catch (e) {
      // Not written: forget the timestamp so the change can be retried.
      if (this.#changedAt.get(index) === time) {
        if (last === undefined) this.#changedAt.delete(index);
        else this.#changedAt.set(index, last);
      }
      throw e;
    } finally {
      const left = (this.#inFlight.get(index) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(index);
      else this.#inFlight.set(index, left);
    }
    this.revision++;
    this.#queue([{ index, label }]);
    return { index, label, applied: true };
  }

  /**
   * Applies many changes as one atomic file write (LabelStore.setMany) and one
   * `labels_changed` event. Per index the same rules as `write` hold: a change
   * older (clientTime) than the index's last change is skipped and reported
   * in `stale`; one already in effect costs nothing. Indices must be distinct
   * and valid (the route validates); if the write fails nothing is applied.
   */
  async writeMany(
    changes: LabelChange[],
    clientTime?: number,
    meta?: WriteMeta,
  ): Promise<BatchResult> {
    const now = Date.now();
    const time = clientTime === undefined ? now : Math.min(clientTime, now);
    const stale: LabelChange[] = [];
    const toWrite: LabelChange[] = [];
    /** Previous change times of the indices claimed by this batch. */
    const previous = new Map<number, number | undefined>();
    let applied = 0;
    for (const { index, label } of changes) {
      const last = this.#changedAt.get(index);
      if (last !== undefined && time < last) {
        stale.push({ index, label: this.#store.get(index) });
        continue;
      }
      previous.set(index, last);
      this.#changedAt.set(index, time);
      applied++;
      const inFlight = this.#inFlight.get(index) ?? 0;
      if (inFlight === 0 && this.#store.get(index) === label) continue;
      toWrite.push({ index, label });
    }
    if (toWrite.length === 0) return { applied, changed: 0, stale };
    for (const { index } of toWrite) {
      this.#inFlight.set(index, (this.#inFlight.get(index) ?? 0) + 1);
    }
    try {
      await this.#store.setMany(toWrite, meta);
    } catch (e) {
      for (const [index, last] of previous) {
        if (this.#changedAt.get(index) !== time) continue;
        if (last === undefined) this.#changedAt.delete(index);
        else this.#changedAt.set(index, last);
      }
      throw e;
    } finally {
      for (const { index } of toWrite) {
        const left = (this.#inFlight.get(index) ?? 1) - 1;
        if (left === 0) this.#inFlight.delete(index);
        else this.#inFlight.set(index, left);
      }
    }
    this.revision++;
    this.#queue(toWrite);
    return { applied, changed: toWrite.length, stale };
  }

  #queue(changes: LabelChange[]) {
    // A loop, not push(...): a batch may hold tens of thousands of changes.
    for (const c of changes) this.#pending.push(c);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Writes that the store coalesced into one file write resolve together:
    // one event for the whole burst instead of one per label.
    queueMicrotask(() => {
      setTimeout(() => this.flush(), 0);
    });
  }

  /** Sends the queued changes now (also used before shutdown). */
  flush() {
    this.#flushScheduled = false;
    if (this.#pending.length === 0) return;
    // Last change per index wins within a burst.
    const byIndex = new Map<number, LabelChange>();
    for (const c of this.#pending) byIndex.set(c.index, c);
    this.#pending = [];
    this.#notify("labels_changed", {
      changes: [...byIndex.values()],
      counts: this.counts(),
    });
  }
}
