import { buildClientAssets } from "../lib/build/client_bundle.ts";
import {
  assetManifest,
  MANIFEST_PATH,
  PLOTLY_FILE,
  ROOT,
} from "../lib/build/asset_manifest.ts";
import { assert, assertEquals } from "./assert.ts";

const APP = `${ROOT}/static/build/app.js`;
const mtime = (p: string) => Deno.statSync(p).mtime!.getTime();

Deno.test("buildClientAssets bundles the islands, copies Plotly, writes a hashed manifest", async () => {
  await buildClientAssets();
  const m = assetManifest();
  assert(/^\/static\/build\/app\.js\?v=[0-9a-f]{12}$/.test(m.app), m.app);
  assert(/^\/static\/app\.css\?v=[0-9a-f]{12}$/.test(m.css), m.css);
  assertEquals(m.plotly, `/static/vendor/${PLOTLY_FILE}`);
  const js = await Deno.readTextFile(APP);
  // The ?v= is the start of the file's SHA-256 (the server's immutable rule).
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(js)),
  );
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert(hex.startsWith(m.app.split("?v=")[1]));
  // CSP script-src 'self' without 'unsafe-eval'.
  assert(!/\bnew Function\(|\beval\(/.test(js), "no eval in the bundle");
  assert(js.includes("Active Learning Dashboard"), "the app is in the bundle");
  const plotly = Deno.statSync(`${ROOT}/static/vendor/${PLOTLY_FILE}`);
  assert(plotly.size > 1_000_000, "Plotly copied");
});

Deno.test("buildClientAssets skips work when nothing changed; force rebuilds identically", async () => {
  await buildClientAssets();
  const before = mtime(APP);
  const man = mtime(MANIFEST_PATH);
  // A rebuild writes new files by rename (a new inode) and stamps the
  // manifest with its own time: neither may change.
  const files = [APP, MANIFEST_PATH].map((p) => Deno.statSync(p).ino);
  const builtAt = assetManifest().builtAt;
  await buildClientAssets();
  assertEquals(mtime(APP), before, "app.js not rewritten");
  assertEquals(mtime(MANIFEST_PATH), man, "manifest not rewritten");
  assertEquals(
    [APP, MANIFEST_PATH].map((p) => Deno.statSync(p).ino),
    files,
    "nothing rewritten",
  );
  assertEquals(assetManifest().builtAt, builtAt, "no new build");
  const url = assetManifest().app;
  await buildClientAssets({ force: true });
  assert(mtime(APP) >= before);
  assertEquals(assetManifest().app, url, "deterministic build, same hash");
});
