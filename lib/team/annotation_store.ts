// SQLite answers synchronously; the methods are async only for the
// interface they share with PostgreSQL (lib/team/pg_store.ts).
// deno-lint-ignore-file require-await
/**
 * Each annotator's own label of an overlapped image (`--overlap K`), kept
 * apart from labels.csv until the image is resolved: K annotators who agree
 * make the label, a disagreement waits for a reviewer. In the team's SQLite
 * database (`<labels>.team.sqlite`), keyed by Serial like the label log, so
 * a folder's annotations follow its files.
 */

import { DatabaseSync } from "node:sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS annotations (
  serial INTEGER NOT NULL,
  annotator TEXT NOT NULL,
  label INTEGER NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (serial, annotator)
);
`;

/** The annotations of a data set, wherever they are kept (SQLite or PostgreSQL). */
export interface Annotations {
  /** Sets `annotator`'s label of `serial` (a second label replaces the first). */
  put(serial: number, annotator: string, label: number): Promise<void>;
  /** Removes `annotator`'s label of `serial`; true when there was one. */
  remove(serial: number, annotator: string): Promise<boolean>;
  /** Every annotation of `serial`: annotator → label, oldest first. */
  forSerial(serial: number): Promise<Map<string, number>>;
  /** `annotator`'s labels: serial → label. */
  mine(annotator: string): Promise<Map<number, number>>;
  /** Every annotation, by serial then time. */
  all(): Promise<Annotation[]>;
  close(): Promise<void>;
}

/** One annotation as stored. */
export interface Annotation {
  serial: number;
  annotator: string;
  label: number;
  time: number;
}

/** Annotations in the team's SQLite database. */
export class AnnotationStore implements Annotations {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens the annotations of the team database at `path`. */
  static open(path: string): AnnotationStore {
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec(SCHEMA);
    } catch (e) {
      db.close();
      throw new Error(`annotations ${path}: ${(e as Error).message}`);
    }
    return new AnnotationStore(db);
  }

  /** Sets `annotator`'s label of `serial` (a second label replaces the first). */
  async put(
    serial: number,
    annotator: string,
    label: number,
    time = Date.now(),
  ): Promise<void> {
    this.#db.prepare(
      `INSERT INTO annotations (serial, annotator, label, time) VALUES (?, ?, ?, ?)
       ON CONFLICT (serial, annotator) DO UPDATE SET label = excluded.label, time = excluded.time`,
    ).run(serial, annotator, label, time);
  }

  /** Removes `annotator`'s label of `serial`; true when there was one. */
  async remove(serial: number, annotator: string): Promise<boolean> {
    const r = this.#db.prepare(
      "DELETE FROM annotations WHERE serial = ? AND annotator = ?",
    ).run(serial, annotator);
    return r.changes > 0;
  }

  /** Every annotation of `serial`: annotator → label. */
  async forSerial(serial: number): Promise<Map<string, number>> {
    const rows = this.#db.prepare(
      "SELECT annotator, label FROM annotations WHERE serial = ? ORDER BY time",
    ).all(serial) as unknown as Array<{ annotator: string; label: number }>;
    return new Map(rows.map((r) => [r.annotator, r.label]));
  }

  /** `annotator`'s labels: serial → label. */
  async mine(annotator: string): Promise<Map<number, number>> {
    const rows = this.#db.prepare(
      "SELECT serial, label FROM annotations WHERE annotator = ?",
    ).all(annotator) as unknown as Array<{ serial: number; label: number }>;
    return new Map(rows.map((r) => [r.serial, r.label]));
  }

  /** Every annotation, by serial then time. */
  async all(): Promise<Annotation[]> {
    return (this.#db.prepare(
      "SELECT serial, annotator, label, time FROM annotations ORDER BY serial, time",
    ).all() as unknown as Annotation[]).map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
