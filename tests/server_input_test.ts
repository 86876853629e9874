/**
 * Input edges at the API, on a real server: a null `dryRun`, unknown fields
 * on stop, capped echoes of rejected values, mixed line ends (imported and
 * loaded), a read-only labels.csv, and a directory given as the checkpoint
 * (server and CLI).
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { json } from "../support/api_client.ts";
import { runDeno, startServer } from "../support/server_process.ts";

Deno.test("input edges at the API", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_input_" });
  const labelsPath = `${dir}/labels.csv`;
  // A labels.csv edited on two systems: CRLF and LF rows mixed.
  await Deno.writeTextFile(labelsPath, "Serial,label\r\n1,1\n2,2\r\n3,3\n");
  const srv = await startServer({ build: false, dir, limit: 300, labelsPath });
  const { url: base } = srv;
  const label = async (i: number) =>
    (await json(base, "GET", `/api/labels/${i}`)).body.label;
  try {
    // The steps share one server; each checks its own requests (the first
    // reads the labels file it started with, so it comes first).
    await t.step("a labels.csv with mixed line ends loads", async () => {
      const s = (await json(base, "GET", "/api/state")).body;
      assertEquals(s.labelled, 3);
      assertEquals(await label(2), 2);
    });

    await t.step(
      'import: "dryRun": null is a 400 and applies nothing',
      async () => {
        const r = await json(base, "POST", "/api/labels/import", {
          csv: "Serial,label\n10,4\n",
          dryRun: null,
        });
        assertEquals(r.status, 400, JSON.stringify(r.body));
        assertMatch(
          r.body.error as string,
          /dryRun null: expected true or false/,
        );
        assertEquals(await label(10), null);
      },
    );

    await t.step("import: mixed CRLF/LF line ends are accepted", async () => {
      const r = await json(base, "POST", "/api/labels/import", {
        csv: "Serial,label\r\n10,4\n11,5\r\n12,6\n",
      });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      assertEquals(r.body.added, 3);
      assertEquals([await label(10), await label(11), await label(12)], [
        4,
        5,
        6,
      ]);
    });

    await t.step("stop refuses unknown fields", async () => {
      const bad = await json(base, "POST", "/api/training/stop", { now: true });
      assertEquals(bad.status, 400);
      assertMatch(
        bad.body.error as string,
        /unknown field "now"; allowed: none/,
      );
      assertEquals(
        (await json(base, "POST", "/api/training/stop", {})).status,
        202,
      );
      assertEquals(
        (await json(base, "POST", "/api/training/stop")).status,
        202,
      );
    });

    await t.step(
      "a 400 quotes at most 200 characters of the value",
      async () => {
        const deep = "[".repeat(100_000) + "]".repeat(100_000); // 200 KB
        const deep60k = "[".repeat(30_000) + "]".repeat(30_000);
        const cases: Array<[string, string, string]> = [
          ["POST", "/api/labels/import", `{"csv":"","mode":${deep}}`],
          ["PUT", "/api/labels", `{"changes":[{"index":${deep},"label":1}]}`],
          ["PUT", "/api/labels/1", `{"label":"${"x".repeat(60_000)}"}`],
          ["POST", "/api/training/start", `{"epochs":"${"9".repeat(60_000)}"}`],
          ["POST", "/api/training/stop", `{"${"k".repeat(60_000)}":1}`],
          [
            "POST",
            "/api/labels/sync",
            `{"ops":[{"index":0,"label":${deep60k}}]}`,
          ],
          [
            "POST",
            "/api/labels/import",
            JSON.stringify({ csv: `Serial,label\n1,${"7".repeat(300_000)}\n` }),
          ],
        ];
        for (const [method, path, body] of cases) {
          const res = await fetch(base + path, {
            method,
            headers: { "content-type": "application/json" },
            body,
          });
          const text = await res.text();
          assertEquals(
            res.status,
            400,
            `${method} ${path}: ${text.slice(0, 300)}`,
          );
          assert(
            text.length < 600,
            `${method} ${path}: ${text.length} bytes back`,
          );
          assertMatch(text, /…/);
        }
      },
    );

    await t.step(
      "a read-only labels.csv is refused and left untouched",
      async () => {
        const before = await Deno.readFile(labelsPath);
        const labelled = (await json(base, "GET", "/api/state")).body.labelled;
        await Deno.chmod(labelsPath, 0o444);
        try {
          const one = await json(base, "PUT", "/api/labels/20", { label: 3 });
          assertEquals(one.status, 409, JSON.stringify(one.body));
          assertMatch(
            one.body.error as string,
            /labels\.csv is read-only \(mode 0444\): not saved/,
          );
          const batch = await json(base, "PUT", "/api/labels", {
            changes: [{ index: 21, label: 3 }],
          });
          assertEquals(batch.status, 409);
          const del = await json(base, "DELETE", "/api/labels/1");
          assertEquals(del.status, 409);
          const imp = await json(base, "POST", "/api/labels/import", {
            csv: "Serial,label\n22,3\n",
          });
          assertEquals(imp.status, 409);
          assertEquals(await Deno.readFile(labelsPath), before);
          assertEquals((await Deno.stat(labelsPath)).mode! & 0o777, 0o444);
          assertEquals([await label(20), await label(21), await label(22)], [
            null,
            null,
            null,
          ]);
          assertEquals(await label(1), 1);
          assertEquals(
            (await json(base, "GET", "/api/state")).body.labelled,
            labelled,
          );
        } finally {
          await Deno.chmod(labelsPath, 0o644);
        }
        // Writable again: the same write goes through.
        const again = await json(base, "PUT", "/api/labels/20", { label: 3 });
        assertEquals(again.status, 200);
        assertEquals(await label(20), 3);
      },
    );
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "a directory as the checkpoint is an error, not a fresh model",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ssvae_ckdir_" });
    const weights = `${dir}/ssvae.ckpt`;
    await Deno.mkdir(weights);
    try {
      let failure = "";
      try {
        const srv = await startServer({
          build: false,
          dir,
          limit: 100,
          weightsPath: weights,
        });
        await srv.stop();
      } catch (e) {
        failure = (e as Error).message;
      }
      assertMatch(failure, /server exited/);
      assertMatch(failure, /ssvae\.ckpt is a directory, not a checkpoint file/);

      const out = await runDeno([
        ...["cli/train.ts", "--limit", "100", "--max-epochs", "1"],
        ...["--weights", weights, "--labels", `${dir}/labels.csv`],
      ]);
      const text = out.output;
      assert(out.code !== 0, text);
      assertMatch(text, /ssvae\.ckpt is a directory, not a checkpoint file/);
      assert(!/epoch\s+step/.test(text), `it trained:\n${text}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
