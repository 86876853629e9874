/** Browser entry: reads the server's props, starts the live wiring, hydrates. */
import { hydrate } from "preact";
import { startController } from "../lib/client/controller.ts";
import { loadPlotly } from "../lib/client/plotly.ts";
import { startPwa } from "../lib/client/pwa.ts";
import { createStore } from "../lib/client/store.ts";
import type { PageProps } from "../lib/protocol/api.ts";
import { App } from "./App.tsx";

performance.mark("app-start");
const propsEl = document.getElementById("page-props");
const props: PageProps = propsEl?.textContent
  ? JSON.parse(propsEl.textContent)
  : {};
const store = createStore(props);
// Network first (snapshot + socket), then Plotly's big parse, then hydration.
const controller = startController(store);
// Offline queue and caches, service worker, updates (after the first draw).
startPwa(store, controller);
loadPlotly();
hydrate(<App store={store} />, document.getElementById("app")!);
