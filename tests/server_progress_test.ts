/** Unit tests of the `batch` progress message: throttle, running mean loss, ETA. */

import { assert, assertEquals } from "./assert.ts";
import {
  BATCH_MESSAGE_INTERVAL_MS,
  RunProgress,
} from "../lib/training/run_progress.ts";

Deno.test("batch progress: first, last of each epoch, throttled, mean loss, ETA", () => {
  let now = 1000;
  const p = new RunProgress(2, () => now);
  const sent = [];
  // 2 epochs of 10 batches, 50 ms each, 100 ms of evaluation per epoch.
  for (let epoch = 1; epoch <= 2; epoch++) {
    for (let batch = 1; batch <= 10; batch++) {
      now += 50;
      const m = p.batch({
        epoch: 10 + epoch, // the model's life epoch: not what is reported
        batch,
        batches: 10,
        size: batch === 10 ? 8 : 16,
        loss: batch, // mean so far: weighted by rows
      });
      if (m) sent.push(m);
    }
    now += 100;
    p.epochEnd();
  }
  // First of the run, then every 200 ms (4 batches), and each epoch's last.
  assertEquals(
    sent.map((m) => [m.epoch, m.batch]),
    [[1, 1], [1, 5], [1, 9], [1, 10], [2, 2], [2, 6], [2, 10]],
  );
  assertEquals(sent[0].etaMs, null);
  assertEquals(sent[0].elapsedMs, 50);
  assertEquals(sent[0].targetEpochs, 2);
  assertEquals(sent[1].loss, 3); // mean of 1..5, equal rows
  const last1 = sent[3];
  assertEquals(last1.loss, (16 * 45 + 8 * 10) / (16 * 9 + 8));
  // Epoch 1, batch 5: 5 left here + 10 in epoch 2, 50 ms each; no evaluation
  // time known yet.
  assertEquals(sent[1].etaMs, 15 * 50);
  // Epoch 2, batch 2: 8 batches left and one measured 100 ms evaluation.
  assertEquals(sent[4].etaMs, 8 * 50 + 100);
  assertEquals(sent.at(-1)!.etaMs, 100);
  assertEquals(sent.at(-1)!.elapsedMs, 20 * 50 + 100);
  for (let i = 1; i < sent.length; i++) {
    const gap = sent[i].elapsedMs - sent[i - 1].elapsedMs;
    assert(
      gap >= BATCH_MESSAGE_INTERVAL_MS || sent[i].batch === 10 ||
        sent[i - 1].batch === 10,
      `gap ${gap}`,
    );
  }
});
