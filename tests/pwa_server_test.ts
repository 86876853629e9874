/**
 * The server side of the offline app, against the real server subprocess:
 * POST /api/labels/sync (ordered replay, last writer wins per operation by
 * client time, idempotent, per-operation errors), the raw image chunks, the
 * service worker, offline shell and web app manifest.
 */
import { readIdxFile } from "../lib/data/idx.ts";
import { defaultDataDir } from "../lib/data/mnist.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import {
  readLabelsCsv,
  type ServerProcess,
  startServer,
} from "../support/server_process.ts";

const LIMIT = 2100; // two image chunks: 2048 + 52

async function withServer(
  fn: (srv: ServerProcess) => Promise<void>,
  build = false,
) {
  const srv = await startServer({ limit: LIMIT, build });
  try {
    await fn(srv);
  } finally {
    await srv.stop();
  }
}

const sync = (srv: ServerProcess, ops: unknown[]) =>
  json(srv.url, "POST", "/api/labels/sync", { ops });

Deno.test({
  name:
    "POST /api/labels/sync replays in order, last writer wins per operation, idempotently",
  fn: () =>
    withServer(async (srv) => {
      const ws = await connectWs(srv.wsUrl);
      const t = Date.now() - 60_000;
      // Set, set, delete-after-set on 3, and a set on 4.
      const ops = [
        { index: 1, label: 3, clientTime: t },
        { index: 2, label: 5, clientTime: t + 1 },
        { index: 3, label: 7, clientTime: t + 2 },
        { index: 3, label: null, clientTime: t + 3 },
        { index: 4, label: 0, clientTime: t + 4 },
      ];
      const r = await sync(srv, ops);
      assertEquals(r.status, 200);
      assertEquals(
        (r.body.results as Array<{ applied: boolean }>).map((x) => x.applied),
        [true, true, true, true, true],
      );
      assertEquals(r.body.labels, [
        { index: 1, label: 3 },
        { index: 2, label: 5 },
        { index: 3, label: null },
        { index: 4, label: 0 },
      ]);
      const want = new Map([[1, 3], [2, 5], [4, 0]]);
      assertEquals(await readLabelsCsv(srv.labelsPath), want);
      // Other clients hear about it.
      await ws.waitFor((m) =>
        m.type === "labels_changed" &&
        (m.changes as Array<{ index: number }>).some((c) => c.index === 4)
      );

      // The same replay again (its answer was lost): nothing changes.
      const again = await sync(srv, ops);
      assertEquals(again.status, 200);
      assertEquals(again.body.labels, r.body.labels);
      assertEquals(await readLabelsCsv(srv.labelsPath), want);

      // Another client labels 2 later; an older offline edit of 2 loses,
      // a newer offline edit of 1 wins.
      await json(srv.url, "PUT", "/api/labels/2", {
        label: 8,
        clientTime: t + 100,
      });
      const late = await sync(srv, [
        { index: 2, label: 6, clientTime: t + 50 },
        { index: 1, label: 9, clientTime: t + 200 },
      ]);
      assertEquals(late.body.results, [
        { index: 2, label: 8, applied: false },
        { index: 1, label: 9, applied: true },
      ]);
      assertEquals(late.body.labels, [
        { index: 2, label: 8 },
        { index: 1, label: 9 },
      ]);
      assertEquals(
        await readLabelsCsv(srv.labelsPath),
        new Map([[1, 9], [2, 8], [4, 0]]),
      );
      await ws.close();
    }),
});

Deno.test({
  name:
    "POST /api/labels/sync: out-of-range operations fail alone; malformed bodies are refused whole",
  fn: () =>
    withServer(async (srv) => {
      const r = await sync(srv, [
        { index: LIMIT + 5, label: 1, clientTime: 1 },
        { index: 7, label: 2, clientTime: 2 },
      ]);
      assertEquals(r.status, 200);
      const results = r.body.results as Array<Record<string, unknown>>;
      assertMatch(String(results[0].error), /out of range/);
      assertEquals(results[0].applied, false);
      assertEquals(results[1], { index: 7, label: 2, applied: true });
      assertEquals(await readLabelsCsv(srv.labelsPath), new Map([[7, 2]]));

      const bad = await sync(srv, [{ index: 1, label: 12, clientTime: 3 }]);
      assertEquals(bad.status, 400);
      assertMatch(String(bad.body.error), /ops\[0\]\.label/);
      const cross = await json(
        srv.url,
        "POST",
        "/api/labels/sync",
        { ops: [] },
        { Origin: "http://evil.example" },
      );
      assertEquals(cross.status, 403);
      assertEquals(await readLabelsCsv(srv.labelsPath), new Map([[7, 2]]));
    }),
});

Deno.test({
  name: "GET /api/images: raw image chunks with a data-set id, immutable",
  fn: () =>
    withServer(async (srv) => {
      const meta = await json(srv.url, "GET", "/api/images");
      assertEquals(meta.status, 200);
      const m = meta.body as {
        id: string;
        count: number;
        chunkSize: number;
        chunks: number;
        rows: number;
        cols: number;
        bytes: number;
      };
      assertEquals(
        [m.count, m.rows, m.cols, m.chunkSize, m.chunks, m.bytes],
        [LIMIT, 28, 28, 2048, 2, LIMIT * 784],
      );
      assertMatch(m.id, /^2100-[0-9a-f]{16}$/);
      const idx = await readIdxFile(
        `${defaultDataDir()}/train-images-idx3-ubyte`,
      );
      const got: Uint8Array[] = [];
      for (let k = 0; k < m.chunks; k++) {
        const res = await fetch(`${srv.url}/api/images/${m.id}/${k}`);
        assertEquals(res.status, 200);
        assertEquals(
          res.headers.get("cache-control"),
          "public, max-age=31536000, immutable",
        );
        assertEquals(
          res.headers.get("content-type"),
          "application/octet-stream",
        );
        got.push(new Uint8Array(await res.arrayBuffer()));
      }
      assertEquals(got[0].length, 2048 * 784);
      assertEquals(got[1].length, 52 * 784);
      const all = new Uint8Array([...got[0], ...got[1]]);
      assert(
        all.every((v, i) => v === idx.data[i]),
        "the chunks are the IDX file's bytes",
      );
      // Revalidation, another data set's id, a chunk past the end.
      const etag = (await fetch(`${srv.url}/api/images/${m.id}/1`)).headers
        .get("etag")!;
      const cond = await fetch(`${srv.url}/api/images/${m.id}/1`, {
        headers: { "If-None-Match": etag },
      });
      assertEquals(cond.status, 304);
      await cond.body?.cancel();
      assertEquals(
        (await json(srv.url, "GET", "/api/images/60000-0000000000000000/0"))
          .status,
        404,
      );
      assertEquals(
        (await json(srv.url, "GET", `/api/images/${m.id}/2`)).status,
        404,
      );
    }),
});

Deno.test({
  name:
    "service worker at the root (no-cache), offline shell, web app manifest",
  fn: () =>
    withServer(async (srv) => {
      const sw = await fetch(`${srv.url}/sw.js`);
      assertEquals(sw.status, 200);
      assertMatch(sw.headers.get("content-type")!, /^text\/javascript/);
      assertEquals(sw.headers.get("cache-control"), "no-cache");
      const js = await sw.text();
      const build = JSON.parse(
        await Deno.readTextFile(
          new URL("../static/build/manifest.json", import.meta.url),
        ),
      );
      for (const url of [build.app, build.css, build.plotly, "/app-shell"]) {
        assert(
          js.includes(JSON.stringify(url).slice(1, -1)),
          `precaches ${url}`,
        );
      }
      const csp = sw.headers.get("content-security-policy")!;
      assertMatch(csp, /worker-src 'self'/);
      assertMatch(csp, /manifest-src 'self'/);

      const shell = await fetch(`${srv.url}/app-shell?__WB_REVISION__=x`);
      assertEquals(shell.status, 200);
      const html = await shell.text();
      assertMatch(
        html,
        /<link rel="manifest" href="\/static\/manifest\.webmanifest">/,
      );
      assertMatch(html, /id="page-props">\{"state":null\}</);
      assert(html.includes(build.app), "the shell loads this build's bundle");

      const man = await fetch(`${srv.url}/static/manifest.webmanifest`);
      assertMatch(
        man.headers.get("content-type")!,
        /application\/manifest\+json/,
      );
      const manifest = await man.json();
      assertEquals(manifest.display, "standalone");
      assertEquals(manifest.start_url, "/");
      assertEquals(
        manifest.icons.map((i: { sizes: string }) => i.sizes),
        ["192x192", "512x512", "512x512"],
      );
    }, true),
});
