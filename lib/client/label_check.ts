/**
 * The line of the accuracy card that answers "when can I stop?": the label
 * graph's self-check (lib/graph/self_check.ts), from the user's labels alone,
 * so it is there before any run and on data with no test set.
 */
import type { GraphInfo } from "../protocol/api.ts";

const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

/** The estimate ("≈ 96%"), its detail, or why there is none yet; null without a graph. */
export function labelCheckText(
  graph: GraphInfo | null,
): { headline: string; detail: string } | null {
  if (!graph || graph.status !== "ready") return null;
  const c = graph.check;
  if (!c) {
    return {
      headline: "",
      detail:
        "Estimated accuracy from your labels alone: once 10 labels can be held out and checked (two of a class at least).",
    };
  }
  return {
    headline: `≈ ${pct(c.accuracy)} right`,
    detail: `estimated from your labels alone (95%: ${pct(c.low)}–${
      pct(c.high)
    }): a ${c.folds}-fold check of ${
      c.labelled.toLocaleString("en-US")
    } labels, ${pct(c.heldOut)} of held-out labels predicted right.`,
  };
}
