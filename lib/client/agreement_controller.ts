/**
 * The team's agreement (`--overlap K`, GET /api/agreement) for reviewers
 * and the owner: fetched when the page connects and whenever the labels
 * change (a consensus or a resolution moves an image out of the
 * disagreement queue), one request at a time. Annotators never ask: the
 * server would refuse, and overlap is blind for them.
 */
import { effect } from "@preact/signals";
import type { DashboardApi } from "./api.ts";
import { mayDo, type Store } from "./store.ts";
import { oneAtATime } from "./one_at_a_time.ts";

export function startAgreementController(
  store: Store,
  api: DashboardApi,
): { stop(): void } {
  const t = store.agreement;
  const refresh = oneAtATime(async () => {
    try {
      t.report.value = await api.agreement();
      t.error.value = null;
    } catch (e) {
      t.error.value = `Could not load the agreement: ${(e as Error).message}`;
    }
  });
  const stop = effect(() => {
    // Read first: the effect follows each of them.
    const labelled = store.labelled.value;
    const open = store.connection.value === "open";
    if (!open || store.overlap.value < 2 || !mayDo(store, "review")) return;
    void labelled;
    void refresh();
  });
  return { stop };
}
