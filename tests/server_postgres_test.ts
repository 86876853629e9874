/**
 * A team on PostgreSQL, for real: a Debian PostgreSQL server started in a
 * temp folder, accounts made with `deno task users --db postgres://…`, and
 * two dashboard processes with labels.csv files of their own on the same
 * database. A session opens both; a label made through one reaches the
 * other's event stream, labels.csv and label log (under its annotator); a
 * process killed right after a burst of acknowledged labels has shared
 * every one; restarted, it catches up on what was made while it was down;
 * a revocation holds on both.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import {
  runDeno,
  runRefusedStart,
  type ServerProcess,
  startServer,
} from "../support/server_process.ts";
import { postgresBin, startPostgres } from "../support/postgres.ts";
import { openPgTeam } from "../lib/team/pg_store.ts";
import { SESSION_COOKIE } from "../lib/protocol/team.ts";
import { waitUntil } from "../support/wait.ts";
import { DatabaseSync } from "node:sqlite";

const PASSWORD = "correct horse battery";

async function csvLabels(srv: ServerProcess): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const text = await Deno.readTextFile(srv.labelsPath).catch(() => "");
  for (const line of text.split("\n").slice(1)) {
    if (line) {
      const [s, l] = line.split(",").map(Number);
      out.set(s, l);
    }
  }
  return out;
}

Deno.test({
  name:
    "two dashboards on one PostgreSQL stay in step; a killed one loses nothing",
  ignore: postgresBin() === null,
  async fn(t) {
    await using pg = await startPostgres();
    const dirA = await Deno.makeTempDir({ prefix: "ssvae_pg_a_" });
    const dirB = await Deno.makeTempDir({ prefix: "ssvae_pg_b_" });
    try {
      const added = await runDeno([
        "cli/users.ts",
        "add",
        "alice",
        "--role",
        "owner",
        "--db",
        pg.url,
      ]);
      assertEquals(added.code, 0, added.output);
      const token = added.stdout.match(/invite=([\w-]{43})/)![1];
      const team = await openPgTeam(pg.url);
      const alice = await team.accounts.acceptInvite(token, PASSWORD);
      const bob = await team.accounts.acceptInvite(
        (await team.accounts.invite("bob", "annotator")).token,
        PASSWORD,
      );
      const carol = await team.accounts.acceptInvite(
        (await team.accounts.invite("carol", "annotator")).token,
        PASSWORD,
      );
      await team.accounts.close();
      const cookie = (s: { token: string } | null) => ({
        cookie: `${SESSION_COOKIE}=${s!.token}`,
      });
      const args = ["--db", pg.url, "--overlap", "2"];
      let a = await startServer({ dir: dirA, keepDir: true, limit: 300, args });
      const b = await startServer({
        dir: dirB,
        keepDir: true,
        limit: 300,
        args,
      });
      try {
        assertMatch(b.output(), /labels shared through PostgreSQL/);

        await t.step(
          "a label made through one is on the other's stream, file and log",
          async () => {
            const ws = await connectWs(b.wsUrl, cookie(alice));
            await ws.waitFor((m) => m.type === "hello");
            const t0 = performance.now();
            const put = await json(a.url, "PUT", "/api/labels/5", {
              label: 3,
              source: "key",
            }, cookie(alice));
            assertEquals(put.status, 200, JSON.stringify(put.body));
            await ws.waitFor((m) =>
              m.type === "labels_changed" &&
              (m.changes as Array<{ index: number }>).some((c) => c.index === 5)
            );
            console.log(
              `label through A → B's event stream: ${
                (performance.now() - t0).toFixed(0)
              } ms`,
            );
            await ws.close();
            assertEquals((await csvLabels(b)).get(5), 3);
            assertEquals(
              (await json(
                b.url,
                "GET",
                "/api/labels/5",
                undefined,
                cookie(alice),
              )).body.label,
              3,
            );
            // B's own log names the annotator and the source of A's write.
            await waitUntil("B's log has the event", () => {
              const db = new DatabaseSync(`${dirB}/labels.history.sqlite`);
              const rows = db.prepare(
                "SELECT source, annotator FROM events WHERE serial = 5",
              ).all() as Array<{ source: string; annotator: string }>;
              db.close();
              return rows.length === 1 && rows[0].annotator === "alice" &&
                rows[0].source === "key";
            });
          },
        );

        await t.step(
          "SIGKILL right after a burst: every acknowledged label is on the other",
          async () => {
            const acked = new Map<number, number>();
            await Promise.all(
              Array.from({ length: 40 }, async (_, k) => {
                const i = 100 + k;
                const r = await json(a.url, "PUT", `/api/labels/${i}`, {
                  label: k % 10,
                }, cookie(alice));
                if (r.status === 200) acked.set(i, k % 10);
              }),
            );
            await a.kill();
            assert(acked.size > 0);
            await waitUntil("B holds every label A acknowledged", async () => {
              const have = await csvLabels(b);
              return [...acked].every(([i, l]) => have.get(i) === l);
            });
          },
        );

        await t.step(
          "restarted, the killed one catches up on what was made meanwhile",
          async () => {
            const put = await json(
              b.url,
              "PUT",
              "/api/labels/7",
              { label: 9 },
              cookie(alice),
            );
            assertEquals(put.status, 200);
            a = await startServer({
              dir: dirA,
              keepDir: true,
              limit: 300,
              args,
            });
            assertEquals((await csvLabels(a)).get(7), 9);
            assertEquals((await csvLabels(a)).get(5), 3);
          },
        );

        await t.step(
          "overlap across processes: blind, and two who agree on two servers make the label",
          async () => {
            const first = await json(a.url, "PUT", "/api/labels/60", {
              label: 4,
            }, cookie(bob));
            assertEquals(first.body.pending, {
              have: 1,
              need: 2,
              disagreement: false,
            });
            // Bob sees his annotation on the other server too; carol does not.
            assertEquals(
              (await json(
                b.url,
                "GET",
                "/api/labels/60",
                undefined,
                cookie(bob),
              )).body.label,
              4,
            );
            assertEquals(
              (await json(
                b.url,
                "GET",
                "/api/labels/60",
                undefined,
                cookie(carol),
              )).body.label,
              null,
            );
            const second = await json(b.url, "PUT", "/api/labels/60", {
              label: 4,
            }, cookie(carol));
            assertEquals(second.body.pending, undefined);
            await waitUntil(
              "the consensus label on both",
              async () =>
                (await csvLabels(a)).get(60) === 4 &&
                (await csvLabels(b)).get(60) === 4,
            );
          },
        );

        await t.step("a revocation holds on both at once", async () => {
          const r = await runDeno([
            "cli/users.ts",
            "revoke",
            "bob",
            "--db",
            pg.url,
          ]);
          assertEquals(r.code, 0, r.output);
          for (const srv of [a, b]) {
            const s = await json(
              srv.url,
              "GET",
              "/api/state",
              undefined,
              cookie(bob),
            );
            assertEquals(s.status, 401);
          }
          assertEquals(
            (await json(b.url, "GET", "/api/state", undefined, cookie(alice)))
              .status,
            200,
          );
        });
      } finally {
        await a.stop();
        await b.stop();
      }
    } finally {
      await Deno.remove(dirA, { recursive: true }).catch(() => {});
      await Deno.remove(dirB, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("a PostgreSQL that is not there stops the start with a clear error, nothing made", async () => {
  const r = await runRefusedStart([
    "--db",
    "postgres://ssvae:secret@127.0.0.1:1/labels",
  ]);
  assertEquals(r.code, 1, r.output);
  assertMatch(
    r.output,
    /--db postgres:\/\/ssvae:\*\*\*@127\.0\.0\.1:1\/labels: .*ECONNREFUSED/,
  );
  assert(!r.output.includes("secret"), "the password was printed");
  assertEquals(r.left, []);
});
