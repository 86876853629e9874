/**
 * Several dashboard processes on one data set, kept in step through
 * PostgreSQL (`--db postgres://…`): every label write of this process goes
 * into the shared `label_events` table before it is acknowledged (the label
 * store's `afterWrite`), with a NOTIFY; every other process LISTENs, reads
 * the events it has not seen and applies them to its own labels.csv and
 * pages (a `labels_changed` like any other). A label made through one
 * process is on the other's pages in milliseconds, and a process that is
 * killed has shared everything it acknowledged.
 *
 * Order: the table's id. For each image the event with the highest id wins
 * everywhere: a process skips an event older than the last one it made or
 * applied for that image. At start the table is the team's truth: its
 * latest label of each image is applied here, and labels only this
 * process's labels.csv has are shared (as "recovered").
 */

import type { Sql } from "./pg_store.ts";
import type { CommittedWrite } from "../labels/labels_store.ts";
import type { LabelService } from "../server/label_service.ts";
import type { LabelSource } from "../protocol/label_events.ts";
import type { LabelChange } from "../protocol/api.ts";

/** The NOTIFY channel of new label events. */
const CHANNEL = "ssvae_labels";

interface EventRow {
  id: number;
  origin: string;
  serial: number;
  new: number | null;
  source: string;
  client: string | null;
  annotator: string | null;
}

export class PgLabelFeed {
  readonly origin = crypto.randomUUID();
  readonly #sql: Sql;
  readonly #log: (line: string) => void;
  #labels: LabelService | null = null;
  #indexOf: Map<number, number> | null = null;
  /** Highest event id applied or made per serial. */
  readonly #lastId = new Map<number, number>();
  /** Highest event id read from the table. */
  #seen = 0;
  #pulling: Promise<void> | null = null;
  #again = false;
  #unlisten: (() => Promise<void>) | null = null;

  constructor(sql: Sql, log: (line: string) => void) {
    this.#sql = sql;
    this.#log = log;
  }

  /** Shares one process's committed writes (the label store's `afterWrite`). */
  async publish(writes: CommittedWrite[]): Promise<void> {
    const rows = writes.filter((w) => !w.meta.remote).flatMap((w) =>
      w.changes.map((c) => ({
        origin: this.origin,
        time: Date.now(),
        serial: c.serial,
        old: c.from,
        new: c.to,
        source: w.meta.source,
        client: w.meta.client ?? null,
        annotator: w.meta.annotator ?? null,
      }))
    );
    if (rows.length === 0) return;
    const ids = await this.#sql.begin(async (tx) => {
      const out = await tx<{ id: number; serial: number }[]>`
        INSERT INTO label_events ${
        tx(
          rows,
          "origin",
          "time",
          "serial",
          "old",
          "new",
          "source",
          "client",
          "annotator",
        )
      } RETURNING id, serial`;
      await tx`SELECT pg_notify(${CHANNEL}, ${this.origin})`;
      return out;
    });
    for (const { id, serial } of ids) {
      if (id > (this.#lastId.get(serial) ?? 0)) this.#lastId.set(serial, id);
    }
  }

  /**
   * Joins the team's log: applies what the table has and this process
   * lacks, shares what only this process has, then listens.
   */
  async start(labels: LabelService, serials?: Uint32Array): Promise<void> {
    this.#labels = labels;
    this.#indexOf = serials
      ? new Map(Array.from(serials, (s, i) => [s, i]))
      : null;
    this.#unlisten = (await this.#sql.listen(CHANNEL, (origin) => {
      if (origin !== this.origin) void this.pull();
    })).unlisten;
    const latest = await this.#sql<EventRow[]>`
      SELECT DISTINCT ON (serial) id, origin, serial, new, source, client, annotator
      FROM label_events ORDER BY serial, id DESC`;
    this.#seen = latest.reduce((m, r) => Math.max(m, r.id), 0);
    const inTable = new Set(latest.map((r) => r.serial));
    await this.#apply(latest);
    // Labels only this process has (made before it joined): shared now.
    const mine: LabelChange[] = [];
    for (let i = 0; i < labels.labels.length; i++) {
      const serial = labels.serialOf(i);
      if (!Number.isNaN(labels.labels[i]) && !inTable.has(serial)) {
        mine.push({ index: i, label: labels.labels[i] });
      }
    }
    if (mine.length > 0) {
      await this.publish([{
        changes: mine.map((c) => ({
          serial: labels.serialOf(c.index),
          from: null,
          to: c.label,
        })),
        meta: { source: "recovered" },
      }]);
    }
    // Events written while this start ran.
    await this.pull();
  }

  /** Reads and applies the events since the last read (one reader at a time). */
  pull(): Promise<void> {
    if (this.#pulling) {
      this.#again = true;
      return this.#pulling;
    }
    this.#pulling = (async () => {
      try {
        do {
          this.#again = false;
          const rows = await this.#sql<EventRow[]>`
            SELECT id, origin, serial, new, source, client, annotator
            FROM label_events WHERE id > ${this.#seen} ORDER BY id`;
          for (const r of rows) this.#seen = Math.max(this.#seen, r.id);
          await this.#apply(rows.filter((r) => r.origin !== this.origin));
        } while (this.#again);
      } catch (e) {
        this.#log(`shared labels: ${(e as Error).message}`);
      } finally {
        this.#pulling = null;
      }
    })();
    return this.#pulling;
  }

  /** Applies events (oldest first) that are newer than what this process has. */
  async #apply(rows: EventRow[]): Promise<void> {
    const labels = this.#labels;
    if (!labels || rows.length === 0) return;
    // The last event of each image wins; then one write per source,
    // client and annotator, so the log here says who made each.
    const last = new Map<number, EventRow>();
    for (const r of rows) {
      if ((this.#lastId.get(r.serial) ?? 0) > r.id) continue;
      this.#lastId.set(r.serial, r.id);
      const index = this.#indexOf
        ? this.#indexOf.get(r.serial) ?? -1
        : r.serial;
      if (index >= 0 && index < labels.labels.length) last.set(index, r);
    }
    const groups = new Map<
      string,
      { meta: EventRow; changes: Map<number, number | null> }
    >();
    for (const [index, r] of last) {
      if (labels.get(index) === r.new) continue;
      const key = `${r.source}\u0000${r.client}\u0000${r.annotator}`;
      let g = groups.get(key);
      if (!g) groups.set(key, g = { meta: r, changes: new Map() });
      g.changes.set(index, r.new);
    }
    for (const { meta, changes } of groups.values()) {
      await labels.writeMany(
        [...changes].map(([index, label]) => ({ index, label })),
        undefined,
        {
          source: meta.source as LabelSource,
          client: meta.client,
          annotator: meta.annotator,
          remote: true,
        },
      );
    }
  }

  async stop(): Promise<void> {
    await this.#unlisten?.().catch(() => {});
    await this.#pulling;
  }
}
