import { actionTitle } from "../lib/client/key_actions.ts";
import { type Store, StoreContext, useStore } from "../lib/client/store.ts";
import { labelCheckText } from "../lib/client/label_check.ts";
import { AccountChip, SignedOutBanner } from "./AccountChip.tsx";
import { AgreementPanel } from "./AgreementPanel.tsx";
import { ConfirmDialog } from "./ConfirmDialog.tsx";
import { ConnectionBadge } from "./ConnectionBadge.tsx";
import { DatasetStats } from "./DatasetStats.tsx";
import { EvaluationPanel } from "./EvaluationPanel.tsx";
import { FileNotices } from "./FileNotices.tsx";
import { Guide } from "./Guide.tsx";
import { LabelsImportExport } from "./LabelsImportExport.tsx";
import { LatentPlot } from "./LatentPlot.tsx";
import { LossCurves } from "./LossCurves.tsx";
import { SamplePanel } from "./SamplePanel.tsx";
import { SelectionPanel } from "./SelectionPanel.tsx";
import { ShortcutHelp } from "./ShortcutHelp.tsx";
import { ReviewQueue } from "./ReviewQueue.tsx";
import { SuggestionQueue } from "./SuggestionQueue.tsx";
import { SyncBadge } from "./SyncBadge.tsx";
import { TrainingBar } from "./TrainingBar.tsx";
import { TrainingLog } from "./TrainingLog.tsx";
import { UpdatePrompt } from "./UpdatePrompt.tsx";

/**
 * The whole dashboard; rendered on the server and hydrated in the browser.
 * First screen: the map and the selected sample side by side (label buttons
 * included), training in the top bar; curves, stats, evaluation and files
 * below. The sample panel comes first in the DOM, so Tab reaches the label
 * buttons before the map's controls; CSS places it on the right.
 */
/**
 * The labels' estimated accuracy in the top bar: the accuracy card is below
 * the fold at 1440×900, and this is the number that says when to stop.
 */
function EstimateChip() {
  const store = useStore();
  const text = labelCheckText(store.graph.value);
  if (!text?.headline) return null;
  return (
    <span
      class="estimate-chip"
      id="topbar-estimate"
      title={`${text.headline}: ${text.detail}`}
    >
      {text.headline}
    </span>
  );
}

export function App({ store }: { store: Store }) {
  return (
    <StoreContext.Provider value={store}>
      <div class="app">
        {/* The first Tab stop: straight to the map (WCAG 2.4.1, bypass blocks). */}
        <a class="skip-link" href="#latent-map">Skip to the map</a>
        <header class="topbar">
          <div class="brand">
            <img src="/static/icon.svg" alt="" width="28" height="28" />
            <h1>
              SSVAE <span class="brand-long">Active Learning Dashboard</span>
            </h1>
          </div>
          <TrainingBar />
          <div class="topbar-status">
            <EstimateChip />
            <SyncBadge />
            <ConnectionBadge />
            <AccountChip />
            <button
              type="button"
              class="btn btn-small btn-help"
              id="help-button"
              title={actionTitle("help")}
              aria-label="Keyboard shortcuts"
              onClick={() => store.ui.helpOpen.value = true}
            >
              ?
            </button>
          </div>
        </header>
        <SignedOutBanner />
        <Guide />
        <FileNotices />
        <main class="workspace">
          <aside class="col-side" aria-label="Selected image and suggestions">
            <SamplePanel />
            <SelectionPanel />
            <SuggestionQueue />
            <ReviewQueue />
            <AgreementPanel />
          </aside>
          <div class="col-map">
            <LatentPlot />
          </div>
        </main>
        <section class="details" aria-label="Training and evaluation">
          <div class="metrics-row">
            <LossCurves />
            <TrainingLog />
            <DatasetStats />
          </div>
          <div class="eval-row">
            <EvaluationPanel />
            <LabelsImportExport />
          </div>
        </section>
        <ShortcutHelp />
        <ConfirmDialog />
        <UpdatePrompt />
      </div>
    </StoreContext.Provider>
  );
}
