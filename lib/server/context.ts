/**
 * What the route modules share: the services, built once by the composition
 * root (server.ts) and handed to routes/app.ts.
 */

import type { ServerOptions } from "./options.ts";
import type { ListenAddress } from "./guards.ts";
import type { WsHub } from "./ws_hub.ts";
import type { LatentCache } from "./latent_cache.ts";
import type { LabelService } from "./label_service.ts";
import type { TrainingController } from "./training_controller.ts";
import type { GraphController } from "./graph_controller.ts";
import type { ReviewService } from "./review_service.ts";
import type { StaticFiles } from "./static_files.ts";
import type { NoticeBoard } from "./notice_board.ts";
import type { DatasetInfo } from "../data/dataset.ts";
import type { ApiState } from "../protocol/api.ts";
import type { Accounts } from "../team/accounts.ts";
import type { LoginLimiter } from "../team/login_limiter.ts";
import type { OverlapService } from "./overlap_service.ts";

export interface ServerContext {
  options: ServerOptions;
  addr: ListenAddress;
  hub: WsHub;
  labels: LabelService;
  training: TrainingController;
  graph: GraphController;
  /** The review queue's confirmations. */
  review: ReviewService;
  latent: LatentCache;
  /** Problems found in the user's files (start report, damaged caches). */
  notices: NoticeBoard;
  staticFiles: StaticFiles;
  /**
   * The team's accounts; null on loopback without accounts (one local user
   * who may do everything: lib/server/auth.ts).
   */
  accounts: Accounts | null;
  /** Failed sign-ins per name and address. */
  logins: LoginLimiter;
  /** `--overlap K` (K ≥ 2) on a team server; null otherwise. */
  overlap: OverlapService | null;
  /** Number of images served (N). */
  count: number;
  /** Kind, name, class names and image shape of the data set. */
  dataset: DatasetInfo;
  log: (line: string) => void;
}

/** Body of GET /api/state (and the core of the WebSocket `hello`). */
export function apiState(ctx: ServerContext): ApiState {
  const counts = ctx.labels.counts();
  const d = ctx.training.data;
  return {
    count: ctx.count,
    dataset: {
      kind: ctx.dataset.kind,
      name: ctx.dataset.name,
      classes: ctx.dataset.classes,
      rows: d?.rows ?? 28,
      cols: d?.cols ?? 28,
      channels: d?.channels ?? 1,
      hasTest: ctx.dataset.hasTest,
    },
    labelled: counts.labelled,
    countsPerClass: counts.countsPerClass,
    training: ctx.training.info,
    graph: ctx.graph.info,
    config: ctx.training.config ?? {},
    history: ctx.training.history,
    latentVersion: ctx.training.version,
    step: ctx.training.step,
    labelsRevision: ctx.labels.revision,
    notices: ctx.notices.list,
    ...(ctx.overlap ? { team: { overlap: ctx.overlap.k } } : {}),
    ...(ctx.labels.historyWarning
      ? { historyWarning: ctx.labels.historyWarning }
      : {}),
    // Completed labels.csv writes: lets tests check a batch is one write.
    ...(ctx.options.testHooks ? { labelsWrites: ctx.labels.writeCount } : {}),
  };
}
