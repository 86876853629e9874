/**
 * The label graph in the running server: predictions and the default queue
 * follow a label without training, the first suggestions are spread over the
 * map, and a training run learns from the graph's soft labels and reports
 * the graph's test accuracy.
 */
import { assert, assertEquals } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";
import { decodeLatent } from "../lib/protocol/latent_format.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import type { GraphInfo } from "../lib/protocol/api.ts";

const LIMIT = 3000;
Deno.test(
  "label graph: predictions follow each label; coverage first; training uses it",
  async (t) => {
    const srv = await startServer({ build: false, limit: LIMIT, graph: true });
    const { url: base } = srv;
    const ws = await connectWs(srv.wsUrl);
    const truth = (await loadTrainImages({ limit: LIMIT })).labels;
    const probs = async () =>
      decodeProbs(await (await fetch(`${base}/api/probs`)).arrayBuffer());
    try {
      // The graph is built after the server listens; its first propagation
      // (no labels yet) brings the coverage queue.
      await ws.waitFor((m) =>
        m.type === "latent_updated" && m.source === "labels"
      );
      const first = await probs();

      // The page heard the build: `hello` said building (or, on a fast
      // machine, ready), each step came as a `graph_status`, then ready,
      // before the first propagation.
      const hello = ws.messages.find((m) => m.type === "hello")!;
      const said = (hello.graph as GraphInfo).status;
      assert(said === "building" || said === "ready", said);
      const events = ws.messages.filter((m) => m.type === "graph_status")
        .map((m) => m.graph as GraphInfo);
      if (said === "building") assertEquals(events.at(-1)?.status, "ready");
      for (const e of events.slice(0, -1)) {
        assertEquals(e.status, "building");
        assert(e.message, "a building step names itself");
      }

      // In order: the labels of each step are what the next one propagates.
      await t.step(
        "the first 10 suggestions are spread over the map",
        async () => {
          assertEquals(first.queuePhase, "coverage");
          const picks = [...first.queue.subarray(0, 10)];
          assertEquals(picks.length, 10);
          const classes = new Set(picks.map((i) => truth[i]));
          assert(
            classes.size >= 7,
            `first 10 suggestions cover ${classes.size} digits`,
          );
          // On the map (the fresh model's 2-D latent), no suggestion is among
          // another's 10 nearest points.
          const snap = decodeLatent(
            await (await fetch(`${base}/api/latent`)).arrayBuffer(),
          );
          for (const i of picks) {
            const d = Array.from(
              { length: snap.count },
              (_, j) =>
                (snap.x[j] - snap.x[i]) ** 2 + (snap.y[j] - snap.y[i]) ** 2,
            );
            const near = [...d.keys()].filter((j) => j !== i)
              .sort((a, b) => d[a] - d[b]).slice(0, 10);
            for (const j of picks) {
              assert(
                j === i || !near.includes(j),
                `suggestions ${i} and ${j} are map neighbours`,
              );
            }
          }
        },
      );

      await t.step(
        "a label changes the predictions and the queue, without training",
        async () => {
          const top = first.queue[0];
          const seq = ws.messages.length;
          const r = await json(base, "PUT", `/api/labels/${top}`, {
            label: truth[top],
          });
          assertEquals(r.status, 200);
          const ev = await ws.waitFor((m) =>
            ws.messages.indexOf(m) >= seq && m.type === "latent_updated" &&
            m.source === "labels"
          );
          assert((ev.version as number) > first.version);
          const after = await probs();
          assertEquals(after.version, ev.version);
          assert(
            !after.queue.includes(top),
            "the labelled image left the queue",
          );
          // Its class now spreads: its neighbours are predicted as it.
          let same = 0;
          for (let i = 0; i < LIMIT; i++) {
            let best = 0;
            for (let k = 1; k < 10; k++) {
              if (after.probs[i * 10 + k] > after.probs[i * 10 + best]) {
                best = k;
              }
            }
            if (best === truth[top]) same++;
          }
          assertEquals(
            same,
            LIMIT,
            "one label: every image predicted as its class",
          );
          // …but not with certainty: one class of ten seen, the other nine
          // keep their share (0.1 · 1 + 0.9 / 10 = 19%).
          const snap = decodeLatent(
            await (await fetch(`${base}/api/latent`)).arrayBuffer(),
          );
          for (let i = 0; i < LIMIT; i++) {
            if (i === top) continue;
            assert(
              snap.certainty[i] <= Math.round(0.19 * 255),
              `image ${i} shown at ${
                snap.certainty[i] / 2.55
              }% after one label`,
            );
          }
          const state = await json(base, "GET", "/api/state");
          const graph = state.body.graph as { status: string; ms: number };
          assertEquals(graph.status, "ready");
          assert(graph.ms > 0);
          assertEquals(state.body.training, {
            status: "idle",
            epoch: 0,
            targetEpochs: 0,
          });
        },
      );

      await t.step(
        "a training run takes the graph's soft labels and reports its accuracy",
        async () => {
          // A few more labels, from the queue.
          const q = (await probs()).queue;
          const changes = [...q.subarray(0, 9)].map((i) => ({
            index: i,
            label: truth[i],
          }));
          assertEquals(
            (await json(base, "PUT", "/api/labels", { changes })).status,
            200,
          );
          await ws.waitFor((m) =>
            m.type === "latent_updated" && m.source === "labels" &&
            (m.labelsRevision as number) >= 2
          );
          const seq = ws.messages.length;
          const r = await json(base, "POST", "/api/training/start", {
            epochs: 1,
          });
          assertEquals(r.status, 202);
          const done = await ws.waitFor(
            (m) =>
              ws.messages.indexOf(m) >= seq &&
              ["training_complete", "training_error"].includes(
                m.type as string,
              ),
            120_000,
          );
          assertEquals(done.type, "training_complete");
          const runs = (await json(base, "GET", "/api/evaluations")).body
            .runs as Array<{
              predictor: string;
              accuracy: { overall: number };
              classifierAccuracy: number;
              labels: number;
            }>;
          assertEquals(runs.length, 1);
          assertEquals(runs[0].predictor, "graph");
          assertEquals(runs[0].labels, 10);
          assert(
            runs[0].accuracy.overall > 0.5,
            `graph test accuracy ${runs[0].accuracy.overall}`,
          );
          assertEquals(typeof runs[0].classifierAccuracy, "number");
        },
      );

      await t.step(
        "the labels check themselves: an accuracy estimate with its interval",
        async () => {
          const state = (await json(base, "GET", "/api/state")).body;
          assertEquals((state.graph as GraphInfo).check, undefined);
          // 40 labels from the queue: every class has a second label now.
          const q = (await probs()).queue;
          const changes = [...q.subarray(0, 30)].map((i) => ({
            index: i,
            label: truth[i],
          }));
          const seq = ws.messages.length;
          assertEquals(
            (await json(base, "PUT", "/api/labels", { changes })).status,
            200,
          );
          const ev = await ws.waitFor((m) =>
            ws.messages.indexOf(m) >= seq && m.type === "graph_status" &&
            (m.graph as GraphInfo).check?.labelled === 40
          );
          const c = (ev.graph as GraphInfo).check!;
          assert(c.scored >= 30 && c.scored <= 40, `scored ${c.scored}`);
          assertEquals(c.folds, 5);
          assert(c.low <= c.accuracy && c.accuracy <= c.high);
          // True labels on MNIST: most held-out labels are predicted right.
          assert(c.heldOut > 0.6, `held out ${c.heldOut}`);
          assert(c.accuracy > 0.6 && c.accuracy <= 1, `estimate ${c.accuracy}`);
          assertEquals(
            ((await json(base, "GET", "/api/state")).body.graph as GraphInfo)
              .check?.revision,
            c.revision,
          );
        },
      );

      await t.step(
        "the review queue: wrong labels listed first, confirmed ones leave it, bad input refused",
        async () => {
          // Three of the 40 labels turned wrong (another class).
          const exported = (await json(
            base,
            "GET",
            "/api/labels/export?format=json",
          )).body as { labels: Array<{ index: number }> };
          const labelled = exported.labels.map((r) => r.index);
          assertEquals(labelled.length, 40);
          const wrong = labelled.slice(5, 8);
          const seq = ws.messages.length;
          const changes = wrong.map((i) => ({
            index: i,
            label: (truth[i] + 5) % 10,
          }));
          assertEquals(
            (await json(base, "PUT", "/api/labels", { changes })).status,
            200,
          );
          const revision = (await json(base, "GET", "/api/state")).body
            .labelsRevision as number;
          await ws.waitFor((m) =>
            ws.messages.indexOf(m) >= seq && m.type === "graph_status" &&
            (m.graph as GraphInfo).check?.revision === revision
          );
          const r = await json(base, "GET", "/api/review?limit=10");
          assertEquals(r.status, 200);
          const body = r.body as {
            items: Array<{ index: number; label: number; predicted: number }>;
            current: boolean;
            confirmed: number;
          };
          assertEquals(body.current, true);
          const listed = body.items.map((it) => it.index);
          const found = wrong.filter((i) => listed.slice(0, 5).includes(i));
          assert(found.length >= 2, `wrong ${wrong}, listed ${listed}`);
          // Confirm one (the user says the label is right): off the list.
          const it = body.items[0];
          const c = await json(
            base,
            "POST",
            `/api/review/${it.index}/confirm`,
            {
              label: it.label,
            },
          );
          assertEquals(c.status, 200);
          const after = (await json(base, "GET", "/api/review")).body as {
            items: Array<{ index: number }>;
            confirmed: number;
          };
          assertEquals(after.confirmed, 1);
          assert(!after.items.some((x) => x.index === it.index));
          // Refused, with a reason: a wrong label, no label, bad input.
          const other = (it.label + 1) % 10;
          assertEquals(
            (await json(base, "POST", `/api/review/${it.index}/confirm`, {
              label: other,
            })).status,
            409,
          );
          const unlabelled = [...Array(LIMIT).keys()].find((i) =>
            !labelled.includes(i)
          )!;
          assertEquals(
            (await json(base, "POST", `/api/review/${unlabelled}/confirm`, {
              label: 1,
            })).status,
            409,
          );
          for (const q of ["0", "501", "x", "-1", "1e2"]) {
            assertEquals(
              (await json(base, "GET", `/api/review?limit=${q}`)).status,
              400,
              q,
            );
          }
          assertEquals(
            (await json(base, "POST", `/api/review/1/confirm`, {
              label: 1,
              extra: 2,
            })).status,
            400,
          );
          assertEquals(
            (await json(base, "POST", `/api/review/${LIMIT}/confirm`, {
              label: 1,
            })).status,
            404,
          );
        },
      );
    } finally {
      await ws.close();
      await srv.stop();
    }
  },
);
