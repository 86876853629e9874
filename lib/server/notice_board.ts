/**
 * The problems found in the user's files since start: the start report's
 * (image folder, labels.csv) and later ones (a damaged cache rebuilt). Each
 * is printed once in the terminal when it is posted, kept for `/api/state`,
 * and sent to open pages as a `notices` message.
 */

import type { DataNotice } from "../protocol/api.ts";
import { noticeLines } from "../notices.ts";

/** The most notices kept: a pathological folder must not grow the state without bound. */
const MAX_NOTICES = 100;

export class NoticeBoard {
  readonly #list: DataNotice[] = [];
  readonly #log: (line: string) => void;
  readonly #onChange: (all: DataNotice[]) => void;

  /** `onChange` hears the whole list after every post (the WebSocket broadcast). */
  constructor(
    log: (line: string) => void,
    onChange: (all: DataNotice[]) => void = () => {},
  ) {
    this.#log = log;
    this.#onChange = onChange;
  }

  /** Everything posted so far, oldest first. */
  get list(): DataNotice[] {
    return [...this.#list];
  }

  /**
   * Prints `n` and keeps it; `quiet` for notices the terminal has shown
   * already. The same notice twice (two workers meeting one damaged cache)
   * is kept once.
   */
  post(n: DataNotice, opts: { quiet?: boolean } = {}): void {
    if (this.#list.some((m) => m.kind === n.kind && m.title === n.title)) {
      return;
    }
    if (!opts.quiet) { for (const line of noticeLines(n)) this.#log(line); }
    if (this.#list.length >= MAX_NOTICES) this.#list.shift();
    this.#list.push(n);
    this.#onChange(this.list);
  }
}
