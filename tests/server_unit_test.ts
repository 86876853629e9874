/** Unit tests of the server's pure parts: options, validation, security, latent, static, hub. */

import { Hono } from "hono";
import { etag as revalidate } from "hono/etag";
import { assert, assertEquals } from "./assert.ts";
import { OptionsError, parseOptions } from "../lib/server/options.ts";
import {
  parseDeleteBody,
  parseIndex,
  parseLabelBody,
  parseTrainingBody,
} from "../lib/server/validation.ts";
import {
  allowedHosts,
  isAllowedHost,
  isSameOriginWrite,
} from "../lib/server/guards.ts";
import { contentSecurityPolicy } from "../lib/server/headers.ts";
import { HTTPException } from "hono/http-exception";
import { LatentCache } from "../lib/server/latent_cache.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import {
  isHashedName,
  isImmutableName,
  StaticFiles,
} from "../lib/server/static_files.ts";
import { WsHub } from "../lib/server/ws_hub.ts";

function throwsHttp(fn: () => unknown, status: number) {
  try {
    fn();
  } catch (e) {
    assert(e instanceof HTTPException, `not an HTTPException: ${e}`);
    assertEquals(e.status, status, e.message);
    return;
  }
  throw new Error("did not throw");
}

Deno.test("team options: --db beside the labels by default, --overlap 1-10, --public-url an http(s) origin only", () => {
  const env = (m: Record<string, string>) => (n: string) => m[n];
  const d = parseOptions(["--labels", "/data/x/labels.csv"], env({}));
  assert(d !== "help");
  assertEquals([d.dbPath, d.overlap, d.publicUrl], [
    "/data/x/labels.team.sqlite",
    1,
    undefined,
  ]);
  const t = parseOptions([
    "--db",
    "postgres://ssvae@db/labels",
    "--overlap",
    "3",
    "--public-url",
    "https://labels.example.org",
  ], env({}));
  assert(t !== "help");
  assertEquals([t.dbPath, t.overlap, t.publicUrl], [
    "postgres://ssvae@db/labels",
    3,
    "https://labels.example.org",
  ]);
  for (
    const [args, says] of [
      [["--overlap", "0"], /--overlap "0": expected an integer 1-10/],
      [["--overlap", "11"], /1-10/],
      [["--overlap", "two"], /1-10/],
      [["--public-url", "labels.example.org"], /expected a URL/],
      [["--public-url", "ftp://labels.example.org"], /http\(s\)/],
      [["--public-url", "https://labels.example.org/app"], /nothing after it/],
      [["--public-url", "https://u:p@labels.example.org"], /nothing after it/],
    ] as const
  ) {
    try {
      parseOptions([...args], env({}));
      throw new Error(`accepted ${args}`);
    } catch (err) {
      assert(err instanceof OptionsError, `${args}: ${err}`);
      assert(says.test(err.message), `${args}: ${err.message}`);
    }
  }
});

Deno.test("options: flags beat env, env beats defaults, bad values refused", () => {
  const env = (m: Record<string, string>) => (n: string) => m[n];
  const d = parseOptions([], env({}));
  assert(d !== "help");
  assertEquals(d.port, 8000);
  assertEquals(d.host, "127.0.0.1");
  assertEquals(d.labelsPath, "data/mnist/labels.csv");
  assertEquals(d.weightsPath, "artifacts/checkpoints/ssvae.ckpt");
  assertEquals(d.limit, undefined);
  const e = parseOptions([], env({ SSVAE_PORT: "9000", SSVAE_LIMIT: "50" }));
  assert(e !== "help");
  assertEquals([e.port, e.limit], [9000, 50]);
  const f = parseOptions(
    ["--port", "0", "--limit", "7", "--data-dir", "/x"],
    env({ SSVAE_PORT: "9000" }),
  );
  assert(f !== "help");
  assertEquals([f.port, f.limit, f.dataDir], [0, 7, "/x"]);
  assertEquals(parseOptions(["--help"], env({})), "help");
  for (
    const args of [
      ["--port", "x"],
      ["--port", "70000"],
      ["--limit", "0"],
      ["--limit", "1.5"],
      ["--bogus"],
      ["extra"],
    ]
  ) {
    try {
      parseOptions(args, env({}));
      throw new Error(`accepted ${args}`);
    } catch (err) {
      assert(err instanceof OptionsError, `${args}: ${err}`);
    }
  }
});

Deno.test("validation: indices, labels, training bodies", () => {
  assertEquals(parseIndex("0", 10), 0);
  assertEquals(parseIndex("9", 10), 9);
  throwsHttp(() => parseIndex("10", 10), 404);
  for (
    const bad of ["", "-1", "1.0", "1e2", " 1", "0x1", "abc", "1234567890"]
  ) {
    throwsHttp(() => parseIndex(bad, 10), 400);
  }
  assertEquals(parseLabelBody({ label: 0 }), {
    label: 0,
    clientTime: undefined,
  });
  assertEquals(parseLabelBody({ label: 9, clientTime: 5 }), {
    label: 9,
    clientTime: 5,
  });
  for (
    const bad of [
      {},
      { label: 10 },
      { label: -1 },
      { label: 3.5 },
      { label: "3" },
      { label: null },
      { label: 1, x: 1 },
      { label: 1, clientTime: NaN },
    ]
  ) {
    throwsHttp(() => parseLabelBody(bad as Record<string, unknown>), 400);
  }
  assertEquals(parseDeleteBody(undefined, undefined), {});
  assertEquals(parseDeleteBody({ clientTime: 3 }, undefined), {
    clientTime: 3,
  });
  assertEquals(parseDeleteBody(undefined, "12"), { clientTime: 12 });
  throwsHttp(() => parseDeleteBody({ label: 1 }, undefined), 400);
  throwsHttp(() => parseDeleteBody(undefined, "-3"), 400);

  assertEquals(parseTrainingBody({ epochs: 5 }), { epochs: 5, overrides: {} });
  assertEquals(
    parseTrainingBody({
      epochs: 200,
      recon_weight: 0,
      kl_weight: 1,
      learning_rate: 1e-4,
    }),
    {
      epochs: 200,
      overrides: { recon_weight: 0, kl_weight: 1, learning_rate: 1e-4 },
    },
  );
  for (
    const bad of [
      {},
      { epochs: 0 },
      { epochs: 201 },
      { epochs: 1.5 },
      { epochs: "2" },
      { epochs: 1, recon_weight: 5001 },
      { epochs: 1, kl_weight: -0.1 },
      { epochs: 1, learning_rate: 0.02 },
      { epochs: 1, learning_rate: "0.001" },
      { epochs: 1, patience: 3 },
    ]
  ) {
    throwsHttp(() => parseTrainingBody(bad as Record<string, unknown>), 400);
  }
});

Deno.test("security: Host and Origin rules", () => {
  const addr = { host: "127.0.0.1", port: 8000 };
  assertEquals(
    [...allowedHosts(addr)].sort(),
    ["127.0.0.1:8000", "[::1]:8000", "localhost:8000"],
  );
  assert(isAllowedHost("localhost:8000", addr));
  assert(isAllowedHost("LocalHost:8000", addr));
  assert(!isAllowedHost("localhost", addr));
  assert(!isAllowedHost("evil.com:8000", addr));
  assert(!isAllowedHost(undefined, addr));
  // A specific --host is allowed too; a wildcard adds nothing.
  assert(
    isAllowedHost("192.168.1.5:8000", { host: "192.168.1.5", port: 8000 }),
  );
  assertEquals(allowedHosts({ host: "0.0.0.0", port: 1 }).size, 3);

  assert(isSameOriginWrite("http://127.0.0.1:8000", undefined, addr));
  assert(isSameOriginWrite("http://localhost:8000", "same-origin", addr));
  assert(isSameOriginWrite(undefined, undefined, addr)); // curl
  assert(isSameOriginWrite(undefined, "same-origin", addr));
  assert(!isSameOriginWrite(undefined, "cross-site", addr));
  assert(!isSameOriginWrite(undefined, "same-site", addr));
  assert(!isSameOriginWrite("null", undefined, addr));
  assert(!isSameOriginWrite("http://evil.com", "same-origin", addr));
  assert(!isSameOriginWrite("https://127.0.0.1:8000", undefined, addr));
  assert(!isSameOriginWrite("http://127.0.0.1:8001", undefined, addr));
  assert(!isSameOriginWrite("http://127.0.0.1:8000/path", undefined, addr));

  const csp = contentSecurityPolicy("127.0.0.1:8000");
  assert(csp.includes("script-src 'self';"));
  assert(!csp.includes("unsafe-eval"));
  assert(csp.includes("connect-src 'self' ws://127.0.0.1:8000"));
  assert(csp.includes("frame-ancestors 'none'"));
});

Deno.test("latent cache: encodes once per version, a label change rewrites a copy", () => {
  const n = 5;
  const src = {
    latent: new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    latentDim: 2,
    predClass: new Uint8Array([1, 2, 3, 4, 5]),
    certainty: new Float32Array([0, 0.5, 1, 1.5, NaN]),
    labels: new Float32Array([NaN, 3, NaN, 9, 0]),
    count: n,
  };
  const cache = new LatentCache();
  const a = cache.get(src, 1, 0);
  assert(cache.get(src, 1, 0).bytes === a.bytes, "not cached");
  src.labels[0] = 4;
  const b = cache.get(src, 1, 1);
  assert(b.bytes !== a.bytes && b.etag !== a.etag);
  assertEquals(decodeLatent(a.bytes).userLabel[0], -1); // old bytes untouched
  assertEquals(decodeLatent(b.bytes).userLabel[0], 4);
  assertEquals(decodeLatent(cache.get(src, 2, 1).bytes).version, 2);
});

Deno.test("static files: types, ETag/304, cache policy, no traversal", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/vendor`);
    await Deno.mkdir(`${root}/build`);
    await Deno.writeTextFile(`${root}/vendor/plotly.min.js`, "var P=1;");
    await Deno.writeTextFile(`${root}/build/app-3F7ZQ2XA.js`, "app();");
    await Deno.writeTextFile(`${root}/build/app.js`, "app();");
    await Deno.writeTextFile(`${root}/style.css`, "body{}");
    await Deno.writeTextFile(`${root}/.secret`, "x");
    const files = new StaticFiles(root);
    // As routes/app.ts serves them: hono/etag turns a matching ETag into 304.
    const app = new Hono().get(
      "/static/*",
      revalidate(),
      async (c) =>
        (await files.serve(c.req.raw, c.req.path.slice("/static/".length))) ??
          c.notFound(),
    );
    const get = async (rel: string, headers: Record<string, string> = {}) =>
      await app.request(`/static/${rel}`, { headers });

    const css = (await get("style.css"))!;
    assertEquals(css.status, 200);
    assertEquals(css.headers.get("content-type"), "text/css; charset=utf-8");
    assertEquals(css.headers.get("cache-control"), "no-cache");
    assertEquals(await css.text(), "body{}");
    const etag = css.headers.get("etag")!;
    assertEquals(
      (await get("style.css", { "if-none-match": etag }))!.status,
      304,
    );
    assertEquals(
      (await get("style.css", { "if-none-match": `W/${etag}` }))!.status,
      304,
    );

    const hashed = (await get("build/app-3F7ZQ2XA.js"))!;
    assertEquals(
      hashed.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
    assertEquals(
      hashed.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    await hashed.body?.cancel();
    const plain = (await get("build/app.js"))!;
    assertEquals(plain.headers.get("cache-control"), "no-cache");
    await plain.body?.cancel();
    const vendor = (await get("vendor/plotly.min.js"))!;
    assertEquals(vendor.headers.get("cache-control"), "public, max-age=604800");
    await vendor.body?.cancel();

    // A changed file gets a new ETag (mtime/size revalidation of the memory
    // cache): first the same size with a later mtime, set outright rather
    // than waited for, then another size.
    await Deno.writeTextFile(`${root}/style.css`, "p{b:1}"); // as "body{}"
    const later = new Date(
      Deno.statSync(`${root}/style.css`).mtime!.getTime() + 60_000,
    );
    await Deno.utime(`${root}/style.css`, later, later);
    const same = (await get("style.css", { "if-none-match": etag }))!;
    assertEquals(same.status, 200, "same size, later mtime: served again");
    assertEquals(await same.text(), "p{b:1}");
    const etag2 = same.headers.get("etag")!;
    await Deno.writeTextFile(`${root}/style.css`, "body{color:red}");
    const css2 = (await get("style.css", { "if-none-match": etag2 }))!;
    assertEquals(css2.status, 200);
    assertEquals(await css2.text(), "body{color:red}");

    for (
      const bad of [
        "../x",
        "%2e%2e/x",
        "a/../../x",
        ".secret",
        "build/.hidden",
        "a\\b",
        "%00",
        "nope.js",
        "build",
        "",
      ]
    ) {
      // The traversal check is the file layer's own: no response at all.
      const direct = new Request(`http://h/static/${bad}`);
      assertEquals(await files.serve(direct, bad), null, bad);
    }
    assert(isHashedName("index-5GHQ7A2B.js"));
    assert(isHashedName("chunk.a1b2c3d4e5.css"));
    assert(!isHashedName("plotly.min.js"));
    assert(!isHashedName("dashboard.js"));
    assert(!isHashedName("manifest.webmanifest"));
    assert(isImmutableName("vendor/plotly-strict-3.7.0.min.js"));
    assert(!isImmutableName("vendor/plotly.min.js"));
    assert(!isImmutableName("app-1.2.3.js"));
    // A ?v= that matches the content's hash makes even a plain name immutable.
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode("app();")),
    );
    const v = [...digest.slice(0, 6)].map((b) =>
      b.toString(16).padStart(2, "0")
    ).join("");
    const withV = (await files.serve(
      new Request(`http://h/static/build/app.js?v=${v}`),
      "build/app.js",
    ))!;
    assertEquals(
      withV.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
    await withV.body?.cancel();
    const staleV = (await files.serve(
      new Request("http://h/static/build/app.js?v=000000000000"),
      "build/app.js",
    ))!;
    assertEquals(staleV.headers.get("cache-control"), "no-cache");
    await staleV.body?.cancel();
    // If-None-Match lists and "*" (hono/etag's comparison).
    const tag = (await get("style.css")).headers.get("etag")!;
    for (
      const [inm, status] of [[`"a", ${tag}`, 304], ["*", 304], ['"a"', 200]]
    ) {
      const res = await get("style.css", { "if-none-match": String(inm) });
      assertEquals(res.status, status, String(inm));
      await res.body?.cancel();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hub: hello first, increasing seq, closed sockets dropped", () => {
  const hub = new WsHub();
  const sent: string[][] = [[], []];
  const sock = (i: number, state = { readyState: 1 }) => ({
    get readyState() {
      return state.readyState;
    },
    bufferedAmount: 0,
    send: (d: string) => sent[i].push(d),
    close: () => {
      state.readyState = 3;
    },
  });
  const s0State = { readyState: 1 };
  hub.add(sock(0, s0State), () => ({ status: "idle" }));
  hub.broadcast("epoch", { epoch: 1 });
  hub.add(sock(1), () => ({ status: "training" }));
  hub.broadcast("epoch", { epoch: 2 });
  s0State.readyState = 3;
  hub.broadcast("latent_updated", { version: 2 });
  const m0 = sent[0].map((s) => JSON.parse(s));
  const m1 = sent[1].map((s) => JSON.parse(s));
  assertEquals(m0.map((m) => m.type), ["hello", "epoch", "epoch"]);
  assertEquals(m1.map((m) => m.type), ["hello", "epoch", "latent_updated"]);
  assertEquals(m0.map((m) => m.seq), [1, 2, 4]);
  assertEquals(m1.map((m) => m.seq), [3, 4, 5]);
  assertEquals(hub.size, 1);
});
