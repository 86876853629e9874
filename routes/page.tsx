/**
 * The dashboard's HTML document for `/`. Server-rendered with
 * preact-render-to-string, then hydrated by static/build/app.js. The props go
 * in a JSON `<script type="application/json">` (data, not code): the CSP
 * allows no inline executable script.
 */
import { renderToString } from "preact-render-to-string";
import { App } from "../islands/App.tsx";
import { assetManifest } from "../lib/build/asset_manifest.ts";
import { createStore } from "../lib/client/store.ts";
import type { PageProps } from "../lib/protocol/api.ts";

export type { PageProps };

/** JSON safe inside a `<script>` element: no `</script>`, `<!--`, or U+2028/9. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value ?? {})
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Text safe inside HTML elements and quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}

export function renderPage(props: PageProps = {}): string {
  const assets = assetManifest();
  const store = createStore(props);
  const body = renderToString(<App store={store} />);
  const title = escapeHtml(props.title ?? "SSVAE Active Learning Dashboard");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="Label MNIST digits in the latent space of a semi-supervised VAE and retrain it live.">
<meta name="theme-color" content="#1d4ed8">
<link rel="icon" href="/static/icon.svg" type="image/svg+xml">
<link rel="manifest" href="/static/manifest.webmanifest">
<link rel="apple-touch-icon" href="/static/icons/icon-192.png">
<link rel="stylesheet" href="${escapeHtml(assets.css)}">
<link rel="preload" as="script" id="plotly-preload" href="${
    escapeHtml(assets.plotly)
  }">
<script type="module" src="${escapeHtml(assets.app)}"></script>
</head>
<body>
<div id="app">${body}</div>
<script type="application/json" id="page-props">${
    scriptSafeJson(props)
  }</script>
</body>
</html>
`;
}
