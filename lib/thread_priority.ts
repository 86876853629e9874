/**
 * Background work yields the CPU to the page: the threads that train and
 * build (workers/training_worker.ts, gradient_worker.ts,
 * graph_build_worker.ts) lower their own scheduling priority, so the HTTP
 * thread, whose work is a few hundred microseconds per request, runs the
 * moment it has any.
 *
 * Why: training keeps both cores busy (the trainer splits every batch with
 * its helper thread), and at equal priority the HTTP thread waited its turn
 * behind them: label writes with 50 clients went from p95 36 ms idle to
 * 60–66 ms while training. A lower priority costs training nothing while
 * the page is quiet (nothing else wants the CPU then).
 *
 * Linux only: the nice value is per thread there (`setpriority` on the
 * thread's id; threads started later inherit it). Elsewhere, or without FFI
 * permission, nothing changes. Hand-written: two libc calls; no package
 * wraps them for Deno.
 */

/** The nice value of background threads: ~10× less CPU share than the page's. */
export const BACKGROUND_NICE = 10;

const PRIO_PROCESS = 0;

/**
 * Lowers the calling thread's priority to `nice` (higher = lower priority;
 * an unprivileged thread can only go up). Returns whether it took.
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      gettid: { parameters: [], result: "i32" },
      setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
    });
    try {
      const tid = libc.symbols.gettid();
      return libc.symbols.setpriority(PRIO_PROCESS, tid, nice) === 0;
    } finally {
      libc.close();
    }
  } catch {
    // No FFI permission, or no glibc: the default priority stays.
    return false;
  }
}
