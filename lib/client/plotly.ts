/**
 * Plotly is served as a classic script (static/vendor/, CSP-safe "strict"
 * build) and read from `globalThis.Plotly`. This module types the few calls
 * the dashboard makes and waits for the script without blocking the page.
 */

// deno-lint-ignore no-explicit-any
export type Any = any;

export interface PlotlyStatic {
  newPlot(
    el: HTMLElement,
    data: Any[],
    layout?: Any,
    config?: Any,
  ): Promise<Any>;
  react(el: HTMLElement, data: Any[], layout?: Any, config?: Any): Promise<Any>;
  relayout(el: HTMLElement, update: Any): Promise<Any>;
  restyle(el: HTMLElement, update: Any, traces?: number[]): Promise<Any>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): Promise<void> | void };
}

/** A div Plotly has drawn into. */
export interface PlotElement extends HTMLDivElement {
  on(event: string, cb: (ev: Any) => void): void;
  removeAllListeners?(event: string): void;
  data?: Any[];
  _fullLayout?: Any;
}

let pending: Promise<PlotlyStatic> | null = null;

/** Adds `<script id="plotly-js">` if missing; resolves once it has run. */
export function loadPlotly(timeoutMs = 60_000): Promise<PlotlyStatic> {
  const g = globalThis as Any;
  if (g.Plotly) return Promise.resolve(g.Plotly);
  if (pending) return pending;
  pending = new Promise<PlotlyStatic>((resolve, reject) => {
    const started = Date.now();
    let el = document.getElementById("plotly-js") as HTMLScriptElement | null;
    if (!el) {
      // The page preloads the file; running it is left until the app has
      // started its own requests, so Plotly's parse does not delay them.
      const href = document.getElementById("plotly-preload")?.getAttribute(
        "href",
      );
      el = document.createElement("script");
      el.id = "plotly-js";
      el.src = href ?? "/static/vendor/plotly.min.js";
      el.async = true;
      document.head.appendChild(el);
    }
    const done = () => {
      if (g.Plotly) {
        performance.mark("plotly-ready");
        clearInterval(poll);
        resolve(g.Plotly);
      }
    };
    // The load event may already have fired before this module ran: poll too.
    const poll = setInterval(() => {
      done();
      if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error("Plotly did not load (static/vendor missing?)"));
      }
    }, 50);
    el?.addEventListener("load", done);
    el?.addEventListener("error", () => {
      clearInterval(poll);
      reject(new Error(`Could not load ${el!.getAttribute("src")}`));
    });
  });
  return pending;
}

/**
 * A redraw that never overlaps itself: a call that arrives while a draw is
 * running marks it dirty, and the running draw makes one more pass with the
 * newest state. `render` simply returns when there is nothing to draw.
 */
export function coalescedDraw(
  render: (Plotly: PlotlyStatic) => Promise<void>,
  onError: (e: unknown) => void,
): () => Promise<void> {
  let drawing = false;
  let dirty = false;
  return async () => {
    if (drawing) {
      dirty = true;
      return;
    }
    drawing = true;
    try {
      const Plotly = await loadPlotly();
      do {
        dirty = false;
        await render(Plotly);
      } while (dirty);
    } catch (e) {
      onError(e);
    } finally {
      drawing = false;
    }
  };
}

/**
 * Takes Plotly's toolbar buttons out of the Tab order (they stay clickable;
 * the modes also have keys, Z, B and L, and the mode buttons above the map):
 * eight stops before the map were eight Tabs for every keyboard user.
 * Called after each (re)draw, which may make new buttons.
 */
export function toolbarOutOfTabOrder(el: HTMLElement): void {
  for (const b of el.querySelectorAll(".modebar-btn")) {
    b.setAttribute("tabindex", "-1");
  }
}
