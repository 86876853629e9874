import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { acquisitionScores, topSuggestions } from "../lib/active/strategies.ts";
import {
  insidePolygon,
  selectInBox,
  selectInPolygon,
} from "../lib/active/selection.ts";

/** Rows of 10 probabilities from a few hand-made distributions. */
function rows(...dists: number[][]): Float32Array {
  return Float32Array.from(
    dists.flatMap((d) => [...d, ...new Array(10 - d.length).fill(0)]),
  );
}

// 0: confident; 1: two-way tie; 2: spread over three; 3: top 0.5 with a clear runner-up
// at 0.1 spread thin; designed so least-confidence, margin and entropy disagree.
const probs = rows(
  [0.97, 0.03],
  [0.5, 0.5],
  [0.4, 0.3, 0.3],
  [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],
);

Deno.test("least confidence ranks by 1 - max p", () => {
  const s = acquisitionScores(probs, "least_confidence");
  assertAlmostEquals(s[0], 0.03, 1e-6);
  assertAlmostEquals(s[2], 0.6, 1e-6);
  assertEquals([...topSuggestions(s, new Float32Array(4).fill(NaN), 4)], [
    2,
    1,
    3,
    0,
  ]);
});

Deno.test("margin ranks the smallest gap between the top two first", () => {
  const s = acquisitionScores(probs, "margin");
  assertAlmostEquals(s[1], 1, 1e-6); // gap 0
  assertAlmostEquals(s[2], 0.9, 1e-6); // gap 0.1
  assertAlmostEquals(s[3], 0.6, 1e-6); // gap 0.4
  assertEquals([...topSuggestions(s, new Float32Array(4).fill(NaN), 4)], [
    1,
    2,
    3,
    0,
  ]);
});

Deno.test("entropy ranks the most spread-out distribution first", () => {
  const s = acquisitionScores(probs, "entropy");
  const h = (ps: number[]) => -ps.reduce((a, p) => a + p * Math.log(p), 0);
  assertAlmostEquals(s[3], h([0.5, 0.1, 0.1, 0.1, 0.1, 0.1]), 1e-5);
  assertAlmostEquals(s[1], Math.log(2), 1e-6);
  assertEquals([...topSuggestions(s, new Float32Array(4).fill(NaN), 4)], [
    3,
    2,
    1,
    0,
  ]);
});

Deno.test("random is seeded, and suggestions skip labelled samples", () => {
  const many = new Float32Array(1000 * 10).fill(0.1);
  const a = acquisitionScores(many, "random", 1),
    b = acquisitionScores(many, "random", 1);
  assertEquals(a, b);
  assert(a.some((v, i) => v !== acquisitionScores(many, "random", 2)[i]));
  const s = acquisitionScores(probs, "least_confidence");
  const labels = Float32Array.from([NaN, NaN, 4, NaN]);
  assertEquals([...topSuggestions(s, labels, 2)], [1, 3]);
  assertEquals(topSuggestions(s, labels, 0).length, 0);
});

Deno.test("a lasso polygon maps to the right indices", () => {
  // A 5×5 grid of points at integer coordinates 0..4.
  const xs = new Float32Array(25), ys = new Float32Array(25);
  for (let i = 0; i < 25; i++) {
    xs[i] = i % 5;
    ys[i] = Math.floor(i / 5);
  }
  // A triangle with corners just outside (0,0), (4,0) and (0,4): holds x + y <= 4.
  const triangle = [{ x: -0.5, y: -0.5 }, { x: 4.9, y: -0.5 }, {
    x: -0.5,
    y: 4.9,
  }];
  const expected = [...xs.keys()].filter((i) => xs[i] + ys[i] <= 4);
  assertEquals([...selectInPolygon(xs, ys, triangle)], expected);
  // A concave "L" excludes its notch.
  const ell = [
    { x: -0.5, y: -0.5 },
    { x: 4.5, y: -0.5 },
    { x: 4.5, y: 1.5 },
    { x: 1.5, y: 1.5 },
    { x: 1.5, y: 4.5 },
    { x: -0.5, y: 4.5 },
  ];
  const inL = [...selectInPolygon(xs, ys, ell)];
  assert(
    inL.includes(4) && inL.includes(20) && !inL.includes(12) &&
      !inL.includes(24),
  );
  assertEquals(inL.length, 10 + 6);
  assert(!insidePolygon(10, 10, ell));
  assertEquals(
    selectInPolygon(xs, ys, [{ x: 0, y: 0 }, { x: 1, y: 1 }]).length,
    0,
  );
  assertEquals([...selectInBox(xs, ys, 3.5, 1.5, 0.5, -1)], [2, 3]);
});
