/**
 * The composition root: builds the services (lib/server: training and graph
 * workers, label store and service, caches), hands them to the routes
 * (routes/app.ts) and serves. Worker (images, model, first prediction),
 * label store and client bundle load first; listening only starts once
 * everything is loaded, so the "listening" line means "ready".
 */

import { LabelStore } from "./lib/labels/labels_store.ts";
import { buildClientAssets } from "./lib/build/client_bundle.ts";
import { createApp } from "./routes/app.ts";
import type { ServerContext } from "./lib/server/context.ts";
import { GraphController } from "./lib/server/graph_controller.ts";
import { LabelService } from "./lib/server/label_service.ts";
import { makeSplit } from "./lib/training/split.ts";
import { graphCacheDir } from "./lib/graph/cache_dir.ts";
import { ReviewService } from "./lib/server/review_service.ts";
import { LatentCache } from "./lib/server/latent_cache.ts";
import type { ServerOptions } from "./lib/server/options.ts";
import type { ListenAddress } from "./lib/server/guards.ts";
import { StaticFiles } from "./lib/server/static_files.ts";
import { TrainingController } from "./lib/server/training_controller.ts";
import { WsHub } from "./lib/server/ws_hub.ts";
import { openDataset } from "./lib/data/dataset.ts";
import { checkEmbeddingsFile } from "./lib/graph/embeddings_file.ts";
import { ProgressServer } from "./lib/server/progress_server.ts";
import { modelClassCount } from "./lib/ssvae/config.ts";
import { NoticeBoard } from "./lib/server/notice_board.ts";
import { makeNotice } from "./lib/notices.ts";
import { sweepAtStart } from "./lib/atomic_file.ts";
import { printable } from "./lib/quote_input.ts";
import { openTeam } from "./lib/team/open_team.ts";
import { LoginLimiter } from "./lib/team/login_limiter.ts";
import { closeEndedStreams } from "./lib/server/auth.ts";
import { AnnotationStore } from "./lib/team/annotation_store.ts";
import { OverlapService } from "./lib/server/overlap_service.ts";
import { PgAccounts, PgAnnotations } from "./lib/team/pg_store.ts";
import { PgLabelFeed } from "./lib/team/pg_label_feed.ts";

export interface RunningServer {
  ctx: ServerContext;
  server: Deno.HttpServer<Deno.NetAddr>;
  addr: ListenAddress;
  readySeconds: number;
  shutdown(): Promise<void>;
}

const ROOT = new URL("./", import.meta.url);
/** How often open event streams are checked against revoked sessions. */
const SESSION_SWEEP_MS = 2000;

/** Bundles the islands when their sources changed (esbuild, ~1 s; else a few stats). */
async function buildClient(log: (l: string) => void): Promise<void> {
  const t0 = performance.now();
  await buildClientAssets();
  const ms = performance.now() - t0;
  if (ms > 200) log(`client assets built in ${(ms / 1000).toFixed(1)} s`);
}

export async function startServer(
  options: ServerOptions,
  log: (line: string) => void = (l) => console.log(l),
): Promise<RunningServer> {
  const t0 = performance.now();
  // First: a server beyond loopback without accounts must not start at all.
  const accounts = await openTeam(options, log);
  // Several processes on one PostgreSQL share their labels through it.
  const feed = accounts instanceof PgAccounts
    ? new PgLabelFeed(accounts.sql, log)
    : null;

  if (options.overlap > 1 && !accounts) {
    throw new Error(
      `--overlap ${options.overlap} shares images between annotators, which needs accounts: make them with deno task users add NAME --role annotator`,
    );
  }
  const hub = new WsHub();
  const notify = (type: string, payload: Record<string, unknown>) => {
    hub.broadcast(type, payload);
  };
  // Problems found in the user's files: printed once, kept for the page.
  const notices = new NoticeBoard(
    log,
    (all) => notify("notices", { notices: all }),
  );
  const training = new TrainingController({
    weightsPath: options.weightsPath,
    testHooks: options.testHooks,
    notify,
    log,
    // `graph` is declared below; this runs only after a training run, once
    // the server is up.
    classifyTest: (labels: Float32Array): Promise<Uint8Array | null> =>
      graph.classify(labels),
  });
  // The worker loads tfjs while this thread reads the image folder.
  training.warm();
  // Temp files of saves a kill cut short (labels, index, caches, checkpoint).
  const swept = await sweepAtStart(
    [options.labelsPath, options.weightsPath],
    [graphCacheDir(options.weightsPath)],
  );
  if (swept.length > 0) {
    log(
      `removed ${swept.length} temp file(s) of saves cut short: ${
        swept.map(printable).join(", ")
      }`,
    );
  }
  // While a first start decodes an image folder, a progress page holds the
  // address; the dashboard takes the same port afterwards.
  let progress: ProgressServer | null = null;
  let listenPort = options.port;
  const dataset = await openDataset(options, log, (p) => {
    if (!progress && p.done < p.total) {
      try {
        progress = new ProgressServer(options.host, options.port, log);
      } catch (e) {
        log(`no progress page: ${(e as Error).message}`);
      }
    }
    (progress as ProgressServer | null)?.update(p);
  }).catch((e) => {
    training.shutdown();
    throw e;
  }).finally(async () => {
    const page = progress as ProgressServer | null;
    if (page) {
      listenPort = page.port;
      await page.close();
    }
  });
  const { data, model, ready } = training.start({
    spec: dataset.spec,
    classCount: dataset.info.classes.length,
  });
  // Bundling (esbuild) and the page module load while the worker reads images.
  const clientBuilt = options.skipClientBuild
    ? Promise.resolve()
    : buildClient(log);
  clientBuilt.catch(() => {});

  let store: LabelStore;
  try {
    const info = await data;
    // A wrong embeddings file is refused now, with the shape it should
    // have, not minutes later in the graph worker.
    if (options.embeddings) {
      const { dim } = await checkEmbeddingsFile(options.embeddings, info.count);
      log(`embeddings: ${options.embeddings} (${info.count} × ${dim})`);
    }
    if (options.encoder) {
      await Deno.stat(options.encoder).catch((e) => {
        throw new Error(`--encoder ${options.encoder}: ${e.message}`);
      });
    }
    // Logged already (the folder report); kept for the page.
    for (const n of dataset.notices) notices.post(n, { quiet: true });
    store = await LabelStore.open(options.labelsPath, info.count, {
      serials: dataset.info.serials,
      classCount: dataset.info.classes.length,
    }, {
      history: true,
      warn: log,
      ...(feed ? { afterWrite: (w) => feed.publish(w) } : {}),
    });
    for (const n of store.notices) notices.post(n, { quiet: true });
    // The config gives the validation split the graph is chosen on.
    await model;
  } catch (e) {
    training.shutdown();
    throw e;
  }

  // The label graph: predictions that follow every label (graph worker).
  // The graph is declared below; the label service only calls it on a flush,
  // which is never synchronous.
  const labels = new LabelService(store, (type, payload) => {
    notify(type, payload);
    if (type === "labels_changed") graph.labelsChanged();
  });
  // The model's validation images: the graph's feature space is chosen on
  // them, and they are never suggested (their labels would only score the
  // model, not train it). One split, remade only when the config changes.
  let splitKey = "";
  let validation: { indices: Uint32Array; mask: Uint8Array } | null = null;
  const validationSplit = () => {
    const c = training.config;
    if (!c || c.val_split <= 0) return null;
    const n = store.labels.length;
    const key = `${n}:${c.val_split}:${c.random_seed}`;
    if (key !== splitKey) {
      splitKey = key;
      const indices = makeSplit(n, c.val_split, c.random_seed).val;
      const mask = new Uint8Array(n);
      for (const i of indices) mask[i] = 1;
      validation = { indices, mask };
    }
    return validation;
  };
  const graph: GraphController = new GraphController({
    init: {
      data: dataset.spec,
      cacheDir: graphCacheDir(options.weightsPath),
      classes: modelClassCount(dataset.info.classes.length),
      validation: validationSplit()?.indices.slice(),
      embeddings: options.embeddings,
      encoder: options.encoder,
    },
    labels: () => ({
      labels: store.labels,
      revision: labels.revision,
      groups: store.batchOf,
    }),
    exclude: () => validationSplit()?.mask ?? null,
    onPropagation: (p) => training.applyGraphPredictions(p),
    onInfo: (info) => notify("graph_status", { graph: info }),
    onNotice: (n) => notices.post(n),
    log,
  });
  // Started while the model's first prediction runs: on a first start the
  // quick graph is then ready about when the page is.
  if (options.graph) graph.start();
  else graph.info = { ...graph.info, status: "off" };
  try {
    await ready;
    await clientBuilt;
  } catch (e) {
    graph.shutdown();
    training.shutdown();
    throw e;
  }
  const review = await ReviewService.open(
    options.labelsPath,
    store.labels.length,
  );
  if (review.error) notices.post(makeNotice("labels-file", review.error));
  // Said at start too, not only at the first refused label (a 409).
  const labelsMode = (await Deno.stat(options.labelsPath)).mode;
  if (labelsMode !== null && (labelsMode & 0o222) === 0) {
    notices.post(makeNotice(
      "labels-file",
      `${options.labelsPath} is read-only: labels cannot be saved ` +
        "until it is made writable",
    ));
  }
  if (feed) {
    await feed.start(labels, dataset.info.serials);
    log(`labels shared through PostgreSQL as ${feed.origin.slice(0, 8)}`);
  }
  const overlap = accounts && options.overlap > 1
    ? new OverlapService(
      options.overlap,
      accounts instanceof PgAccounts
        ? new PgAnnotations(accounts.sql)
        : AnnotationStore.open(options.dbPath),
      labels,
      dataset.info.serials,
    )
    : null;
  const addr: ListenAddress = {
    host: options.host,
    port: listenPort,
    ...(options.publicUrl
      ? { publicOrigin: new URL(options.publicUrl).origin }
      : {}),
  };
  const ctx: ServerContext = {
    options,
    addr,
    hub,
    labels,
    training,
    graph,
    review,
    latent: new LatentCache(),
    notices,
    staticFiles: new StaticFiles(new URL("static", ROOT).pathname),
    accounts,
    logins: new LoginLimiter(),
    overlap,
    count: training.data!.count,
    dataset: dataset.info,
    log,
  };
  const app = createApp(ctx);

  const readySeconds = (performance.now() - t0) / 1000;
  const server = await new Promise<Deno.HttpServer<Deno.NetAddr>>(
    (resolve, reject) => {
      try {
        const s = Deno.serve({
          hostname: options.host,
          port: listenPort,
          onListen(local) {
            // With --port 0 the OS picks: the Host check must know the real port.
            addr.port = local.port;
            const shown = local.hostname.includes(":")
              ? `[${local.hostname}]`
              : local.hostname;
            log(
              `SSVAE dashboard listening on http://${shown}:${local.port}/ ` +
                `(${ctx.count} images, ${store.labelledCount()} labelled, ` +
                `${
                  training.fromCheckpoint ? "checkpoint loaded" : "fresh model"
                }, ` +
                `ready in ${readySeconds.toFixed(1)} s)`,
            );
          },
        }, app.fetch);
        resolve(s);
      } catch (e) {
        reject(e);
      }
    },
  );

  // A revocation by `deno task users` (another process) ends that
  // account's event streams too; the API's own sign-outs end them at once.
  const sweep = accounts
    ? setInterval(
      () => void closeEndedStreams(hub, accounts).catch(() => {}),
      SESSION_SWEEP_MS,
    )
    : null;

  let closing: Promise<void> | null = null;
  return {
    ctx,
    server,
    addr,
    readySeconds,
    shutdown() {
      closing ??= (async () => {
        if (sweep !== null) clearInterval(sweep);
        labels.flush();
        hub.closeAll();
        graph.shutdown();
        training.shutdown();
        await server.shutdown();
        await labels.close();
        await feed?.stop();
        await overlap?.close();
        await accounts?.close();
      })();
      return closing;
    },
  };
}
