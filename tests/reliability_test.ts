/**
 * Nothing wrong is loaded silently (the quick part of the reliability suite;
 * `deno task bench:chaos` runs the long one): image bombs refused by their
 * header, damaged caches reported and rebuilt, labels.csv's repeated serials
 * and detached labels reported, links out of the folder skipped.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import {
  decodeImage,
  headerSize,
  ImageTooLargeError,
} from "../lib/images/decode.ts";
import { folderNotices, prepareImageFolder } from "../lib/images/prepare.ts";
import { indexPathFor, updateIndex } from "../lib/images/index_file.ts";
import { cachePathFor } from "../lib/images/cache.ts";
import { scanFolder } from "../lib/images/scan.ts";
import { LabelStore } from "../lib/labels/labels_store.ts";
import { LabelGraph } from "../lib/graph/label_graph.ts";
import { isSealed } from "../lib/cache_file.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { initBackend } from "../lib/ssvae/backend.ts";
import { printable } from "../lib/quote_input.ts";
import { DEFAULT_MAX_MEGAPIXELS } from "../lib/protocol/limits.ts";
import {
  bombPng,
  jpegOf,
  pngOf,
  sourceImage,
} from "../support/image_fixtures.ts";

const GREY = { width: 28, height: 28, channels: 1 as const };
const CAP = DEFAULT_MAX_MEGAPIXELS * 1e6;

async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `n` small PNGs (MNIST digits) under `dir/sub`. */
async function writeDigits(dir: string, n: number, sub = ""): Promise<void> {
  await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
  for (let i = 0; i < n; i++) {
    const { pixels } = await sourceImage("mnist", i);
    await Deno.writeFile(
      `${dir}/${sub}${sub ? "/" : ""}d${String(i).padStart(3, "0")}.png`,
      pngOf(pixels, 1),
    );
  }
}

/** `n` digits in `dir/images`, and the options that read them (labels beside). */
async function digitFolder(dir: string, n: number) {
  await writeDigits(`${dir}/images`, n);
  return {
    dir: `${dir}/images`,
    labelsPath: `${dir}/labels.csv`,
    shape: GREY,
    threads: 1,
  };
}

Deno.test("a decompression bomb is refused by its header, before decoding: memory stays flat", async () => {
  // The generator makes real PNGs: a small one decodes.
  const small = await bombPng(64, 48);
  assertEquals(headerSize(small), { width: 64, height: 48 });
  assertEquals((await decodeImage(small, GREY, CAP)).length, 784);
  await withTempDir("ssvae_bomb_", async (dir) => {
    await writeDigits(`${dir}/images`, 3);
    // ~390 KB on disk, 400 MB of pixels once decoded.
    const bomb = await bombPng(20000, 20000);
    assert(bomb.length < 1_000_000, `${bomb.length} bytes`);
    await Deno.writeFile(`${dir}/images/bomb.png`, bomb);
    const before = Deno.memoryUsage().rss;
    const p = await prepareImageFolder({
      dir: `${dir}/images`,
      labelsPath: `${dir}/labels.csv`,
      shape: GREY,
      maxPixels: CAP,
      threads: 1,
    });
    const grew = (Deno.memoryUsage().rss - before) / 2 ** 20;
    assert(grew < 200, `RSS grew by ${grew.toFixed(0)} MiB`);
    assertEquals(p.train.count, 3);
    assertEquals(p.report.failed.map((f) => f.path), ["bomb.png"]);
    assertMatch(
      p.report.failed[0].error,
      /20000×20000 pixels \(400 megapixels\) is over the limit of 50/,
    );
    const notice = folderNotices(p.report).find((n) =>
      n.kind === "unreadable-images"
    )!;
    assertMatch(notice.items[0], /^bomb\.png: .*--max-megapixels/);
  });
  // A JPEG whose frame header declares 20000×20000 is refused the same way.
  const jpeg = await jpegOf((await sourceImage("mnist", 0)).pixels, 1);
  const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc0);
  assert(sof > 0, "a baseline JPEG has an SOF0 segment");
  const view = new DataView(jpeg.buffer, jpeg.byteOffset);
  view.setUint16(sof + 5, 20000);
  view.setUint16(sof + 7, 20000);
  assertEquals(headerSize(jpeg), { width: 20000, height: 20000 });
  await assertRejects(
    () => decodeImage(jpeg, GREY, CAP),
    ImageTooLargeError,
    "over the limit",
  );
});

Deno.test("a pixel cache with flipped bytes is reported and the images decoded again", async () => {
  await withTempDir("ssvae_pixcache_", async (dir) => {
    const opts = await digitFolder(dir, 6);
    const first = await prepareImageFolder(opts);
    const truth = first.train.raw.slice();
    const path = cachePathFor(indexPathFor(opts.labelsPath), GREY);
    const bytes = await Deno.readFile(path);
    assert(isSealed(bytes));
    // Pixels of the last image, inside the block.
    for (let i = bytes.length - 300; i < bytes.length - 200; i++) {
      bytes[i] ^= 0xff;
    }
    await Deno.writeFile(path, bytes);
    const again = await prepareImageFolder(opts);
    assertEquals(again.report.fromCache, 0);
    assertMatch(again.report.cacheProblem ?? "", /checksum mismatch/);
    assertEquals([...again.train.raw], [...truth]);
    const notice = folderNotices(again.report)[0];
    assertEquals(notice.kind, "cache-rebuilt");
    assertMatch(notice.title, /not used, the images were decoded again/);
    // Rewritten sealed: the third start reads it, silently.
    const third = await prepareImageFolder(opts);
    assertEquals(third.report.fromCache, 6);
    assertEquals(third.report.cacheProblem, null);
  });
});

Deno.test("label graph cache: damaged (sealed or not) is reported and rebuilt, an intact earlier-version file is sealed", async () => {
  await initBackend();
  const n = 1200;
  const train = await loadTrainImages({ limit: n });
  const labels = new Float32Array(n).fill(NaN);
  for (let i = 0; i < 40; i++) labels[i] = train.labels[i];
  await withTempDir("ssvae_graphcache_", async (dir) => {
    const problems: string[] = [];
    const load = () =>
      LabelGraph.loadOrBuild(train.raw, n, 784, dir, {
        features: "pixels",
        seed: 1,
        onCacheProblem: (path, reason) =>
          problems.push(`${path.split("/").pop()}: ${reason}`),
      });
    const fresh = (await load()).graph;
    const expected = [...fresh.propagate(labels).predClass];
    const [file] = [...Deno.readDirSync(dir)].filter((f) =>
      f.name.startsWith("label-graph-")
    );
    const path = `${dir}/${file.name}`;
    const sealed = await Deno.readFile(path);
    assert(isSealed(sealed));

    // 1. Sealed, one byte changed: checksum mismatch, rebuilt, the same graph.
    const damaged = sealed.slice();
    damaged[damaged.length - 1000] ^= 0x40;
    await Deno.writeFile(path, damaged);
    assertEquals(
      [...(await load()).graph.propagate(labels).predClass],
      expected,
    );
    assertEquals(problems.length, 1);
    assertMatch(problems[0], /checksum mismatch/);

    // 2. An earlier version's file (no envelope), intact: used, then sealed.
    const raw = fresh.serialize();
    await Deno.writeFile(path, raw);
    problems.length = 0;
    assertEquals(
      [...(await load()).graph.propagate(labels).predClass],
      expected,
    );
    assertEquals(problems, []);
    assert(isSealed(await Deno.readFile(path)));

    // 3. The same with the high bytes of neighbour indices changed, or a
    //    NaN distance: not used (it would send every label astray).
    const hlen = new DataView(raw.buffer).getUint32(4, true);
    const header = JSON.parse(
      new TextDecoder().decode(raw.subarray(8, 8 + hlen)),
    );
    const indexAt = 8 + hlen + header.lengths[0] + header.lengths[1];
    const distAt = indexAt + header.lengths[2];
    for (
      const corrupt of [
        (b: Uint8Array) => {
          for (let j = 0; j < 50; j++) b[indexAt + 4 * j + 3] = 0x40;
        },
        (b: Uint8Array) =>
          new DataView(b.buffer).setFloat32(distAt + 8, NaN, true),
      ]
    ) {
      const bad = raw.slice();
      corrupt(bad);
      await Deno.writeFile(path, bad);
      problems.length = 0;
      assertEquals(
        [...(await load()).graph.propagate(labels).predClass],
        expected,
      );
      assertEquals(problems.length, 1);
      assertMatch(problems[0], /not a cache of this version, or damaged/);
    }
  });
});

Deno.test("labels.csv: repeated serials are reported with the row kept; a symbolic link is written through", async () => {
  await withTempDir("ssvae_dups_", async (dir) => {
    await Deno.mkdir(`${dir}/synced`);
    const target = `${dir}/synced/labels.csv`;
    await Deno.writeTextFile(
      target,
      "Serial,label\n3,1\n5,2\n3,4\n7,\n7,0\n",
    );
    const link = `${dir}/labels.csv`;
    await Deno.symlink(target, link);
    const warned: string[] = [];
    const store = await LabelStore.open(link, 10, {}, {
      warn: (l) => warned.push(l),
    });
    assertEquals(store.labels[3], 4);
    assertEquals(store.labels[7], 0);
    assertEquals(store.notices.length, 1);
    const n = store.notices[0];
    assertEquals(n.kind, "duplicate-serials");
    assertMatch(
      n.title,
      /2 serial\(s\) are on more than one row; the last row/,
    );
    assertEquals(n.items, [
      "Serial 3: lines 2 (label 1), 4 (label 4) → kept line 4",
      "Serial 7: lines 5 (no label), 6 (label 0) → kept line 6",
    ]);
    assertMatch(warned.join("\n"), /warning: .*more than one row/);
    // A save goes to the file behind the link; the link stays.
    await store.set(1, 6);
    assert((await Deno.lstat(link)).isSymlink);
    assertEquals(
      await Deno.readTextFile(target),
      "Serial,label\n1,6\n3,4\n5,2\n7,0\n",
    );
    store.close();
  });
});

Deno.test("rows removed from the index by hand: their labels are reported as detached, never handed to other files", async () => {
  await withTempDir("ssvae_detached_", async (dir) => {
    const opts = await digitFolder(dir, 4);
    await prepareImageFolder(opts);
    const indexPath = indexPathFor(opts.labelsPath);
    assertEquals(
      await Deno.readTextFile(indexPath),
      "Serial,path\n0,d000.png\n1,d001.png\n2,d002.png\n3,d003.png\n",
    );
    await Deno.writeTextFile(opts.labelsPath, "Serial,label\n0,7\n3,5\n");
    // The user deletes the rows of d000 and d003 (the highest serial).
    await Deno.writeTextFile(
      indexPath,
      "Serial,path\n1,d001.png\n2,d002.png\n",
    );
    const p = await prepareImageFolder(opts);
    // New serials above every serial labels.csv uses: 3 is not reused.
    assertEquals(
      await Deno.readTextFile(indexPath),
      "Serial,path\n1,d001.png\n2,d002.png\n4,d000.png\n5,d003.png\n",
    );
    assertEquals(p.report.detached, [
      { serial: 0, label: "7" },
      { serial: 3, label: "5" },
    ]);
    const n = folderNotices(p.report).find((x) =>
      x.kind === "detached-labels"
    )!;
    assertMatch(
      n.title,
      /2 label\(s\) in labels\.csv name serials that labels\.index\.csv does not have/,
    );
    assertMatch(n.title, /2 file\(s\) got new serials this start/);
    assertEquals(n.items, ["Serial 0: label 7", "Serial 3: label 5"]);
  });
  // The same rule, alone: a new file's serial is above the taken ones.
  const u = updateIndex(new Map([[0, "a.png"]]), ["a.png", "b.png"], [5]);
  assertEquals(u.serialOf.get("b.png"), 6);
});

Deno.test("symbolic links out of the image folder are skipped and listed; --follow-links takes them", async () => {
  await withTempDir("ssvae_links_", async (dir) => {
    await writeDigits(`${dir}/images`, 2, "a");
    await writeDigits(`${dir}/outside`, 2, "more");
    await Deno.symlink(`${dir}/outside/more/d000.png`, `${dir}/images/a/x.png`);
    await Deno.symlink(`${dir}/outside/more`, `${dir}/images/b`);
    // A link that stays inside is fine.
    await Deno.symlink(`${dir}/images/a/d001.png`, `${dir}/images/a/y.png`);
    const scan = await scanFolder(`${dir}/images`);
    assertEquals(scan.images.map((i) => i.path), [
      "a/d000.png",
      "a/d001.png",
      "a/y.png",
    ]);
    const out = scan.skipped.filter((s) => /out of the folder/.test(s.reason));
    assertEquals(out.map((s) => s.path), ["a/x.png", "b"]);
    assertMatch(out[0].reason, /--follow-links takes it/);
    const followed = await scanFolder(`${dir}/images`, { followLinks: true });
    assertEquals(followed.images.length, 6);
  });
});

Deno.test("file names are printed with their control characters escaped", () => {
  assertEquals(printable("cat/001.png"), "cat/001.png");
  assertEquals(
    printable("a\nSSVAE dashboard listening on http://x/\u001b[2J.png"),
    "a\\nSSVAE dashboard listening on http://x/\\x1b[2J.png",
  );
  assertEquals(printable("\u202eevil\\"), "\\u202eevil\\\\");
});
