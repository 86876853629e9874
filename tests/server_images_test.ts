/**
 * The dashboard on a folder of images (`--images`): the real server on a
 * folder written from Fashion-MNIST (class sub-folders, colour, corrupt
 * files), over HTTP: names and shape in the state, labels written by serial
 * with the index beside them, exports by path, a restart after files were
 * added and removed, and the label graph on folder images.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { readIndex } from "../lib/images/index_file.ts";
import { json, rawRequest } from "../support/api_client.ts";
import { readLabelsCsv, startServer } from "../support/server_process.ts";
import {
  pngOf,
  sourceImage,
  tint,
  writeImageFolder,
} from "../support/image_fixtures.ts";

Deno.test("dashboard on an image folder: named classes, colour, serials, export, restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_srv_images_" });
  const fx = await writeImageFolder(`${dir}/pets`, { perClass: 10 });
  const args = [
    "--images",
    fx.dir,
    "--color",
    "--image-size",
    "20",
    "--holdout",
    "0.2",
  ];
  let srv = await startServer({ build: false, dir, args });
  try {
    const out = srv.output();
    for (const bad of fx.corrupt) {
      assertMatch(out, new RegExp(`${bad}: `), "corrupt files are named");
    }
    assertMatch(out, /notes\.txt: not a \.png, \.jpg or \.jpeg file/);
    const state = (await json(srv.url, "GET", "/api/state")).body;
    const ds = state.dataset as Record<string, unknown>;
    assertEquals(ds.classes, ["tshirt", "trouser", "sneaker", "bag"]);
    assertEquals([ds.kind, ds.rows, ds.cols, ds.channels], [
      "images",
      20,
      20,
      3,
    ]);
    assertEquals((state.config as Record<string, number>).input_dim, 1200);
    const count = state.count as number;
    assert(count > 25 && count < 40, `count ${count}`);
    assertEquals((state.countsPerClass as number[]).length, 4);

    const s = (await json(srv.url, "GET", "/api/samples/2")).body;
    assertEquals(s.channels, 3);
    assertEquals(atob(s.original as string).length, 1200);
    assertEquals(
      (s.probs as number[]).slice(4).reduce((a, b) => a + b, 0),
      0,
      "no mass on classes that do not exist",
    );
    const path2 = s.path as string;
    assert(fx.truth.has(path2));

    const thumbs = await fetch(`${srv.url}/api/thumbnails?indices=0,1`);
    assertEquals(thumbs.headers.get("X-Image-Channels"), "3");
    assertEquals((await thumbs.arrayBuffer()).byteLength, 2 * 1200);

    // Labels are class indices bounded by the 4 classes; the row is the file's serial.
    assertEquals(
      (await json(srv.url, "PUT", "/api/labels/2", { label: 4 })).status,
      400,
    );
    assertEquals(
      (await json(srv.url, "PUT", "/api/labels/2", { label: 3 })).status,
      200,
    );
    const index = await readIndex(`${dir}/labels.index.csv`);
    const serialOf = new Map([...index].map(([serial, p]) => [p, serial]));
    assertEquals([...(await readLabelsCsv(srv.labelsPath))], [[
      serialOf.get(path2)!,
      3,
    ]]);
    const byPath =
      await (await fetch(`${srv.url}/api/labels/export?format=paths`)).text();
    assertEquals(byPath, `path,class\n${path2},bag\n`);
    const exported =
      (await json(srv.url, "GET", "/api/labels/export?format=json")).body;
    assertEquals(exported.classes, ["tshirt", "trouser", "sneaker", "bag"]);
    assertEquals((exported.labels as unknown[])[0], {
      index: 2,
      label: 3,
      class: "bag",
      path: path2,
    });
    await srv.stop();

    // Add a file that sorts first and remove another: the label stays with its file.
    const removed = [...fx.truth.keys()].find((p) =>
      p !== path2 && p.startsWith("bag/")
    )!;
    await Deno.remove(`${fx.dir}/${removed}`);
    const { pixels } = await sourceImage("fashion", 900);
    await Deno.writeFile(
      `${fx.dir}/bag/000_added.png`,
      pngOf(tint(pixels, 8), 3),
    );
    srv = await startServer({ build: false, dir, args, graph: true });
    assertMatch(
      srv.output(),
      new RegExp(
        `1 file\\(s\\) in the index are gone: their serials and labels are kept\\n\\s+${removed}`,
      ),
    );
    const after = (await json(srv.url, "GET", "/api/state")).body;
    const at = (await Promise.all(
      Array.from(
        { length: after.count as number },
        (_, i) => json(srv.url, "GET", `/api/samples/${i}`),
      ),
    )).find((r) => r.body.path === path2)!.body;
    assertEquals(at.label, 3, "the label followed its file");
    const newSerial = await readIndex(`${dir}/labels.index.csv`);
    assertEquals(
      Math.max(...newSerial.keys()),
      index.size,
      "the added file got the next serial",
    );
    // The label graph builds on folder images and propagates the one label.
    const { connectWs } = await import("../support/api_client.ts");
    const ws = await connectWs(srv.wsUrl);
    try {
      await ws.waitFor(
        (m) => m.type === "latent_updated" && m.source === "labels",
        120_000,
      );
    } finally {
      await ws.close();
    }
    const probs = new Uint8Array(
      await (await fetch(`${srv.url}/api/probs`)).arrayBuffer(),
    );
    assertEquals(new DataView(probs.buffer).getUint32(12, true), 10);
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--images: a folder that is missing or holds no image is a clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_srv_images_" });
  try {
    await assertRejects(
      () =>
        startServer({
          build: false,
          dir,
          args: ["--images", `${dir}/missing`],
        }),
      Error,
      /could not start: FolderError: .*missing: cannot open the image folder/,
    );
    await Deno.mkdir(`${dir}/empty`);
    await Deno.writeTextFile(`${dir}/empty/readme.md`, "x");
    await assertRejects(
      () =>
        startServer({ build: false, dir, args: ["--images", `${dir}/empty`] }),
      Error,
      /no PNG or JPEG image could be read/,
    );
    await assertRejects(
      () =>
        startServer({
          build: false,
          dir,
          args: ["--images", `${dir}/empty`, "--data-dir", dir],
        }),
      Error,
      /--images and --data-dir exclude each other/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the progress page of a first decode: counts, ETA, then the port is free again", async () => {
  const { ProgressServer } = await import("../lib/server/progress_server.ts");
  const { progressLine } = await import("../lib/images/progress_bar.ts");
  const lines: string[] = [];
  const page = new ProgressServer("127.0.0.1", 0, (l) => lines.push(l));
  try {
    assertMatch(lines[0], /progress page at http:\/\/127\.0\.0\.1:\d+\//);
    const p = { done: 1500, total: 6000, failed: 2, seconds: 3, etaSeconds: 9 };
    page.update(p);
    const base = `http://127.0.0.1:${page.port}`;
    const body = await (await fetch(`${base}/api/progress`)).json();
    assertEquals({ ...body, line: undefined }, { ...p, line: undefined });
    assertEquals(body.line, progressLine(p));
    assertEquals(
      body.line,
      "decoding images [######------------------] 1,500/6,000 25% · 2 failed · 3 s · ETA 9 s",
    );
    const home = await fetch(`${base}/`);
    assertMatch(await home.text(), /<progress id="bar"/);
    // The app's headers: its CSP (no inline script, so the script is a file).
    assertMatch(
      home.headers.get("content-security-policy")!,
      /script-src 'self'/,
    );
    assertEquals(home.headers.get("x-frame-options"), "DENY");
    const script = await fetch(`${base}/progress.js`);
    assertMatch(await script.text(), /api\/progress/);
    // The app's Host guard: a rebinding page's Host gets nothing.
    const foreign = await rawRequest(page.port, [
      "GET /api/progress HTTP/1.1",
      "Host: evil.example",
    ]);
    assertEquals(foreign.status, 403);
    assert(!foreign.text.includes("etaSeconds"), foreign.text);
    const cross = await fetch(`${base}/api/progress`, {
      method: "POST",
      headers: { Origin: "http://evil.example" },
    });
    assertEquals(cross.status, 403);
    await cross.body?.cancel();
  } finally {
    await page.close();
  }
  // The dashboard can bind the same port right away.
  const again = Deno.listen({ hostname: "127.0.0.1", port: page.port });
  again.close();
});
