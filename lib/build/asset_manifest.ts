/**
 * The built assets' URLs as the page links them (static/build/manifest.json,
 * written by lib/build/client_bundle.ts). Only reads a file: the page and
 * the routes import this, never the bundler (esbuild) itself.
 */
import plotlyPkg from "plotly.js-strict-dist-min/package.json" with {
  type: "json",
};

/** The repository root (this file is lib/build/asset_manifest.ts). */
export const ROOT = decodeURIComponent(
  new URL("../../", import.meta.url).pathname,
).replace(/\/$/, "");

/** Where the bundler writes. */
export const OUT_DIR = `${ROOT}/static/build`;
export const MANIFEST_PATH = `${OUT_DIR}/manifest.json`;
export const PLOTLY_FILE = `plotly-strict-${plotlyPkg.version}.min.js`;

export interface AssetManifest {
  /** URL of the app bundle, with a content-hash query. */
  app: string;
  /** URL of the stylesheet, with a content-hash query. */
  css: string;
  /** URL of Plotly (versioned file name). */
  plotly: string;
  builtAt: string;
}

let manifestCache: { mtime: number; value: AssetManifest } | null = null;

const FALLBACK: AssetManifest = {
  app: "/static/build/app.js",
  css: "/static/app.css",
  plotly: `/static/vendor/${PLOTLY_FILE}`,
  builtAt: "",
};

/** The current asset URLs (re-read when the manifest file changes). */
export function assetManifest(): AssetManifest {
  let m = 0;
  try {
    m = Deno.statSync(MANIFEST_PATH).mtime?.getTime() ?? 0;
  } catch {
    return FALLBACK;
  }
  if (manifestCache && manifestCache.mtime === m) return manifestCache.value;
  try {
    const value = JSON.parse(Deno.readTextFileSync(MANIFEST_PATH));
    manifestCache = { mtime: m, value: { ...FALLBACK, ...value } };
    return manifestCache.value;
  } catch {
    return FALLBACK;
  }
}

/** Drops the cached manifest (the bundler just wrote a new one). */
export function forgetAssetManifest(): void {
  manifestCache = null;
}
