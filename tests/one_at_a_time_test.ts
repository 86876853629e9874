/** lib/client/one_at_a_time.ts: one request at a time, and one more after calls made meanwhile. */
import { assertEquals } from "./assert.ts";
import { oneAtATime } from "../lib/client/one_at_a_time.ts";

Deno.test("oneAtATime: calls during a run make exactly one more run", async () => {
  let runs = 0;
  let running = 0;
  let most = 0;
  const gates: Array<() => void> = [];
  const refresh = oneAtATime(async () => {
    runs++;
    most = Math.max(most, ++running);
    await new Promise<void>((r) => gates.push(r));
    running--;
  });
  const first = refresh();
  refresh();
  refresh();
  gates.shift()!();
  // The second run starts once the first ends.
  while (gates.length === 0) await Promise.resolve();
  gates.shift()!();
  await first;
  assertEquals(runs, 2);
  assertEquals(most, 1);
  // Idle again: a new call runs at once.
  const next = refresh();
  while (gates.length === 0) await Promise.resolve();
  gates.shift()!();
  await next;
  assertEquals(runs, 3);
});
