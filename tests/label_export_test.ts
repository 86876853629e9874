/**
 * `deno task labels --export`: the labels as training code reads them,
 * checked by the reader itself — Debian's python3 with torchvision's
 * `datasets.ImageFolder` loads every exported image with its class — for
 * MNIST (PNG files written) and an image folder (links and copies).
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { runDeno } from "../support/server_process.ts";
import { writeImageFolder } from "../support/image_fixtures.ts";

function torchvisionAvailable(): boolean {
  try {
    return new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import torchvision"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}
const HAVE_TORCHVISION = torchvisionAvailable();
if (!HAVE_TORCHVISION) {
  console.warn(
    "label_export_test: python3-torchvision is missing (apt-get install python3-torchvision): skipped",
  );
}

/**
 * Loads `out` with torchvision's ImageFolder and checks every sample against
 * the JSON export `rows` (class by the file's original path, or by serial
 * for MNIST); prints "ok N classes".
 */
const CHECK = `
import json, os, sys
from torchvision import datasets
out, rows_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
rows = json.load(open(rows_path))["labels"]
ds = datasets.ImageFolder(out)
assert len(ds) == len(rows), (len(ds), len(rows))
by_path = {r["path"]: r for r in rows if "path" in r}
by_index = {r["index"]: r for r in rows}
for i, (path, target) in enumerate(ds.samples):
    folder = ds.classes[target]
    name = os.path.basename(path)
    if mode == "pixels":
        r = by_index[int(name.split(".")[0])]
        want = r.get("class", str(r["label"]))
    else:
        # <serial>_<original name>; a link points at the original, a copy
        # holds its bytes.
        original = name.split("_", 1)[1]
        match = [p for p in by_path if os.path.basename(p) == original]
        assert len(match) == 1, (path, match)
        source = os.path.join(sys.argv[4], match[0])
        if mode == "link":
            assert os.path.islink(path), path
            assert os.path.realpath(path) == os.path.realpath(source), path
        else:
            assert not os.path.islink(path), path
            assert open(path, "rb").read() == open(source, "rb").read(), path
        want = by_path[match[0]]["class"]
    assert folder == want, (path, folder, want)
    img, _ = ds[i]
    assert img.size[0] > 0 and img.size[1] > 0
print("ok", len(ds), len(ds.classes))
`;

async function python(args: string[]): Promise<string> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", CHECK, ...args],
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert(out.success, text);
  return text.trim();
}

Deno.test({
  name:
    "exports load in torchvision's ImageFolder: MNIST as PNGs, a folder linked and copied",
  ignore: !HAVE_TORCHVISION,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "ssvae_export_" });
    try {
      await t.step("MNIST: PNG files, one folder per digit", async () => {
        const labels = `${dir}/mnist.csv`;
        const rows = Array.from({ length: 30 }, (_, k) => `${k * 3},${k % 10}`);
        await Deno.writeTextFile(labels, `Serial,label\n${rows.join("\n")}\n`);
        const base = ["cli/labels.ts", "--labels", labels, "--limit", "200"];
        const json = await runDeno([
          ...base,
          "--export",
          "json",
          "--out",
          `${dir}/mnist.json`,
        ]);
        assertEquals(json.code, 0, json.output);
        const r = await runDeno([
          ...base,
          "--export",
          "imagefolder",
          "--out",
          `${dir}/mnist-out`,
        ]);
        assertEquals(r.code, 0, r.output);
        assertMatch(r.stdout, /30 images in 10 class folders \(PNG files\)/);
        assertEquals(
          await python([`${dir}/mnist-out`, `${dir}/mnist.json`, "pixels"]),
          "ok 30 10",
        );
        // The export's own labels.csv says the same, with the class numbers.
        const csv = await Deno.readTextFile(`${dir}/mnist-out/labels.csv`);
        assertEquals(csv.split("\n")[0], "path,label,class");
        assert(csv.includes("\n3/9.png,3,3\n"), csv.slice(0, 200));
        // Never into a folder that holds something.
        const again = await runDeno([
          ...base,
          "--export",
          "imagefolder",
          "--out",
          `${dir}/mnist-out`,
        ]);
        assertEquals(again.code, 1);
        assertMatch(again.output, /is not empty/);
        const bad = await runDeno([
          ...base,
          "--export",
          "parquet",
          "--out",
          "x",
        ]);
        assertEquals(bad.code, 1);
        assertMatch(bad.output, /--export takes imagefolder, csv or json/);
      });

      await t.step(
        "an image folder: links by default, copies with --copy",
        async () => {
          const fx = await writeImageFolder(`${dir}/set`, { perClass: 5 });
          const labels = `${dir}/set-labels.csv`;
          // Serials follow the paths' order; label the first 16 round-robin.
          const rows = Array.from({ length: 16 }, (_, k) => `${k},${k % 4}`);
          await Deno.writeTextFile(
            labels,
            `Serial,label\n${rows.join("\n")}\n`,
          );
          const base = [
            "cli/labels.ts",
            "--images",
            fx.dir,
            "--labels",
            labels,
          ];
          const json = await runDeno([
            ...base,
            "--export",
            "json",
            "--out",
            `${dir}/set.json`,
          ]);
          assertEquals(json.code, 0, json.output);
          const linked = await runDeno([
            ...base,
            "--export",
            "imagefolder",
            "--out",
            `${dir}/linked`,
          ]);
          assertEquals(linked.code, 0, linked.output);
          // Serials of unreadable files (two in the fixture) are no images.
          const n = JSON.parse(await Deno.readTextFile(`${dir}/set.json`))
            .labelled as number;
          assert(n >= 14 && n <= 16, `${n} labelled`);
          assert(
            linked.stdout.includes(`${n} images in 4 class folders (links)`),
            linked.stdout,
          );
          assertEquals(
            await python([`${dir}/linked`, `${dir}/set.json`, "link", fx.dir]),
            `ok ${n} 4`,
          );
          const copied = await runDeno([
            ...base,
            "--export",
            "imagefolder",
            "--copy",
            "--out",
            `${dir}/copied`,
          ]);
          assertEquals(copied.code, 0, copied.output);
          assertEquals(
            await python([`${dir}/copied`, `${dir}/set.json`, "copy", fx.dir]),
            `ok ${n} 4`,
          );
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
