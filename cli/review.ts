/**
 * `deno task review`: the review queue of a labels file, as the dashboard's
 * Review view walks it — labels the rest of the data disagrees with, most
 * suspicious first, and labelled images that fit no class (lib/graph/review.ts)
 * — less the labels confirmed in the page. Reads the same label-graph cache
 * as the dashboard (builds it when there is none) and writes nothing.
 */
import { openDataset } from "../lib/data/dataset.ts";
import { loadTestImages, loadTrainSet } from "../lib/data/source.ts";
import { graphCacheDir } from "../lib/graph/cache_dir.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { reviewLabels } from "../lib/graph/review.ts";
import { checkLabels } from "../lib/graph/self_check.ts";
import { LabelStore } from "../lib/labels/labels_store.ts";
import { historyPath, LabelHistory } from "../lib/labels/label_history.ts";
import { DEFAULT_PATHS } from "../lib/protocol/paths.ts";
import { REVIEW_PAGE } from "../lib/protocol/limits.ts";
import { ReviewService } from "../lib/server/review_service.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { modelClassCount, presetConfig } from "../lib/ssvae/config.ts";
import { makeSplit } from "../lib/training/split.ts";
import { parseCli, runCli } from "./args.ts";

const USAGE = `Usage: deno task review [flags]
  --labels PATH     labels CSV (default ${DEFAULT_PATHS.labelsPath})
  --weights PATH    checkpoint whose cache/ holds the label graph
                    (default ${DEFAULT_PATHS.weightsPath})
  --data-dir DIR, --images DIR, --limit N, ...   the data set, as for start
  --top N           list at most N of each (default ${REVIEW_PAGE.default}, at most ${REVIEW_PAGE.max})
  --json            print {items, outliers, scored} as JSON
Prints the labels the rest of the data disagrees with (image index, serial,
label, what the other labels predict, score) and the labelled outliers.`;

await runCli(async () => {
  const { values, dataOptions, backend, labelsPath, weightsPath } = parseCli(
    Deno.args,
    {
      labels: { type: "string" },
      weights: { type: "string" },
      top: { type: "string", default: String(REVIEW_PAGE.default) },
      json: { type: "boolean", default: false },
    },
  );
  if (values.help) return console.log(USAGE);
  const top = Number(values.top);
  if (!Number.isInteger(top) || top < 1 || top > REVIEW_PAGE.max) {
    throw new Error(`--top takes 1-${REVIEW_PAGE.max}, got ${values.top}`);
  }
  const say = values.json ? () => {} : (l: string) => console.error(l);
  await initBackend(backend);
  const dataset = await openDataset(dataOptions, say);
  const data = await loadTrainSet(dataset.spec);
  await Deno.stat(labelsPath).catch(() => {
    throw new Error(`no labels file at ${labelsPath}`);
  });
  const store = await LabelStore.open(labelsPath, data.count, {
    serials: dataset.info.serials,
    classCount: dataset.info.classes.length,
  });
  const classes = modelClassCount(dataset.info.classes.length);
  const test = await loadTestImages(dataset.spec, undefined, dataOptions.limit)
    .catch(() => null);
  const cfg = presetConfig("graph");
  const { graph } = await LabelGraph.loadOrBuild(
    data.raw,
    data.count,
    data.rows * data.cols * data.channels,
    graphCacheDir(weightsPath),
    {
      test: test ? { raw: test.raw, count: test.count } : undefined,
      shape: data,
      validation: makeSplit(data.count, cfg.val_split, cfg.random_seed).val,
      truth: data.labels,
      progress: (step) => say(`label graph: ${step}`),
    },
  );
  const labels = store.labels;
  const probs = graph.propagate(labels, classes).probs;
  // The page holds each write's labels out together (its history batch):
  // so does the CLI, when the history exists (it is read, not made).
  let groups: Int32Array | null = null;
  if (await Deno.stat(historyPath(labelsPath)).then(() => true, () => false)) {
    const { history, warning } = LabelHistory.open(historyPath(labelsPath));
    if (warning) say(`warning: ${warning}`);
    const last = history.lastBySerial();
    history.close();
    groups = Int32Array.from(
      { length: data.count },
      (_, i) => last.get(store.serialOf(i))?.batch ?? -1,
    );
  }
  const check = await checkLabels(
    (l) => graph.propagate(l, classes).probs,
    labels,
    probs,
    classes,
    { groups },
  );
  if (!check) {
    throw new Error(
      `${store.labelledCount()} labels: the review needs at least 10, of two classes or more`,
    );
  }
  const confirmed = await ReviewService.open(labelsPath, data.count);
  if (confirmed.error) say(`warning: ${confirmed.error}`);
  const review = confirmed.filter(
    {
      revision: 0,
      ...reviewLabels(check.held, labels, classes, graph.coverage.typicality),
    },
    top,
    labels,
  );
  const names = dataset.info.classes;
  const serial = (i: number) => dataset.info.serials?.[i] ?? i;
  if (values.json) {
    return console.log(JSON.stringify({
      items: review.items.map((it) => ({ ...it, serial: serial(it.index) })),
      outliers: review.outliers.map((o) => ({ ...o, serial: serial(o.index) })),
      scored: review.scored,
    }));
  }
  console.log(
    `${review.items.length} label(s) the other labels disagree with (${review.scored} of ${store.labelledCount()} scored; ${confirmed.size} confirmed):`,
  );
  console.log("index\tserial\tlabel\tpredicted\tscore");
  for (const it of review.items) {
    console.log(
      `${it.index}\t${serial(it.index)}\t${names[it.label]}\t${
        names[it.predicted]
      }\t${it.score.toFixed(3)}`,
    );
  }
  console.log(`\n${review.outliers.length} labelled outlier(s):`);
  console.log("index\tserial\tlabel\tscore");
  for (const o of review.outliers) {
    console.log(
      `${o.index}\t${serial(o.index)}\t${names[o.label]}\t${
        o.score.toFixed(3)
      }`,
    );
  }
});
