/**
 * Where the label graph's cache of a checkpoint lives: `cache/` beside it, so
 * the dashboard and the CLI share one file. A module of its own so the server's
 * main thread can name the folder without loading tfjs (lib/graph/label_graph.ts).
 */
import { dirname } from "node:path";

export function graphCacheDir(weightsPath: string): string {
  return `${dirname(weightsPath)}/cache`;
}
