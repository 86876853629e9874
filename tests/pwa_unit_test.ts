/**
 * Unit tests of the offline layer's pure parts (lib/client/pwa_shared.ts):
 * how a replay's results become a report, the texts the page shows and the service worker's precache list.
 */
import {
  chunkOf,
  type LabelOp,
  mergeReports,
  pendingText,
  reportText,
  summarize,
  type SyncReport,
} from "../lib/client/pwa_shared.ts";
import { precacheEntries } from "../lib/build/client_bundle.ts";
import { assetManifest } from "../lib/build/asset_manifest.ts";
import { parseSyncBody } from "../routes/api/labels.ts";
import { assert, assertEquals } from "./assert.ts";

const op = (index: number, label: number | null, t: number): LabelOp => ({
  index,
  label,
  clientTime: t,
});

Deno.test("summarize: all applied, the last operation per index counts", () => {
  const ops = [op(1, 3, 10), op(2, 5, 11), op(1, null, 12)];
  const r = summarize(
    ops,
    [
      { index: 1, label: 3, applied: true },
      { index: 2, label: 5, applied: true },
      { index: 1, label: null, applied: true },
    ],
    [{ index: 1, label: null }, { index: 2, label: 5 }],
    99,
  );
  assertEquals(r, {
    synced: 3,
    conflicts: [],
    rejected: [],
    labels: [{ index: 1, label: null }, { index: 2, label: 5 }],
    at: 99,
  });
  assertEquals(reportText(r), "3 changes synced");
});

Deno.test("summarize: a last operation not applied is a conflict lost; a superseded one is not", () => {
  // #7: mine (3) lost to a newer 9 from elsewhere. #8: my first edit lost,
  // but my later one won: no conflict.
  const ops = [op(7, 3, 10), op(8, 1, 11), op(8, 2, 30)];
  const r = summarize(
    ops,
    [
      { index: 7, label: 9, applied: false },
      { index: 8, label: 4, applied: false },
      { index: 8, label: 2, applied: true },
    ],
    [{ index: 7, label: 9 }, { index: 8, label: 2 }],
  );
  assertEquals(r.synced, 3);
  assertEquals(r.conflicts, [{ index: 7, mine: 3, kept: 9 }]);
  assertEquals(
    reportText(r),
    "3 changes synced; 1 conflict lost to a newer edit from elsewhere: #7 is 9 (yours: 3)",
  );
});

Deno.test("summarize: refused operations are reported, not counted as synced", () => {
  const r = summarize(
    [op(5, 1, 1), op(70000, 2, 2)],
    [
      { index: 5, label: 1, applied: true },
      {
        index: 70000,
        label: null,
        applied: false,
        error: "index 70000 out of range",
      },
    ],
    [{ index: 5, label: 1 }],
  );
  assertEquals(r.synced, 1);
  assertEquals(r.rejected, [{
    index: 70000,
    label: 2,
    error: "index 70000 out of range",
  }]);
  assertEquals(
    reportText(r),
    "1 change synced; 1 refused by the server (index 70000 out of range)",
  );
});

Deno.test("mergeReports: sums, last value per index, a later win clears an earlier conflict", () => {
  const a: SyncReport = {
    synced: 2,
    conflicts: [{ index: 1, mine: 3, kept: 4 }, { index: 2, mine: 0, kept: 5 }],
    rejected: [],
    labels: [{ index: 1, label: 4 }, { index: 2, label: 5 }],
    at: 1,
  };
  const b: SyncReport = {
    synced: 1,
    conflicts: [],
    rejected: [],
    labels: [{ index: 1, label: 6 }],
    at: 2,
    background: true,
  };
  assertEquals(mergeReports([]), null);
  const m = mergeReports([a, b])!;
  assertEquals(m.synced, 3);
  assertEquals(m.conflicts, [{ index: 2, mine: 0, kept: 5 }]);
  assertEquals(m.labels, [{ index: 1, label: 6 }, { index: 2, label: 5 }]);
  assertEquals(m.background, true);
  assertEquals(m.at, 2);
});

Deno.test("texts: the badge and conflicts with deletes", () => {
  assertEquals(pendingText(0), "Offline — 0 changes pending");
  assertEquals(pendingText(1), "Offline — 1 change pending");
  assertEquals(pendingText(5), "Offline — 5 changes pending");
  const r = summarize(
    [op(3, null, 1)],
    [{ index: 3, label: 2, applied: false }],
    [{ index: 3, label: 2 }],
  );
  assertEquals(
    reportText(r),
    "1 change synced; 1 conflict lost to a newer edit from elsewhere: #3 is 2 (yours: unlabelled)",
  );
});

Deno.test("chunkOf maps an index to its image chunk", () => {
  assertEquals(chunkOf(0, 2048), { chunk: 0, offset: 0 });
  assertEquals(chunkOf(2047, 2048), { chunk: 0, offset: 2047 });
  assertEquals(chunkOf(2048, 2048), { chunk: 1, offset: 0 });
  assertEquals(chunkOf(59999, 2048), { chunk: 29, offset: 607 });
});

Deno.test("parseSyncBody: per-operation range errors, malformed bodies refused", () => {
  const ops = parseSyncBody({
    ops: [
      { index: 1, label: 3, clientTime: 5 },
      { index: 10, label: null, clientTime: 6 },
    ],
  }, 5);
  assertEquals(ops[0], { index: 1, label: 3, clientTime: 5 });
  assertEquals(ops[1].error?.startsWith("index 10 out of range"), true);
  const bad: Array<[unknown, RegExp]> = [
    [{}, /missing field "ops"/],
    [{ ops: [], x: 1 }, /unknown field "x"/],
    [{ ops: [1] }, /ops\[0\]: expected an object/],
    [{ ops: [{ index: -1, label: 1, clientTime: 1 }] }, /ops\[0\]\.index/],
    [{ ops: [{ index: 1, label: 10, clientTime: 1 }] }, /ops\[0\]\.label/],
    [{ ops: [{ index: 1, label: 1 }] }, /missing field "clientTime"/],
    [{ ops: [{ index: 1, label: 1, clientTime: -5 }] }, /clientTime/],
    [{ ops: [{ index: 1, label: 1, clientTime: 1, y: 2 }] }, /unknown field/],
    [
      { ops: new Array(1001).fill({ index: 0, label: 0, clientTime: 0 }) },
      /at most 1000/,
    ],
  ];
  for (const [body, re] of bad) {
    let message = "";
    try {
      parseSyncBody(body as Record<string, unknown>, 5);
    } catch (e) {
      message = (e as Error).message;
      assertEquals((e as { status?: number }).status, 400);
    }
    assert(
      re.test(message),
      `${JSON.stringify(body).slice(0, 60)}: ${message}`,
    );
  }
});

Deno.test("the precache list names this build's exact asset URLs", async () => {
  const m = assetManifest();
  const entries = await precacheEntries(m);
  const urls = entries.map((e) => e.url);
  for (const u of [m.app, m.css, m.plotly]) {
    const e = entries.find((x) => x.url === u);
    assert(e, `${u} precached`);
    // Versioned URLs: the URL is the revision.
    assertEquals(e!.revision, null);
  }
  assert(urls.includes("/app-shell"));
  assert(urls.includes("/static/manifest.webmanifest"));
  assert(urls.includes("/static/icons/icon-512-maskable.png"));
  for (const e of entries) {
    if (!e.url.includes("?v=") && !e.url.includes("/vendor/")) {
      assert(/^[0-9a-f]{12}$/.test(e.revision ?? ""), `${e.url} revision`);
    }
  }
  // Another build (another bundle hash) means another shell revision.
  const other = await precacheEntries({ ...m, app: `${m.app}x` });
  const shell = (es: typeof entries) =>
    es.find((e) => e.url === "/app-shell")!.revision;
  assert(shell(other) !== shell(entries));
});
