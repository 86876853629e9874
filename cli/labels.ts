/**
 * `deno task labels`: a labels file's history and exports, from the
 * command line.
 *
 * - `--history N`: image N's label events, newest first.
 * - `--since TIME`: every event since TIME (ISO 8601, e.g. 2026-12-07T10:00).
 * - `--revert-batch ID`: undoes a past batch (after a restart, when the
 *   page's Ctrl+Z is gone); images changed since are left and named. It
 *   writes labels.csv: stop the dashboard first, or use its
 *   POST /api/labels/batches/:id/revert.
 * - `--export imagefolder|csv|json --out PATH [--copy]`: the labels for
 *   training code (lib/labels/image_folder_export.ts).
 */
import { openDataset } from "../lib/data/dataset.ts";
import { loadTrainSet } from "../lib/data/source.ts";
import { historyPath } from "../lib/labels/label_history.ts";
import { exportImageFolder } from "../lib/labels/image_folder_export.ts";
import { LabelStore } from "../lib/labels/labels_store.ts";
import { planRevert } from "../lib/labels/revert_batch.ts";
import { writeFileAtomic } from "../lib/atomic_file.ts";
import type { LabelEvent } from "../lib/protocol/label_events.ts";
import { HISTORY_PAGE } from "../lib/protocol/limits.ts";
import { DEFAULT_PATHS } from "../lib/protocol/paths.ts";
import { labelsByPathCsv, labelsJson } from "../lib/server/bulk_labels.ts";
import { parseCli, runCli } from "./args.ts";

const USAGE = `Usage: deno task labels [flags] (one of the actions)
  --history N         image N's label events, newest first
  --since TIME        every event since TIME (ISO 8601: 2026-12-07T10:00, or a date)
  --revert-batch ID   undo batch ID of the history (stop the dashboard first)
  --export FORMAT     imagefolder | csv | json, with --out PATH
  --copy              imagefolder: copy the image files (default: symbolic links)
  --limit-events N    at most N events (default ${HISTORY_PAGE.default}, at most ${HISTORY_PAGE.max})
  --json              print events as JSON
  --labels PATH       labels CSV (default ${DEFAULT_PATHS.labelsPath})
  --data-dir DIR, --images DIR, --limit N, ...   the data set, as for start`;

/** One event as a line: time, image, old → new, source, client, annotator, batch. */
function eventLine(e: LabelEvent, className: (c: number) => string): string {
  const l = (x: number | null) => x === null ? "none" : className(x);
  return `${
    new Date(e.time).toISOString()
  }  #${e.index} (serial ${e.serial})  ${l(e.from)} -> ${l(e.to)}  ${e.source}${
    e.client ? ` by ${e.client}` : ""
  }${e.annotator ? `  annotator ${e.annotator}` : ""}  batch ${e.batch}`;
}

function positiveInt(flag: string, v: unknown, max = Infinity): number {
  const n = typeof v === "string" && /^\d{1,12}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= max)) {
    throw new Error(
      `--${flag} takes an integer${
        max < Infinity ? ` 0-${max}` : ""
      }, got ${v}`,
    );
  }
  return n;
}

await runCli(async () => {
  const { values, dataOptions, labelsPath } = parseCli(Deno.args, {
    labels: { type: "string" },
    history: { type: "string" },
    since: { type: "string" },
    "revert-batch": { type: "string" },
    export: { type: "string" },
    out: { type: "string" },
    copy: { type: "boolean", default: false },
    "limit-events": { type: "string", default: String(HISTORY_PAGE.default) },
    json: { type: "boolean", default: false },
  });
  if (values.help) return console.log(USAGE);
  const actions = ["history", "since", "revert-batch", "export"].filter((k) =>
    values[k] !== undefined
  );
  if (actions.length !== 1) {
    throw new Error(
      `give one of --history, --since, --revert-batch, --export (got ${
        actions.length === 0 ? "none" : actions.map((a) => `--${a}`).join(", ")
      })`,
    );
  }
  const limit = positiveInt(
    "limit-events",
    values["limit-events"],
    HISTORY_PAGE.max,
  );
  const exportFormat = values.export as string | undefined;
  if (
    exportFormat !== undefined &&
    !["imagefolder", "csv", "json"].includes(exportFormat)
  ) {
    throw new Error(
      `--export takes imagefolder, csv or json, got ${exportFormat}`,
    );
  }
  if (exportFormat !== undefined && values.out === undefined) {
    throw new Error("--export needs --out PATH");
  }
  let since: number | undefined;
  if (values.since !== undefined) {
    since = Date.parse(values.since as string);
    if (Number.isNaN(since)) {
      throw new Error(
        `--since takes an ISO 8601 time (2026-12-07T10:00), got ${values.since}`,
      );
    }
  }
  await Deno.stat(labelsPath).catch(() => {
    // A lost labels.csv with its log is rebuilt by LabelStore.open below.
    return Deno.stat(historyPath(labelsPath)).catch(() => {
      throw new Error(`no labels file at ${labelsPath}`);
    });
  });

  const say = (l: string) => console.error(l);
  const dataset = await openDataset(dataOptions, say);
  const data = await loadTrainSet(dataset.spec);
  const classes = dataset.info.classes;
  const className = (c: number) => classes[c] ?? String(c);
  const store = await LabelStore.open(labelsPath, data.count, {
    serials: dataset.info.serials,
    classCount: classes.length,
  }, { history: true, warn: say });
  try {
    const log = store.history;
    if (exportFormat !== undefined) {
      const out = values.out as string;
      if (exportFormat === "imagefolder") {
        const info = dataset.info;
        const { images, perClass } = await exportImageFolder(
          {
            labels: store.labels,
            classes,
            serialOf: (i) => store.serialOf(i),
            files: info.dir && info.paths
              ? { dir: info.dir, paths: info.paths }
              : undefined,
            pixels: info.paths ? undefined : data,
          },
          out,
          values.copy ? "copy" : "link",
        );
        console.log(
          `${out}: ${images} images in ${
            perClass.filter((n) => n > 0).length
          } class folders (${
            info.paths ? (values.copy ? "copies" : "links") : "PNG files"
          }); torchvision.datasets.ImageFolder("${out}") and datasets.load_dataset("imagefolder", data_dir="${out}") read it`,
        );
      } else if (exportFormat === "json") {
        await writeFileAtomic(
          out,
          JSON.stringify(
            labelsJson(
              store.labels,
              dataset.info.paths
                ? { classes, paths: dataset.info.paths }
                : undefined,
            ),
          ) + "\n",
        );
        console.log(`${out}: ${store.labelledCount()} labels (JSON)`);
      } else {
        await writeFileAtomic(
          out,
          dataset.info.paths
            ? labelsByPathCsv(store.labels, dataset.info.paths, classes)
            : store.format(store.labels),
        );
        console.log(`${out}: ${store.labelledCount()} labels (CSV)`);
      }
      return;
    }
    if (!log) throw new Error(store.historyWarning ?? "no label history");
    let events: LabelEvent[];
    if (values.history !== undefined) {
      const index = positiveInt("history", values.history, data.count - 1);
      events = log.forSerial(store.serialOf(index), limit);
      if (!values.json && events.length === 0) {
        console.log(`#${index}: no label events`);
      }
    } else if (since !== undefined) {
      events = log.since(since, limit);
    } else {
      const id = positiveInt("revert-batch", values["revert-batch"]);
      const batch = log.batch(id);
      if (batch.length === 0) throw new Error(`no batch ${id} in the history`);
      const plan = planRevert(batch, (i) => store.get(i));
      if (plan.changes.length > 0) {
        await store.setMany(plan.changes, { source: "revert", client: "cli" });
      }
      for (const c of plan.conflicts) {
        console.log(
          `#${c.index}: left as ${
            c.now === null ? "none" : className(c.now)
          } (changed since batch ${id} set ${
            c.batchSet === null ? "none" : className(c.batchSet)
          })`,
        );
      }
      console.log(
        `batch ${id}: ${plan.changes.length} of ${batch.length} labels reverted${
          plan.conflicts.length
            ? `, ${plan.conflicts.length} changed since`
            : ""
        }${plan.missing ? `, ${plan.missing} not in the data set` : ""}`,
      );
      return;
    }
    if (values.json) console.log(JSON.stringify(events));
    else for (const e of events) console.log(eventLine(e, className));
  } finally {
    await store.whenIdle();
    store.close();
  }
});
