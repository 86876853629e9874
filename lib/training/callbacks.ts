/** Built-in training callbacks: a console table logger and a CSV history exporter. */
import { stringify } from "csv-stringify/sync";
import { dirname } from "node:path";
import { writeFileAtomic } from "../atomic_file.ts";
import { METRIC_NAMES } from "../ssvae/config.ts";
import type { HistoryEntry, TrainCallbacks } from "./types.ts";

const SHORT: Record<string, string> = {
  loss: "loss",
  reconstruction_loss: "recon",
  kl_loss: "kl",
  classification_loss: "class",
};

/** Prints one table row per epoch. */
export class ConsoleLogger implements TrainCallbacks {
  #log: (line: string) => void;
  constructor(log: (line: string) => void = console.log) {
    this.#log = log;
  }

  onTrainStart(): void {
    const cols = Object.values(SHORT);
    this.#log(
      [
        "epoch",
        "step",
        "secs",
        ...cols.map((c) => `train_${c}`),
        ...cols.map((c) => `val_${c}`),
      ]
        .map((c) => c.padStart(11)).join(" "),
    );
  }

  onEpochEnd(_epoch: number, _m: unknown, history: HistoryEntry[]): void {
    const h = history[history.length - 1];
    const keys = Object.keys(SHORT) as (keyof typeof h.train)[];
    const cells = [
      String(h.epoch),
      String(h.step),
      h.seconds.toFixed(2),
      ...keys.map((k) => h.train[k].toFixed(4)),
      ...keys.map((k) => h.val[k].toFixed(4)),
    ];
    this.#log(cells.map((c) => c.padStart(11)).join(" "));
  }
}

/** The columns of the history CSV: epoch, step, seconds, then train_* and val_* metrics. */
export function historyColumns(): string[] {
  return [
    "epoch",
    "step",
    "seconds",
    ...METRIC_NAMES.map((m) => `train_${m}`),
    ...METRIC_NAMES.map((m) => `val_${m}`),
  ];
}

/** Formats the whole history as CSV text. */
export function historyToCsv(history: HistoryEntry[]): string {
  const rows = history.map((h) => [
    h.epoch,
    h.step,
    h.seconds,
    ...METRIC_NAMES.map((m) => h.train[m]),
    ...METRIC_NAMES.map((m) => h.val[m]),
  ]);
  return stringify(rows, { header: true, columns: historyColumns() });
}

/** Rewrites the history CSV (atomically) after every epoch, so a crash loses at most one row. */
export class CsvHistoryExporter implements TrainCallbacks {
  constructor(readonly path: string) {}

  async onEpochEnd(
    _e: number,
    _m: unknown,
    history: HistoryEntry[],
  ): Promise<void> {
    await Deno.mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, historyToCsv(history));
  }
}
