/**
 * `deno task bench:queue`: how fast the page's suggestion queue is on 60k
 * images (the seeded snapshot of support/probs_fixture.ts): decoding
 * /api/probs, ranking by each strategy, and the top 20 after a label (the
 * ranking walked, not redone). Targets: a ranking well under a second, the
 * top 20 after a label in well under 5 ms.
 */
import { rankAll, topUnlabelled } from "../lib/client/suggestions.ts";
import { decodeProbs } from "../lib/protocol/probs_format.ts";
import { QUEUE_IMAGES, queueOf60k } from "../support/probs_fixture.ts";

const { bytes } = queueOf60k();
const t0 = performance.now();
const snap = decodeProbs(bytes.slice().buffer);
const decodeMs = performance.now() - t0;
const rankMs: Record<string, number> = {};
for (const s of ["least_confidence", "margin", "entropy", "random"] as const) {
  rankMs[s] = rankAll(snap, s).ms;
}
const r = rankAll(snap, "entropy");
const ul = new Int8Array(QUEUE_IMAGES).fill(-1);
const t1 = performance.now();
for (let k = 0; k < 100; k++) {
  ul[r.order[k]] = 1;
  topUnlabelled(r, ul, 20);
}
const perLabelMs = (performance.now() - t1) / 100;
console.log(
  `queue on ${QUEUE_IMAGES} images: decode ${decodeMs.toFixed(1)} ms; rank ${
    Object.entries(rankMs).map(([s, ms]) => `${s} ${ms.toFixed(0)} ms`).join(
      ", ",
    )
  }; top-20 after a label ${(perLabelMs * 1000).toFixed(0)} µs`,
);
