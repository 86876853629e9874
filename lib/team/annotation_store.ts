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

/** One annotation as stored. */
export interface Annotation {
  serial: number;
  annotator: string;
  label: number;
  time: number;
}

export class AnnotationStore {
  readonly #db: DatabaseSync;
  /** Bumped by every change (the latent ETag of an annotator's own view). */
  revision = 0;

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
  put(serial: number, annotator: string, label: number, time = Date.now()) {
    this.#db.prepare(
      `INSERT INTO annotations (serial, annotator, label, time) VALUES (?, ?, ?, ?)
       ON CONFLICT (serial, annotator) DO UPDATE SET label = excluded.label, time = excluded.time`,
    ).run(serial, annotator, label, time);
    this.revision++;
  }

  /** Removes `annotator`'s label of `serial`; true when there was one. */
  remove(serial: number, annotator: string): boolean {
    const r = this.#db.prepare(
      "DELETE FROM annotations WHERE serial = ? AND annotator = ?",
    ).run(serial, annotator);
    if (r.changes > 0) this.revision++;
    return r.changes > 0;
  }

  /** Every annotation of `serial`: annotator → label. */
  forSerial(serial: number): Map<string, number> {
    const rows = this.#db.prepare(
      "SELECT annotator, label FROM annotations WHERE serial = ? ORDER BY time",
    ).all(serial) as unknown as Array<{ annotator: string; label: number }>;
    return new Map(rows.map((r) => [r.annotator, r.label]));
  }

  /** `annotator`'s labels: serial → label. */
  mine(annotator: string): Map<number, number> {
    const rows = this.#db.prepare(
      "SELECT serial, label FROM annotations WHERE annotator = ?",
    ).all(annotator) as unknown as Array<{ serial: number; label: number }>;
    return new Map(rows.map((r) => [r.serial, r.label]));
  }

  /** Every annotation, by serial then time. */
  all(): Annotation[] {
    return (this.#db.prepare(
      "SELECT serial, annotator, label, time FROM annotations ORDER BY serial, time",
    ).all() as unknown as Annotation[]).map((r) => ({ ...r }));
  }

  close(): void {
    this.#db.close();
  }
}
