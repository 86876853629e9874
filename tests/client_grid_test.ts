/**
 * The grid view's filter and order (lib/client/grid.ts), on a hand-made
 * snapshot, and the skips' stored form and lapse (lib/client/active_store.ts).
 */
import { assertEquals } from "./assert.ts";
import {
  DEFAULT_GRID_FILTER,
  gridOrder,
  isGridFilter,
  rangeOf,
} from "../lib/client/grid.ts";
import type { LatentSnapshot } from "../lib/protocol/latent_format.ts";
import {
  activeSkips,
  isSkips,
  SKIP_FOR_LABELS,
} from "../lib/client/active_store.ts";

/** Six images: labels, predictions and certainties (in percent). */
function snap(): LatentSnapshot {
  const pct = [10, 90, 50, 50, 100, 0];
  return {
    count: 6,
    version: 1,
    x: new Float32Array(6),
    y: new Float32Array(6),
    predClass: new Uint8Array([0, 1, 1, 2, 1, 0]),
    certainty: Uint8Array.from(pct, (p) => Math.round(p * 2.55)),
    userLabel: new Int8Array([-1, 1, -1, 3, -1, -1]),
  } as LatentSnapshot;
}

Deno.test("grid filter: label, predicted class, certainty bounds (inclusive), review", () => {
  const s = snap();
  const all = (f: Partial<typeof DEFAULT_GRID_FILTER>) =>
    Array.from(gridOrder(s, { ...DEFAULT_GRID_FILTER, ...f }));
  assertEquals(all({}), [0, 1, 2, 3, 4, 5]);
  assertEquals(all({ label: "unlabelled" }), [0, 2, 4, 5]);
  assertEquals(all({ label: "labelled" }), [1, 3]);
  assertEquals(all({ label: 3 }), [3]);
  assertEquals(all({ predicted: 1 }), [1, 2, 4]);
  assertEquals(all({ certaintyMin: 50, certaintyMax: 90 }), [1, 2, 3]);
  assertEquals(all({ certaintyMax: 0 }), [5]);
  assertEquals(
    Array.from(
      gridOrder(s, { ...DEFAULT_GRID_FILTER, reviewOnly: true }, new Set([3])),
    ),
    [3],
  );
});

Deno.test("grid filter by label source: labelled images whose latest source it is", () => {
  const s = snap();
  // key = 1, batch = 3 (1 + place in LABEL_SOURCES); image 1 by key, 3 by batch.
  const sources = new Uint8Array([1, 1, 0, 3, 0, 0]);
  const by = (source: "key" | "batch") =>
    Array.from(
      gridOrder(s, { ...DEFAULT_GRID_FILTER, source }, new Set(), sources),
    );
  assertEquals(
    by("key"),
    [1],
    "an unlabelled image's old source does not count",
  );
  assertEquals(by("batch"), [3]);
  assertEquals(
    Array.from(gridOrder(s, { ...DEFAULT_GRID_FILTER, source: "key" })),
    [],
    "no sources yet: nothing passes",
  );
});

Deno.test("grid order: least or most sure first, ties by index; a shift-click's range", () => {
  const s = snap();
  const order = gridOrder(s, { ...DEFAULT_GRID_FILTER, sort: "least-certain" });
  assertEquals(Array.from(order), [5, 0, 2, 3, 1, 4]);
  assertEquals(
    Array.from(gridOrder(s, { ...DEFAULT_GRID_FILTER, sort: "most-certain" })),
    [4, 1, 2, 3, 0, 5],
  );
  assertEquals(rangeOf(order, 3, 0), [0, 2, 3]);
  assertEquals(rangeOf(order, 2, 2), [2]);
  assertEquals(rangeOf(order, 9, 2), [2], "an anchor no longer shown");
});

Deno.test("a stored grid filter is read back only when it is one", () => {
  assertEquals(isGridFilter(DEFAULT_GRID_FILTER), true);
  assertEquals(isGridFilter({ ...DEFAULT_GRID_FILTER, label: 4 }), true);
  assertEquals(isGridFilter({ ...DEFAULT_GRID_FILTER, label: "x" }), false);
  assertEquals(
    isGridFilter({ ...DEFAULT_GRID_FILTER, certaintyMax: 101 }),
    false,
  );
  assertEquals(isGridFilter({ ...DEFAULT_GRID_FILTER, sort: "size" }), false);
  assertEquals(isGridFilter(null), false);
});

Deno.test("stored skips are read back only when they are skips; old ones lapse after 50 labels", () => {
  assertEquals(isSkips([[3, 0], [9, 12]]), true);
  assertEquals(isSkips([]), true);
  for (const bad of [null, {}, [[3]], [[3, -1]], [[1.5, 0]], [["3", 0]], "x"]) {
    assertEquals(isSkips(bad), false, JSON.stringify(bad));
  }
  const out = activeSkips([[3, 0], [9, 12]], SKIP_FOR_LABELS);
  assertEquals([...out], [9], "#3 was skipped 50 labels ago");
});
