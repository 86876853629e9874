/**
 * Training worker: runs a TrainingSession (lib/training/session.ts), which
 * owns the images, the SSVAE and its checkpoint, so training (seconds to
 * minutes of CPU) never blocks the HTTP thread. This file only passes
 * messages: each one received goes to the session, each one the session
 * emits is posted with its transfer list.
 *
 * Protocol: lib/protocol/training_worker.ts.
 */

/// <reference lib="deno.worker" />

import { initBackend } from "../lib/ssvae/backend.ts";
import { lowerThreadPriority } from "../lib/thread_priority.ts";
import { TrainingSession } from "../lib/training/session.ts";
import type { ToWorker } from "../lib/protocol/training_worker.ts";

const session = new TrainingSession({
  emit: (msg, transfer) => self.postMessage(msg, transfer),
  // The "crash" test hook: an uncaught error outside any handler kills the
  // worker, as a real bug would, so the controller's restart path is tested.
  crash: () =>
    setTimeout(() => {
      throw new Error("injected crash (test hook)");
    }, 0),
});

// Background work: the page's requests go first (lib/thread_priority.ts).
lowerThreadPriority();

// tfjs starts loading now, before `init`: the server spawns this worker
// before it reads an image folder, so the two overlap. A failure here is
// not lost: `init` awaits the same promise and reports it.
initBackend().catch(() => {});

self.onmessage = (ev: MessageEvent<ToWorker>) => session.receive(ev.data);
