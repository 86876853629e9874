/**
 * The dashboard server's HTTP API, labels and security, against a real
 * server process (main.ts on an ephemeral port, 2000 images, temp files).
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json, rawRequest } from "../support/api_client.ts";
import {
  readLabelsCsv,
  runDeno,
  startServer,
} from "../support/server_process.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import { base64ToBytes } from "../lib/protocol/base64.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";

const LIMIT = 2000;
Deno.test("labels, samples, latent and validation", async (t) => {
  const srv = await startServer({ build: false, limit: LIMIT });
  const { url: base } = srv;
  const ws = await connectWs(srv.wsUrl);
  try {
    // The steps run in order on one server: the header check needs no label
    // yet, and the labels each step writes (5, 7, 100-299) are what the later
    // ones count.
    await t.step("hello comes first, with status and counts", async () => {
      const hello = await ws.waitFor((m) => m.type === "hello");
      assertEquals(ws.messages[0].type, "hello");
      assertEquals(typeof hello.seq, "number");
      assertEquals((hello.status as { status: string }).status, "idle");
      assertEquals(hello.history, []);
      assertEquals((hello.counts as { labelled: number }).labelled, 0);
      assertEquals(hello.latentVersion, 1);
    });

    await t.step("the labels file is created with its header", async () => {
      assertEquals(await Deno.readTextFile(srv.labelsPath), "Serial,label\n");
    });

    await t.step("set and delete persist to the CSV and notify", async () => {
      let r = await json(base, "PUT", "/api/labels/5", { label: 3 });
      assertEquals(r.status, 200);
      assertEquals(r.body, { index: 5, label: 3, applied: true });
      assertEquals([...(await readLabelsCsv(srv.labelsPath))], [[5, 3]]);
      const ev = await ws.waitFor((m) =>
        m.type === "labels_changed" &&
        (m.changes as Array<{ index: number }>).some((c) => c.index === 5)
      );
      assertEquals((ev.counts as { labelled: number }).labelled, 1);

      r = await json(base, "PUT", "/api/labels/7", { label: 0 });
      assertEquals(r.status, 200);
      r = await json(base, "DELETE", "/api/labels/5");
      assertEquals(r.body, { index: 5, label: null, applied: true });
      assertEquals([...(await readLabelsCsv(srv.labelsPath))], [[7, 0]]);
      const state = await json(base, "GET", "/api/state");
      assertEquals(state.body.labelled, 1);
      assertEquals((state.body.countsPerClass as number[])[0], 1);
    });

    await t.step("writes are idempotent", async () => {
      const before = await Deno.stat(srv.labelsPath);
      for (let i = 0; i < 3; i++) {
        const r = await json(base, "PUT", "/api/labels/7", { label: 0 });
        assertEquals(r.body, { index: 7, label: 0, applied: true });
      }
      const r = await json(base, "DELETE", "/api/labels/8");
      assertEquals(r.body, { index: 8, label: null, applied: true });
      const after = await Deno.stat(srv.labelsPath);
      assertEquals(after.mtime?.getTime(), before.mtime?.getTime());
    });

    await t.step(
      "an older clientTime loses against a newer change",
      async () => {
        const now = Date.now();
        let r = await json(base, "PUT", "/api/labels/9", {
          label: 4,
          clientTime: now,
        });
        assertEquals(r.body.applied, true);
        r = await json(base, "PUT", "/api/labels/9", {
          label: 6,
          clientTime: now - 60_000,
        });
        assertEquals(r.body, { index: 9, label: 4, applied: false });
        r = await json(base, "DELETE", `/api/labels/9?clientTime=${now - 1}`);
        assertEquals(r.body, { index: 9, label: 4, applied: false });
        r = await json(base, "DELETE", "/api/labels/9", {
          clientTime: now + 1,
        });
        assertEquals(r.body, { index: 9, label: null, applied: true });
      },
    );

    await t.step(
      "every kind of invalid input is a 4xx that changes nothing",
      async () => {
        const csvBefore = await Deno.readTextFile(srv.labelsPath);
        const stateBefore = (await json(base, "GET", "/api/state")).body;
        const cases: Array<
          [string, string, unknown, number, Record<string, string>?]
        > = [
          ["PUT", "/api/labels/abc", { label: 1 }, 400],
          ["PUT", "/api/labels/-1", { label: 1 }, 400],
          ["PUT", "/api/labels/1.5", { label: 1 }, 400],
          ["PUT", "/api/labels/1e3", { label: 1 }, 400],
          ["PUT", "/api/labels/%20", { label: 1 }, 400],
          ["PUT", `/api/labels/${LIMIT}`, { label: 1 }, 404],
          ["PUT", "/api/labels/99999999999", { label: 1 }, 400],
          ["PUT", "/api/labels/1", { label: 10 }, 400],
          ["PUT", "/api/labels/1", { label: -1 }, 400],
          ["PUT", "/api/labels/1", { label: 3.5 }, 400],
          ["PUT", "/api/labels/1", { label: "3" }, 400],
          ["PUT", "/api/labels/1", { label: null }, 400],
          ["PUT", "/api/labels/1", { label: true }, 400],
          ["PUT", "/api/labels/1", { label: [3] }, 400],
          ["PUT", "/api/labels/1", {}, 400],
          ["PUT", "/api/labels/1", undefined, 400],
          ["PUT", "/api/labels/1", "{not json", 400],
          ["PUT", "/api/labels/1", "[3]", 400],
          ["PUT", "/api/labels/1", "3", 400],
          ["PUT", "/api/labels/1", "null", 400],
          ["PUT", "/api/labels/1", { label: 3, extra: 1 }, 400],
          ["PUT", "/api/labels/1", { label: 3, clientTime: "soon" }, 400],
          ["PUT", "/api/labels/1", { label: 3, clientTime: -5 }, 400],
          ["PUT", "/api/labels/1", { label: 3, pad: "x".repeat(70_000) }, 413],
          ["PUT", "/api/labels/1", '{"label": 3}', 415, {
            "content-type": "text/plain",
          }],
          ["DELETE", "/api/labels/7", { clientTime: "x" }, 400],
          ["DELETE", "/api/labels/7", { label: 3 }, 400],
          ["DELETE", "/api/labels/7?clientTime=abc", undefined, 400],
          ["DELETE", `/api/labels/${LIMIT + 5}`, undefined, 404],
          ["POST", "/api/training/start", {}, 400],
          ["POST", "/api/training/start", undefined, 400],
          ["POST", "/api/training/start", "{", 400],
          ["POST", "/api/training/start", { epochs: 0 }, 400],
          ["POST", "/api/training/start", { epochs: 201 }, 400],
          ["POST", "/api/training/start", { epochs: 2.5 }, 400],
          ["POST", "/api/training/start", { epochs: "3" }, 400],
          [
            "POST",
            "/api/training/start",
            { epochs: 1, recon_weight: 6000 },
            400,
          ],
          ["POST", "/api/training/start", { epochs: 1, recon_weight: -1 }, 400],
          ["POST", "/api/training/start", { epochs: 1, kl_weight: 2 }, 400],
          ["POST", "/api/training/start", { epochs: 1, learning_rate: 1 }, 400],
          [
            "POST",
            "/api/training/start",
            { epochs: 1, learning_rate: 1e-5 },
            400,
          ],
          ["POST", "/api/training/start", { epochs: 1, batch_size: 4 }, 400],
          ["POST", "/api/training/stop", "{oops", 400],
          ["GET", `/api/samples/${LIMIT}`, undefined, 404],
          ["GET", "/api/samples/x", undefined, 400],
          ["GET", "/api/nothing", undefined, 404],
          ["POST", "/api/state", { a: 1 }, 404],
        ];
        for (const [method, path, body, want, headers] of cases) {
          const r = await json(base, method, path, body, headers);
          const what = `${method} ${path} ${
            JSON.stringify(body)?.slice(0, 60)
          }`;
          assertEquals(r.status, want, `${what}: ${JSON.stringify(r.body)}`);
          assertEquals(
            typeof r.body.error,
            "string",
            `${what}: no error message`,
          );
          assert((r.body.error as string).length > 5, what);
        }
        assertEquals(await Deno.readTextFile(srv.labelsPath), csvBefore);
        const stateAfter = (await json(base, "GET", "/api/state")).body;
        assertEquals(stateAfter.labelled, stateBefore.labelled);
        assertEquals(stateAfter.training, stateBefore.training);
        assertEquals(stateAfter.history, []);
      },
    );

    await t.step("a huge chunked body is cut off with 413", async () => {
      const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (sent++ < 64) ctrl.enqueue(chunk);
          else ctrl.close();
        },
      });
      const res = await fetch(`${base}/api/labels/1`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: stream,
      });
      assertEquals(res.status, 413);
      await res.body?.cancel();
      assertEquals((await readLabelsCsv(srv.labelsPath)).has(1), false);
    });

    await t.step(
      "200 concurrent label writes all land; the CSV stays valid",
      async () => {
        const writes = Array.from({ length: 200 }, (_, k) => ({
          index: 100 + k,
          label: k % 10,
        }));
        const results = await Promise.all(
          writes.map((w) =>
            json(base, "PUT", `/api/labels/${w.index}`, { label: w.label })
          ),
        );
        for (const r of results) assertEquals(r.status, 200);
        const csv = await readLabelsCsv(srv.labelsPath);
        for (const w of writes) assertEquals(csv.get(w.index), w.label);
        assertEquals(csv.size, 201); // plus index 7
        const state = await json(base, "GET", "/api/state");
        assertEquals(state.body.labelled, 201);
        // Every change reached the socket (possibly batched): the events
        // holding the last of them.
        const seen = new Set<number>();
        await ws.waitFor((m) => {
          if (m.type !== "labels_changed") return false;
          for (const c of m.changes as Array<{ index: number }>) {
            if (c.index >= 100) seen.add(c.index);
          }
          return seen.size === 200;
        });
        // Sequence numbers strictly increase.
        const seqs = ws.messages.map((m) => m.seq as number);
        for (let i = 1; i < seqs.length; i++) assert(seqs[i] > seqs[i - 1]);
      },
    );

    await t.step(
      "samples: original bytes, reconstruction, prediction",
      async () => {
        const data = await loadTrainImages({ limit: 10 });
        const r = await json(base, "GET", "/api/samples/7");
        assertEquals(r.status, 200);
        assertEquals(r.body.index, 7);
        assertEquals(r.body.label, 0);
        const original = base64ToBytes(r.body.original as string);
        assertEquals(original, data.raw.subarray(7 * 784, 8 * 784));
        assertEquals(base64ToBytes(r.body.recon as string).length, 784);
        const probs = r.body.probs as number[];
        assertEquals(probs.length, 10);
        const sum = probs.reduce((a, b) => a + b, 0);
        assert(Math.abs(sum - 1) < 1e-3, `probs sum ${sum}`);
        assertEquals(r.body.predClass, probs.indexOf(Math.max(...probs)));
        assert(
          Math.abs((r.body.certainty as number) - Math.max(...probs)) < 1e-6,
        );
      },
    );

    await t.step(
      "latent: binary snapshot, ETag, 304, labels included",
      async () => {
        const res = await fetch(`${base}/api/latent`);
        assertEquals(res.status, 200);
        assertEquals(
          res.headers.get("content-type"),
          "application/octet-stream",
        );
        const etag = res.headers.get("etag")!;
        assertMatch(etag, /^"[0-9a-f]{8}-v1-l\d+"$/);
        const snap = decodeLatent(new Uint8Array(await res.arrayBuffer()));
        assertEquals(snap.version, 1);
        assertEquals(snap.count, LIMIT);
        assertEquals(snap.userLabel[7], 0);
        assertEquals(snap.userLabel[105], 5);
        assertEquals(snap.userLabel[5], -1);
        assert(snap.x.every(Number.isFinite) && snap.y.every(Number.isFinite));
        const sample = await json(base, "GET", "/api/samples/3");
        assertEquals(snap.predClass[3], sample.body.predClass);

        const again = await fetch(`${base}/api/latent`, {
          headers: { "if-none-match": etag },
        });
        assertEquals(again.status, 304);
        await again.body?.cancel();

        await json(base, "PUT", "/api/labels/5", { label: 8 });
        const changed = await fetch(`${base}/api/latent`, {
          headers: { "if-none-match": etag },
        });
        assertEquals(changed.status, 200);
        assert(changed.headers.get("etag") !== etag);
        const snap2 = decodeLatent(new Uint8Array(await changed.arrayBuffer()));
        assertEquals(snap2.userLabel[5], 8);
      },
    );

    await t.step("the page and its security headers", async () => {
      const res = await fetch(`${base}/`);
      assertEquals(res.status, 200);
      assertMatch(res.headers.get("content-type")!, /text\/html/);
      const html = await res.text();
      assertMatch(html, /<html/i);
      const csp = res.headers.get("content-security-policy")!;
      assertMatch(csp, /script-src 'self'(;|$)/);
      assert(!/unsafe-eval/.test(csp), csp);
      assertMatch(csp, /frame-ancestors 'none'/);
      assertMatch(
        csp,
        new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${srv.port}`),
      );
      assertEquals(res.headers.get("x-content-type-options"), "nosniff");
      assertEquals(res.headers.get("referrer-policy"), "same-origin");
      assertEquals(res.headers.get("x-frame-options"), "DENY");
      // No inline executable script (CSP would block it): a <script> without
      // src may only carry JSON data.
      for (const m of html.matchAll(/<script\b([^>]*)>/gi)) {
        assert(
          /\bsrc=/.test(m[1]) || /type="application\/json"/.test(m[1]),
          `inline script: ${m[0]}`,
        );
      }
      // Every script and stylesheet the page references is served by us.
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) =>
        m[1]
      );
      for (const ref of refs) {
        assert(!/^(?:https?:)?\/\//.test(ref), `external asset ${ref}`);
      }
    });

    await t.step("static files: traversal refused", async () => {
      for (
        const path of [
          "/static/%2e%2e/main.ts",
          "/static/..%2fmain.ts",
          "/static/.hidden",
        ]
      ) {
        const r = await rawRequest(srv.port, [
          `GET ${path} HTTP/1.1`,
          `Host: 127.0.0.1:${srv.port}`,
        ]);
        assert(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
        assert(!r.text.includes("startServer"), `${path} leaked main.ts`);
      }
    });
  } finally {
    await ws.close();
    await srv.stop();
  }
});

Deno.test("security: Host, Origin and socket checks", async (t) => {
  const srv = await startServer({ build: false, limit: 500 });
  const { url: base, port } = srv;
  const get = (host: string) =>
    rawRequest(port, ["GET /api/state HTTP/1.1", `Host: ${host}`]);
  try {
    await t.step(
      "only our own Host names are served (DNS rebinding)",
      async () => {
        assertEquals((await get(`127.0.0.1:${port}`)).status, 200);
        assertEquals((await get(`localhost:${port}`)).status, 200);
        assertEquals((await get(`LOCALHOST:${port}`)).status, 200);
        assertEquals((await get(`[::1]:${port}`)).status, 200);
        for (
          const host of [
            `evil.example:${port}`,
            "evil.example",
            `127.0.0.1:${port + 1}`,
            `127.0.0.1`,
            "",
          ]
        ) {
          const r = await get(host);
          assertEquals(r.status, 403, `Host ${host}`);
          assert(!r.text.includes("ws://evil"), "foreign host echoed into CSP");
        }
      },
    );

    await t.step(
      "cross-origin writes are refused and change nothing",
      async () => {
        const csv = await Deno.readTextFile(srv.labelsPath);
        const refused: Array<Record<string, string>> = [
          { origin: "http://evil.example" },
          { origin: `http://evil.example:${port}` },
          { origin: `https://127.0.0.1:${port}` },
          { origin: `http://127.0.0.1:${port + 1}` },
          { origin: "null" },
          { "sec-fetch-site": "cross-site" },
          { "sec-fetch-site": "same-site" },
        ];
        for (const h of refused) {
          const r = await json(base, "PUT", "/api/labels/3", { label: 1 }, h);
          assertEquals(r.status, 403, JSON.stringify(h));
          const s = await json(base, "POST", "/api/training/start", {
            epochs: 1,
          }, h);
          assertEquals(s.status, 403, JSON.stringify(h));
          const d = await json(base, "DELETE", "/api/labels/3", undefined, h);
          assertEquals(d.status, 403, JSON.stringify(h));
        }
        assertEquals(await Deno.readTextFile(srv.labelsPath), csv);
        const state = await json(base, "GET", "/api/state");
        assertEquals(
          (state.body.training as { status: string }).status,
          "idle",
        );
      },
    );

    await t.step(
      "same-origin and non-browser writes are accepted",
      async () => {
        for (
          const h of [
            { origin: `http://127.0.0.1:${port}` },
            {
              origin: `http://localhost:${port}`,
              "sec-fetch-site": "same-origin",
            },
            { "sec-fetch-site": "same-origin" },
            {} as Record<string, string>,
          ]
        ) {
          const r = await json(base, "PUT", "/api/labels/3", { label: 2 }, h);
          assertEquals(r.status, 200, JSON.stringify(h));
        }
      },
    );

    await t.step("cross-origin WebSockets are refused", async () => {
      for (const origin of ["http://evil.example", "null"]) {
        let refused = false;
        try {
          const ws = await connectWs(srv.wsUrl, { origin });
          await ws.close();
        } catch (e) {
          refused = /403/.test((e as Error).message);
        }
        assert(refused, `socket from ${origin} was not refused with 403`);
      }
      const ok = await connectWs(srv.wsUrl, {
        origin: `http://127.0.0.1:${port}`,
      });
      const hello = await ok.waitFor((m) => m.type === "hello");
      assertEquals(hello.type, "hello");
      await ok.close();
    });

    await t.step("a plain GET on the socket URL says what it is", async () => {
      const r = await json(base, "GET", "/api/ws");
      assertEquals(r.status, 426);
    });
  } finally {
    await srv.stop();
  }
});

Deno.test(
  "start-up failures exit non-zero with a clear message",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ssvae_bad_" });
    try {
      await Deno.writeTextFile(`${dir}/bad.ckpt`, "garbage");
      await Deno.writeTextFile(`${dir}/bad.csv`, "Serial,label\n5,3\n7,x\n");
      const cases: Array<[string[], RegExp]> = [
        [
          ["--weights", `${dir}/bad.ckpt`],
          /CheckpointError: .*bad\.ckpt.*--weights/s,
        ],
        [
          ["--labels", `${dir}/bad.csv`],
          /LabelError: .*bad\.csv: line 3: .*"x"/,
        ],
        [["--data-dir", `${dir}/none`], /IdxError: .*IDX file not found/],
        [["--port", "abc"], /--port "abc"/],
        [["--bogus"], /bogus/],
      ];
      for (const [args, want] of cases) {
        const out = await runDeno([
          ...["main.ts", "--port", "0", "--limit", "100", "--no-build"],
          ...["--labels", `${dir}/labels.csv`, "--weights", `${dir}/none.ckpt`],
          ...args,
        ]);
        const text = out.stderr;
        assert(out.code !== 0, `${args}: exit code 0`);
        assertMatch(text, want, args.join(" "));
      }
      // A bad checkpoint is never overwritten by a start attempt.
      assertEquals(await Deno.readTextFile(`${dir}/bad.ckpt`), "garbage");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
