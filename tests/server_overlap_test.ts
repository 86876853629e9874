/**
 * Overlap on a real team server (`--overlap 2`): an annotator's label is
 * theirs alone until a second annotator labels the image (blind: nobody
 * else sees it, in the label routes, the samples or the map); two that
 * agree make the label (source "consensus"), two that differ wait in the
 * reviewer's queue, whose label resolves it; agreement (κ per pair, α)
 * and the annotations' export; and a server with overlap but no accounts
 * refuses to start.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { json } from "../support/api_client.ts";
import { runRefusedStart, startServer } from "../support/server_process.ts";
import { AccountStore } from "../lib/team/account_store.ts";
import { SESSION_COOKIE } from "../lib/protocol/team.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import { DatabaseSync } from "node:sqlite";

const PASSWORD = "correct horse battery";

Deno.test("overlap: blind annotations, consensus, disagreements a reviewer resolves, agreement", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_overlap_" });
  try {
    const store = AccountStore.open(`${dir}/labels.team.sqlite`);
    const cookies: Record<string, Record<string, string>> = {};
    for (
      const [name, role] of [
        ["ann", "annotator"],
        ["ben", "annotator"],
        ["cat", "annotator"],
        ["rita", "reviewer"],
      ] as const
    ) {
      const s = await store.acceptInvite(
        (await store.invite(name, role)).token,
        PASSWORD,
      );
      cookies[name] = { cookie: `${SESSION_COOKIE}=${s!.token}` };
    }
    store.close();
    await using srv = await startServer({
      dir,
      limit: 300,
      args: ["--overlap", "2"],
    });
    const put = (who: string, i: number, label: number) =>
      json(
        srv.url,
        "PUT",
        `/api/labels/${i}`,
        { label, source: "key" },
        cookies[who],
      );
    const labelOf = async (who: string, i: number) =>
      (await json(srv.url, "GET", `/api/labels/${i}`, undefined, cookies[who]))
        .body.label;
    const csv = () => Deno.readTextFile(srv.labelsPath);
    const latentLabel = async (who: string, i: number) => {
      const res = await fetch(`${srv.url}/api/latent`, {
        headers: cookies[who],
      });
      return decodeLatent(new Uint8Array(await res.arrayBuffer())).userLabel[i];
    };

    await t.step("one annotation is its author's alone", async () => {
      const r = await put("ann", 10, 3);
      assertEquals(r.status, 200);
      assertEquals(r.body.pending, { have: 1, need: 2, disagreement: false });
      assert(
        !(await csv()).includes("\n10,"),
        "an annotation went to labels.csv",
      );
      assertEquals(await labelOf("ann", 10), 3);
      assertEquals(await labelOf("ben", 10), null, "ben saw ann's label");
      assertEquals(await labelOf("rita", 10), null);
      assertEquals(await latentLabel("ann", 10), 3);
      assertEquals(await latentLabel("ben", 10), -1);
      const sample = await json(
        srv.url,
        "GET",
        "/api/samples/10",
        undefined,
        cookies.ben,
      );
      assertEquals(sample.body.label, null);
      const state = await json(
        srv.url,
        "GET",
        "/api/state",
        undefined,
        cookies.ann,
      );
      assertEquals(state.body.team, { overlap: 2 });
    });

    await t.step("a second annotator who agrees makes the label", async () => {
      const r = await put("ben", 10, 3);
      assertEquals(r.status, 200);
      assertEquals(r.body.pending, undefined);
      assertMatch(await csv(), /\n10,3\n/);
      assertEquals(await labelOf("cat", 10), 3);
      const db = new DatabaseSync(
        srv.labelsPath.replace(/\.csv$/, ".history.sqlite"),
      );
      const ev = db.prepare(
        "SELECT source, annotator FROM events WHERE serial = 10",
      ).all() as Array<{ source: string; annotator: string | null }>;
      db.close();
      assertEquals(ev.map((e) => [e.source, e.annotator]), [[
        "consensus",
        null,
      ]]);
      // A consensus label is not one annotator's to change.
      assertEquals((await put("ann", 10, 4)).status, 403);
    });

    await t.step(
      "two that differ wait for the reviewer; the reviewer's label resolves",
      async () => {
        await put("ann", 11, 4);
        const r = await put("ben", 11, 5);
        assertEquals(r.body.pending, { have: 2, need: 2, disagreement: true });
        assert(!(await csv()).includes("\n11,"));
        assertEquals(
          (await json(srv.url, "GET", "/api/agreement", undefined, cookies.cat))
            .status,
          403,
        );
        const rep = await json(
          srv.url,
          "GET",
          "/api/agreement",
          undefined,
          cookies.rita,
        );
        assertEquals(rep.status, 200);
        assertEquals(rep.body.overlap, 2);
        assertEquals(rep.body.disagreements, [{
          index: 11,
          labels: { ann: 4, ben: 5 },
        }]);
        const pairs = rep.body.pairs as Array<
          { a: string; b: string; shared: number; observed: number }
        >;
        assertEquals(pairs.map((p) => [p.a, p.b, p.shared, p.observed]), [[
          "ann",
          "ben",
          2,
          0.5,
        ]]);
        assertEquals(rep.body.items, 2);
        const resolved = await put("rita", 11, 5);
        assertEquals(resolved.status, 200);
        assertMatch(await csv(), /\n11,5\n/);
        const after = await json(
          srv.url,
          "GET",
          "/api/agreement",
          undefined,
          cookies.rita,
        );
        assertEquals(after.body.disagreements, []);
      },
    );

    await t.step(
      "an annotator takes back their own annotation; batches and syncs annotate too",
      async () => {
        await put("cat", 12, 7);
        assertEquals(await labelOf("cat", 12), 7);
        const del = await json(
          srv.url,
          "DELETE",
          "/api/labels/12",
          undefined,
          cookies.cat,
        );
        assertEquals(del.status, 200);
        assertEquals(await labelOf("cat", 12), null);
        const batch = await json(srv.url, "PUT", "/api/labels", {
          changes: [{ index: 20, label: 1 }, { index: 21, label: 2 }],
        }, cookies.cat);
        assertEquals(batch.status, 200, JSON.stringify(batch.body));
        const sync = await json(srv.url, "POST", "/api/labels/sync", {
          ops: [{ index: 20, label: 1, clientTime: Date.now() }],
        }, cookies.ann);
        assertEquals(sync.status, 200);
        // ann agreed with cat on 20: labelled; 21 is cat's alone.
        const text = await csv();
        assertMatch(text, /\n20,1\n/);
        assert(!text.includes("\n21,"));
        const exp = await fetch(`${srv.url}/api/agreement/export`, {
          headers: cookies.rita,
        });
        const rows = (await exp.text()).trim().split("\n");
        assertEquals(rows[0], "Serial,annotator,label,time");
        assertEquals(
          rows.slice(1).map((r) => r.split(",").slice(0, 3).join(",")),
          [
            "10,ann,3",
            "10,ben,3",
            "11,ann,4",
            "11,ben,5",
            "20,cat,1",
            "20,ann,1",
            "21,cat,2",
          ],
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("overlap without accounts refuses to start", async () => {
  const r = await runRefusedStart(["--overlap", "2"]);
  assertEquals(r.code, 1, r.output);
  assertMatch(r.output, /--overlap 2 .*needs accounts/);
  assertEquals(r.left, []);
});
