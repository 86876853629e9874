/** Browser entry: reads the server's props, starts the live wiring, hydrates. */
import { hydrate } from "preact";
import { Api } from "../lib/client/api.ts";
import { startController } from "../lib/client/controller.ts";
import { loadPlotly } from "../lib/client/plotly.ts";
import { createOfflineLayer } from "../lib/client/pwa.ts";
import { createStore } from "../lib/client/store.ts";
import type { PageProps } from "../lib/protocol/api.ts";
import { App } from "./App.tsx";

performance.mark("app-start");
const propsEl = document.getElementById("page-props");
const props: PageProps = propsEl?.textContent
  ? JSON.parse(propsEl.textContent)
  : {};
const store = createStore(props);
const server = new Api();
// Offline, label writes queue and reads come from this device's copies: the
// controller is handed that API (the server's alone where there is no
// IndexedDB or Cache Storage).
const offline = createOfflineLayer(store, server);
// Network first (snapshot + socket), then Plotly's big parse, then hydration.
const controller = startController(store, offline?.api ?? server);
// The queue's sync loop and the offline copies now; the service worker and
// the image downloads after the first draw.
offline?.start(controller);
loadPlotly();
hydrate(<App store={store} />, document.getElementById("app")!);
