import { type Store, StoreContext } from "../lib/client/store.ts";
import { ConnectionBadge } from "./ConnectionBadge.tsx";
import { DatasetStats } from "./DatasetStats.tsx";
import { LatentPlot } from "./LatentPlot.tsx";
import { LossCurves } from "./LossCurves.tsx";
import { SamplePanel } from "./SamplePanel.tsx";
import { TrainingControls } from "./TrainingControls.tsx";
import { SyncBadge } from "./SyncBadge.tsx";
import { UpdatePrompt } from "./UpdatePrompt.tsx";
import { SuggestionQueue } from "./SuggestionQueue.tsx";
import { SelectionPanel } from "./SelectionPanel.tsx";
import { EvaluationPanel } from "./EvaluationPanel.tsx";
import { LabelsImportExport } from "./LabelsImportExport.tsx";

/** The whole dashboard; rendered on the server and hydrated in the browser. */
export function App({ store }: { store: Store }) {
  return (
    <StoreContext.Provider value={store}>
      <div class="app">
        <header class="topbar">
          <div class="brand">
            <img src="/static/icon.svg" alt="" width="28" height="28" />
            <h1>SSVAE Active Learning Dashboard</h1>
          </div>
          <div class="topbar-status">
            <SyncBadge />
            <ConnectionBadge />
          </div>
        </header>
        <main class="layout">
          <div class="col-main">
            <TrainingControls />
            <div class="metrics-row">
              <LossCurves />
              <DatasetStats />
            </div>
            <LatentPlot />
            <div class="eval-row">
              <EvaluationPanel />
              <LabelsImportExport />
            </div>
          </div>
          <aside class="col-side">
            <SamplePanel />
            <SelectionPanel />
            <SuggestionQueue />
          </aside>
        </main>
        <UpdatePrompt />
      </div>
    </StoreContext.Provider>
  );
}
