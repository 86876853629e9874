/**
 * The agreement statistics (lib/team/agreement.ts) against the worked
 * examples of their papers, and the edge cases a team meets.
 */

import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import {
  agreementReport,
  classKappa,
  cohenKappa,
  fleissKappa,
  krippendorffAlpha,
  type Ratings,
} from "../lib/team/agreement.ts";

/** Expands a contingency table (rows: annotator A's class, columns: B's) into label lists. */
function fromTable(table: number[][]): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  table.forEach((row, i) =>
    row.forEach((n, j) => {
      for (let k = 0; k < n; k++) {
        a.push(i);
        b.push(j);
      }
    })
  );
  return [a, b];
}

Deno.test("Cohen's κ: Cohen (1960), Table 1: po = .70, pe = .41, κ = .49", () => {
  // 200 items, three categories, as proportions ×200 (row marginals .60
  // .30 .10, column marginals .50 .30 .20).
  const [a, b] = fromTable([[88, 14, 18], [10, 40, 10], [2, 6, 12]]);
  assertAlmostEquals(cohenKappa(a, b, 3), (0.70 - 0.41) / (1 - 0.41), 1e-9);
  assertAlmostEquals(cohenKappa(a, b, 3), 0.4915, 1e-4);
});

Deno.test("Cohen's κ: perfect, chance and worse than chance; per class", () => {
  assertEquals(cohenKappa([0, 1, 2, 1], [0, 1, 2, 1], 3), 1);
  // A says 0 for half, B says 0 for half, independently: κ = 0.
  const [a, b] = fromTable([[25, 25], [25, 25]]);
  assertAlmostEquals(cohenKappa(a, b, 2), 0, 1e-12);
  assert(cohenKappa([0, 1, 0, 1], [1, 0, 1, 0], 2) < 0);
  // Class 2 always agreed on, the others swapped.
  const x = [2, 2, 0, 1, 0, 1];
  const y = [2, 2, 1, 0, 1, 0];
  assertEquals(classKappa(x, y, 2), 1);
  assert(classKappa(x, y, 0) < 0);
  assert(Number.isNaN(cohenKappa([], [], 3)));
});

Deno.test("Krippendorff's α: the paper's nominal example with missing values is .743", () => {
  // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
  // section C: 4 observers, 12 units, values 1-5, "." = missing.
  const rows = {
    A: "1 2 3 3 2 1 4 1 2 . . .",
    B: "1 2 3 3 2 2 4 1 2 5 . 3",
    C: ". 3 3 3 2 3 4 2 2 5 1 .",
    D: "1 2 3 3 2 4 4 1 2 5 1 .",
  };
  const items: Array<Map<string, number>> = Array.from(
    { length: 12 },
    () => new Map(),
  );
  for (const [who, line] of Object.entries(rows)) {
    line.split(" ").forEach((v, u) => {
      if (v !== ".") items[u].set(who, Number(v) - 1);
    });
  }
  assertAlmostEquals(krippendorffAlpha(items, 5), 0.743, 5e-4);
});

Deno.test("Fleiss' κ: the 10 subjects × 14 raters example is .210", () => {
  const counts = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  assertAlmostEquals(fleissKappa(counts), 0.210, 5e-4);
});

Deno.test("with two annotators and every item labelled by both, α approaches Cohen's κ", () => {
  const [a, b] = fromTable([[88, 14, 18], [10, 40, 10], [2, 6, 12]]);
  const items = a.map((x, i) => new Map([["a", x], ["b", b[i]]]));
  const alpha = krippendorffAlpha(items, 3);
  const kappa = cohenKappa(a, b, 3);
  // α corrects for the sample size and pools the two marginals: close, not equal.
  assert(Math.abs(alpha - kappa) < 0.02, `α ${alpha} κ ${kappa}`);
});

Deno.test("the report: pairs over the images they share, α over all, single labels left out", () => {
  const items: Ratings[] = [
    new Map([["ann", 1], ["bob", 1], ["cy", 1]]),
    new Map([["ann", 2], ["bob", 2]]),
    new Map([["ann", 0], ["bob", 1]]),
    new Map([["bob", 0], ["cy", 0]]),
    new Map([["ann", 2]]),
  ];
  const r = agreementReport(items, 3);
  assertEquals(r.items, 4);
  assertEquals(r.pairs.map((p) => [p.a, p.b, p.shared]), [
    ["ann", "bob", 3],
    ["ann", "cy", 1],
    ["bob", "cy", 2],
  ]);
  assertAlmostEquals(r.pairs[0].observed, 2 / 3, 1e-12);
  assertEquals(r.pairs[2].observed, 1);
  assertEquals(r.pairs[0].perClass.length, 3);
  assert(r.alpha > 0 && r.alpha < 1, String(r.alpha));
});
