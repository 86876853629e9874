/**
 * The dashboard on a folder with every kind of bad file at once: a PNG bomb,
 * a file whose name forges a start-report line, a link out of the folder,
 * a symlinked labels.csv with a repeated serial, temp files of a killed save.
 * Each is reported in the terminal and on the page; nothing is used silently.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";
import {
  bombPng,
  FASHION_NAMES,
  pngOf,
  sourceImage,
  writeImageFolder,
} from "../support/image_fixtures.ts";
import type { ApiState } from "../lib/protocol/api.ts";

/** The id of a process that has ended (its temp files may go). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

/** Peak resident memory of process `pid` in MiB (Linux). */
function peakMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return m ? Number(m[1]) / 1024 : NaN;
}

Deno.test("a folder of bad files: each reported on the page and in the terminal, none used", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_badfiles_" });
  try {
    const images = `${dir}/images`;
    await writeImageFolder(images, { classes: [0, 1, 7], perClass: 8 });
    const cls = FASHION_NAMES[0];
    await Deno.writeFile(
      `${images}/${cls}/bomb.png`,
      await bombPng(20000, 20000),
    );
    const forged = `evil\nwarning: all labels were deleted x.png`; // no "/" in a name
    await Deno.writeTextFile(`${images}/${cls}/${forged}`, "not a png");
    const { pixels } = await sourceImage("fashion", 1);
    await Deno.writeFile(`${dir}/elsewhere.png`, pngOf(pixels, 1));
    await Deno.symlink(`${dir}/elsewhere.png`, `${images}/${cls}/out.png`);
    // labels.csv lives in a synced folder, behind a link; serial 0 twice.
    await Deno.mkdir(`${dir}/synced`);
    const target = `${dir}/synced/labels.csv`;
    await Deno.writeTextFile(target, "Serial,label\n0,1\n0,2\n");
    await Deno.symlink(target, `${dir}/labels.csv`);
    // Temp files of saves a kill cut short, beside the link, its target and the graph cache.
    const pid = await deadPid();
    await Deno.mkdir(`${dir}/cache`);
    const temps = [
      `${dir}/.labels.index.csv.${pid}-${crypto.randomUUID()}.tmp`,
      `${dir}/synced/.labels.csv.${pid}-${crypto.randomUUID()}.tmp`,
      `${dir}/cache/.label-graph-0123456789abcdef.bin.${pid}-${crypto.randomUUID()}.tmp`,
    ];
    for (const t of temps) await Deno.writeTextFile(t, "half a save");

    const srv = await startServer({
      dir,
      build: true,
      args: ["--images", images],
    });
    try {
      const out = srv.output();
      // The forged line is one escaped line of the report, not a line of its own.
      assert(
        !out.split("\n").some((l) => l.startsWith("warning: all labels were")),
        out,
      );
      assert(out.includes(`${cls}/evil\\nwarning: all labels were`), out);
      assertMatch(out, /removed 3 temp file\(s\) of saves cut short/);
      for (const t of temps) {
        assert(!(await Deno.stat(t).then(() => true, () => false)), t);
      }
      const peak = peakMiB(srv.child.pid);
      // The bomb alone would take ~1.8 GB to decode.
      assert(peak < 1200, `server peak RSS ${peak.toFixed(0)} MiB`);

      const state = (await json(srv.url, "GET", "/api/state"))
        .body as unknown as ApiState;
      const byKind = new Map(state.notices!.map((n) => [n.kind, n]));
      const unreadable = byKind.get("unreadable-images")!;
      assert(
        unreadable.items.some((i) =>
          i.startsWith(`${cls}/bomb.png: 20000×20000 pixels (400 megapixels)`)
        ),
        unreadable.items.join("\n"),
      );
      assert(
        unreadable.items.some((i) => i.startsWith(`${cls}/evil\\nwarning:`)),
        unreadable.items.join("\n"),
      );
      const skipped = byKind.get("skipped-files")!;
      assert(
        skipped.items.some((i) =>
          i.startsWith(`${cls}/out.png: symbolic link out of the folder`)
        ),
        skipped.items.join("\n"),
      );
      assertEquals(byKind.get("duplicate-serials")!.items, [
        "Serial 0: lines 2 (label 1), 3 (label 2) → kept line 3",
      ]);
      // The page shows them from its first paint.
      const page = await (await fetch(`${srv.url}/`)).text();
      assertMatch(page, /id="file-notices"/);
      assertMatch(page, /problems found in your files/);

      // A label (a chunked body, as a stream) goes through the link.
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"label":2}'));
          c.close();
        },
      });
      const put = await fetch(`${srv.url}/api/labels/5`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body,
        // @ts-ignore: Deno's fetch takes duplex for a streamed body
        duplex: "half",
      });
      assertEquals(put.status, 200, await put.text());
      assert((await Deno.lstat(`${dir}/labels.csv`)).isSymlink);
      assertMatch(await Deno.readTextFile(target), /^Serial,label\n0,2\n/);
      assertMatch(await Deno.readTextFile(target), /\n\d+,2\n/);

      // No --holdout: a run is not scored, and that is said where scores
      // would be, not logged as a failure.
      assertEquals(state.dataset?.hasTest, false);
      assertMatch(page, /No test set/);
      const ws = await connectWs(srv.wsUrl);
      try {
        const started = await json(srv.url, "POST", "/api/training/start", {
          epochs: 1,
        });
        assertEquals(started.status, 202, JSON.stringify(started.body));
        const ev = await ws.waitFor((m) => m.type === "evaluation", 120_000);
        assertEquals(ev.message, undefined, JSON.stringify(ev));
        await ws.waitFor((m) => m.type === "training_complete", 120_000);
      } finally {
        await ws.close();
      }
      assert(!srv.output().includes("evaluation failed"), srv.output());

      // A long static path: a 404 that names no path of this machine.
      const long = await fetch(`${srv.url}/static/${"a".repeat(300)}`);
      assertEquals(long.status, 404);
      const text = await long.text();
      assert(!text.includes("/") && !text.includes("aaaa"), text);
      assert(!srv.output().includes("legacy behavior"), srv.output());
      assert(!srv.output().includes("File name too long"), srv.output());
    } finally {
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
