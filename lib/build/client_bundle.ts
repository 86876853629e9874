/**
 * Builds the browser assets into static/:
 * - static/build/app.js (+ .map): islands/main.tsx bundled by esbuild, only
 *   when a source is newer than the output (or `force`);
 * - static/vendor/plotly-strict-<version>.min.js: Plotly's CSP-safe build
 *   (no eval / new Function), copied from npm; the version in the name makes
 *   long-lived caching safe;
 * - static/build/manifest.json: URLs with a content hash (`?v=`) for the page;
 * - static/build/sw.js: the service worker (lib/client/service_worker.ts) with
 *   its precache list — the exact versioned URLs above, plus the offline shell,
 *   web app manifest and icons with a content revision — built in.
 *
 * Every file is written to a temp name and renamed, so servers started in
 * parallel (the test suite) never read a half-written bundle.
 */
import * as esbuild from "esbuild";
import {
  type AssetManifest,
  assetManifest,
  forgetAssetManifest,
  MANIFEST_PATH,
  OUT_DIR,
  PLOTLY_FILE,
  ROOT,
} from "./asset_manifest.ts";

const VENDOR_DIR = `${ROOT}/static/vendor`;

/** Inputs of the bundle: a change in any of them triggers a rebuild. */
const SOURCE_DIRS = ["islands", "lib/client", "lib/active"];
const SOURCE_FILES = [
  "deno.json",
  "deno.lock",
  "lib/build/client_bundle.ts",
  "lib/ssvae/config.ts",
  "lib/ssvae/rng.ts",
  "static/app.css",
  "routes/page.tsx",
  "static/manifest.webmanifest",
  "static/icon.svg",
  "static/icons/icon-192.png",
  "static/icons/icon-512.png",
  "static/icons/icon-512-maskable.png",
];

export const SW_PATH = `${OUT_DIR}/sw.js`;
/** Static files precached with a content revision (URL → file below static/). */
const PRECACHED_STATIC = [
  "manifest.webmanifest",
  "icon.svg",
  "icons/icon-192.png",
  "icons/icon-512.png",
  "icons/icon-512-maskable.png",
];
/** Served by routes/pwa.ts; what lib/client/pwa_shared.ts's SHELL_URL names. */
const SHELL_URL = "/app-shell";

export interface PrecacheEntry {
  url: string;
  /** null: the URL itself is versioned (content hash or version in the name). */
  revision: string | null;
}

async function mtime(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

async function newestSource(): Promise<number> {
  let newest = 0;
  const walk = async (dir: string) => {
    let entries: AsyncIterable<Deno.DirEntry>;
    try {
      entries = Deno.readDir(dir);
      for await (const e of entries) {
        const p = `${dir}/${e.name}`;
        if (e.isDirectory) await walk(p);
        else if (/\.(tsx?|css|json)$/.test(e.name)) {
          newest = Math.max(newest, await mtime(p));
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  };
  for (const d of SOURCE_DIRS) await walk(`${ROOT}/${d}`);
  for (const f of SOURCE_FILES) {
    newest = Math.max(newest, await mtime(`${ROOT}/${f}`));
  }
  return newest;
}

async function hash(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(d.slice(0, 6), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function writeAtomic(path: string, data: Uint8Array) {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

function plotlySource(): string {
  return `${ROOT}/node_modules/plotly.js-strict-dist-min/plotly-strict.min.js`;
}

async function copyPlotly(force: boolean) {
  const dest = `${VENDOR_DIR}/${PLOTLY_FILE}`;
  if (!force && await mtime(dest) > 0) return;
  const src = plotlySource();
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(src);
  } catch (e) {
    throw new Error(
      `Plotly not found at ${src} (run \`deno install\`): ${
        (e as Error).message
      }`,
    );
  }
  await Deno.mkdir(VENDOR_DIR, { recursive: true });
  await writeAtomic(dest, bytes);
}

async function bundle(): Promise<Uint8Array> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [`${ROOT}/islands/main.tsx`],
    outfile: `${OUT_DIR}/app.js`,
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: true,
    sourcemap: "linked",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  let js: Uint8Array | null = null;
  await Deno.mkdir(OUT_DIR, { recursive: true });
  for (const f of result.outputFiles ?? []) {
    if (f.path.endsWith(".js")) js = f.contents;
    await writeAtomic(f.path, f.contents);
  }
  if (!js) throw new Error("esbuild produced no app.js");
  return js;
}

let running: Promise<void> | null = null;

/**
 * Brings static/build and static/vendor up to date. Cheap when nothing
 * changed (a few stat calls). Concurrent calls in one process share one build.
 */
export function buildClientAssets(
  opts: { force?: boolean } = {},
): Promise<void> {
  if (running) return running;
  running = doBuild(opts.force ?? false).finally(() => running = null);
  return running;
}

async function doBuild(force: boolean): Promise<void> {
  await copyPlotly(force);
  const [src, out, man, sw] = await Promise.all([
    newestSource(),
    mtime(`${OUT_DIR}/app.js`),
    mtime(MANIFEST_PATH),
    mtime(SW_PATH),
  ]);
  if (
    !force && out > 0 && man > 0 && sw > 0 && src <= out && src <= man &&
    src <= sw
  ) return;
  try {
    const js = await bundle();
    let css = new Uint8Array(0);
    try {
      css = await Deno.readFile(`${ROOT}/static/app.css`);
    } catch {
      // No stylesheet: the page still works unstyled.
    }
    const manifest: AssetManifest = {
      app: `/static/build/app.js?v=${await hash(js)}`,
      css: `/static/app.css?v=${await hash(css)}`,
      plotly: `/static/vendor/${PLOTLY_FILE}`,
      builtAt: new Date().toISOString(),
    };
    await writeAtomic(
      MANIFEST_PATH,
      new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
    );
    forgetAssetManifest();
    await buildServiceWorker(manifest);
  } finally {
    // The esbuild service is a child process: let the caller's process exit.
    await esbuild.stop();
  }
}

/** What the service worker precaches for the build described by `manifest`. */
export async function precacheEntries(
  manifest: AssetManifest,
): Promise<PrecacheEntry[]> {
  const enc = new TextEncoder();
  const page = await Deno.readFile(`${ROOT}/routes/page.tsx`);
  // The shell is the page template around the bundle's components: it
  // changes exactly when the template or a versioned asset URL does.
  const shell = new Uint8Array([
    ...enc.encode(`${manifest.app}\n${manifest.css}\n${manifest.plotly}\n`),
    ...page,
  ]);
  const entries: PrecacheEntry[] = [
    { url: manifest.app, revision: null },
    { url: manifest.css, revision: null },
    { url: manifest.plotly, revision: null },
    { url: SHELL_URL, revision: await hash(shell) },
  ];
  for (const rel of PRECACHED_STATIC) {
    const bytes = await Deno.readFile(`${ROOT}/static/${rel}`);
    entries.push({ url: `/static/${rel}`, revision: await hash(bytes) });
  }
  return entries;
}

/** Bundles the service worker with this build's precache list built in. */
async function buildServiceWorker(manifest: AssetManifest): Promise<void> {
  const entries = await precacheEntries(manifest);
  const json = JSON.stringify(entries);
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [`${ROOT}/lib/client/service_worker.ts`],
    outfile: SW_PATH,
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    define: {
      "process.env.NODE_ENV": '"production"',
      __PRECACHE_JSON__: JSON.stringify(json),
      __BUILD_ID__: JSON.stringify(
        await hash(new TextEncoder().encode(json)),
      ),
    },
  });
  const js = result.outputFiles?.find((f) => f.path.endsWith(".js"));
  if (!js) throw new Error("esbuild produced no sw.js");
  await writeAtomic(SW_PATH, js.contents);
}

if (import.meta.main) {
  const t0 = performance.now();
  await buildClientAssets({ force: Deno.args.includes("--force") });
  console.log(
    `client assets ready in ${(performance.now() - t0).toFixed(0)} ms:`,
    assetManifest(),
  );
}
