/**
 * Every label's history: an append-only log of label events beside
 * labels.csv (`<labels>.history.sqlite`), in SQLite (Deno's built-in
 * `node:sqlite`, WAL mode, synchronous=FULL so a committed event survives a
 * power cut).
 *
 * labels.csv stays the current state and the source of truth: the store
 * writes it first, then appends the write's events in one transaction
 * (lib/labels/labels_store.ts). A crash between the two, or an edit of the
 * CSV by hand, leaves the log behind the CSV; on open the log is brought
 * level with one "recovered" batch, so replaying the log always gives
 * labels.csv. A log that cannot be opened or fails SQLite's check is moved
 * aside (`.corrupt-<time>`) and a new one is seeded from the CSV, with a
 * warning: the log never blocks or loses a label. When labels.csv is gone
 * and the log is not, the CSV is rebuilt from the log (`stateBySerial`).
 *
 * Events are keyed by Serial (labels.csv's key), so a folder's history
 * follows a file whatever its index in the data set.
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type {
  LabelEvent,
  LabelSource,
  WriteMeta,
} from "../protocol/label_events.ts";

/**
 * Bumped when the table layout changes. A log of an older version this code
 * can migrate (`MIGRATIONS`) is brought up to date in place; any other is
 * moved aside.
 */
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  batch INTEGER NOT NULL,
  time INTEGER NOT NULL,
  serial INTEGER NOT NULL,
  old INTEGER,
  new INTEGER,
  source TEXT NOT NULL,
  client TEXT,
  annotator TEXT
);
CREATE INDEX IF NOT EXISTS events_serial ON events (serial, id);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE INDEX IF NOT EXISTS events_batch ON events (batch);
`;

/** From version `n` to `n + 1`: version 2 names the annotator of each event. */
const MIGRATIONS: Record<string, string> = {
  "1": "ALTER TABLE events ADD COLUMN annotator TEXT",
};

/** Where the log of `labelsPath` is kept. */
export function historyPath(labelsPath: string): string {
  return labelsPath.replace(/\.csv$/i, "") + ".history.sqlite";
}

/** One change to log: the image's serial, its label before and after. */
export interface HistoryChange {
  serial: number;
  from: number | null;
  to: number | null;
}

/** What `lastBySerial` keeps of a serial's latest event. */
export interface LastEvent {
  batch: number;
  source: LabelSource;
  /** The account that made it (null: no accounts then, or the log's own). */
  annotator: string | null;
}

interface Row {
  id: number;
  batch: number;
  time: number;
  serial: number;
  old: number | null;
  new: number | null;
  source: string;
  client: string | null;
  annotator: string | null;
}

/** The label log of one labels.csv. */
export class LabelHistory {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  #nextBatch: number;
  /** Maps a serial to the data set's index (absent: the serial is the index). */
  #indexOf: (serial: number) => number = (s) => s;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#insert = db.prepare(
      "INSERT INTO events (batch, time, serial, old, new, source, client, annotator) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const row = db.prepare("SELECT MAX(batch) AS b FROM events").get() as {
      b: number | null;
    };
    this.#nextBatch = (row.b ?? 0) + 1;
  }

  /**
   * Opens (or creates) the log at `path`. A log SQLite cannot open, that
   * fails `quick_check`, or that has another layout is renamed to
   * `<path>.corrupt-<time>` and a new one is made; `warning` says so.
   */
  static open(path: string): { history: LabelHistory; warning?: string } {
    try {
      return { history: LabelHistory.#openDb(path) };
    } catch (e) {
      const aside = `${path}.corrupt-${
        new Date().toISOString().replace(/[-:.]/g, "")
      }`;
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          Deno.renameSync(path + suffix, aside + suffix);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
      return {
        history: LabelHistory.#openDb(path),
        warning: `label history ${path} could not be read (${
          (e as Error).message
        }): moved to ${aside}; a new history starts from labels.csv`,
      };
    }
  }

  static #openDb(path: string): LabelHistory {
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      // SQLite reads a non-database file lazily: check before trusting it.
      const check = db.prepare("PRAGMA quick_check").get() as Record<
        string,
        string
      >;
      const verdict = Object.values(check)[0];
      if (verdict !== "ok") throw new Error(`quick_check: ${verdict}`);
      db.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      );
      let version = (db.prepare(
        "SELECT value FROM meta WHERE key = 'schema'",
      ).get() as { value: string } | undefined)?.value;
      while (version !== undefined && MIGRATIONS[version] !== undefined) {
        db.exec("BEGIN IMMEDIATE");
        try {
          db.exec(MIGRATIONS[version]);
          version = String(Number(version) + 1);
          db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(
            version,
          );
          db.exec("COMMIT");
        } catch (e) {
          db.exec("ROLLBACK");
          throw e;
        }
      }
      db.exec(SCHEMA);
      if (version === undefined) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(
          String(SCHEMA_VERSION),
        );
      } else if (version !== String(SCHEMA_VERSION)) {
        throw new Error(
          `schema ${version}, this version reads ${SCHEMA_VERSION}`,
        );
      }
      return new LabelHistory(path, db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Tells the log how serials map to the data set's images. */
  setLayout(serials?: Uint32Array): void {
    if (!serials) {
      this.#indexOf = (s) => s;
      return;
    }
    const position = new Map<number, number>();
    serials.forEach((s, i) => position.set(s, i));
    this.#indexOf = (s) => position.get(s) ?? -1;
  }

  /** Number of events logged. */
  get size(): number {
    return (this.#db.prepare("SELECT COUNT(*) AS n FROM events").get() as {
      n: number;
    }).n;
  }

  /**
   * Appends several writes in one transaction, each its own batch; returns
   * their batch ids. A write with no changes gets no batch (−1).
   */
  append(
    writes: Array<{ changes: HistoryChange[]; meta: WriteMeta }>,
    time = Date.now(),
  ): number[] {
    const ids: number[] = [];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      let batch = this.#nextBatch;
      for (const { changes, meta } of writes) {
        if (changes.length === 0) {
          ids.push(-1);
          continue;
        }
        for (const c of changes) {
          this.#insert.run(
            batch,
            time,
            c.serial,
            c.from,
            c.to,
            meta.source,
            meta.client ?? null,
            meta.annotator ?? null,
          );
        }
        ids.push(batch++);
      }
      this.#db.exec("COMMIT");
      this.#nextBatch = batch;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    return ids;
  }

  /** The label the log ends with for every serial it names (null: removed). */
  stateBySerial(): Map<number, number | null> {
    const state = new Map<number, number | null>();
    const rows = this.#db.prepare(
      "SELECT serial, new FROM events ORDER BY id",
    ).all() as unknown as Array<{ serial: number; new: number | null }>;
    for (const r of rows) state.set(r.serial, r.new);
    return state;
  }

  /**
   * The latest event of each serial the log names, in one scan: its batch
   * (−1 where that was the log's own seed or recovery: labels found in
   * labels.csv, not one write of a user) and its source (the grid's
   * "made by" filter).
   */
  lastBySerial(): Map<number, LastEvent> {
    const out = new Map<number, LastEvent>();
    const rows = this.#db.prepare(
      "SELECT serial, batch, source, annotator FROM events ORDER BY id",
    ).all() as unknown as Array<
      {
        serial: number;
        batch: number;
        source: LabelSource;
        annotator: string | null;
      }
    >;
    for (const r of rows) {
      out.set(r.serial, {
        batch: r.source === "seed" || r.source === "recovered" ? -1 : r.batch,
        source: r.source,
        annotator: r.annotator,
      });
    }
    return out;
  }

  /**
   * Brings the log level with labels.csv (`current`: serial → label): one
   * batch of the differences, "seed" for an empty log, else "recovered".
   * Returns how many images it logged.
   */
  reconcile(current: Map<number, number>): number {
    const logged = this.stateBySerial();
    const changes: HistoryChange[] = [];
    for (const [serial, label] of current) {
      const had = logged.get(serial) ?? null;
      if (had !== label) changes.push({ serial, from: had, to: label });
    }
    for (const [serial, had] of logged) {
      if (had !== null && !current.has(serial)) {
        changes.push({ serial, from: had, to: null });
      }
    }
    if (changes.length === 0) return 0;
    changes.sort((a, b) => a.serial - b.serial);
    const source: LabelSource = logged.size === 0 ? "seed" : "recovered";
    this.append([{ changes, meta: { source } }]);
    return changes.length;
  }

  /**
   * The events of one image's serial, newest first; only `annotator`'s when
   * given (an annotator sees their own history).
   */
  forSerial(serial: number, limit: number, annotator?: string): LabelEvent[] {
    if (annotator !== undefined) {
      return this.#rows(
        "SELECT * FROM events WHERE serial = ? AND annotator = ? ORDER BY id DESC LIMIT ?",
        serial,
        annotator,
        limit,
      );
    }
    return this.#rows(
      "SELECT * FROM events WHERE serial = ? ORDER BY id DESC LIMIT ?",
      serial,
      limit,
    );
  }

  /** Events at or after `time` (ms), oldest first. */
  since(time: number, limit: number): LabelEvent[] {
    return this.#rows(
      "SELECT * FROM events WHERE time >= ? ORDER BY id LIMIT ?",
      time,
      limit,
    );
  }

  /** The events of one batch, in the order they were made. */
  batch(id: number): LabelEvent[] {
    return this.#rows("SELECT * FROM events WHERE batch = ? ORDER BY id", id);
  }

  #rows(sql: string, ...params: Array<number | string>): LabelEvent[] {
    const rows = this.#db.prepare(sql).all(...params) as unknown as Row[];
    return rows.map((r) => ({
      id: r.id,
      batch: r.batch,
      time: r.time,
      index: this.#indexOf(r.serial),
      serial: r.serial,
      from: r.old,
      to: r.new,
      source: r.source as LabelSource,
      client: r.client,
      annotator: r.annotator,
    }));
  }

  close(): void {
    this.#db.close();
  }
}
