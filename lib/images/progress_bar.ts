/** The first decode's progress as one line of text (terminal and page alike). */

import type { DecodeProgress } from "./prepare.ts";

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60
    ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`
    : `${s} s`;
}

/** `decoding images [#####-----] 23,801/60,000 40% · 3 failed · 21 s · ETA 32 s` */
export function progressLine(p: DecodeProgress, width = 24): string {
  const share = p.total > 0 ? p.done / p.total : 1;
  const filled = Math.round(share * width);
  const fmt = (n: number) => n.toLocaleString("en-US");
  return `decoding images [${"#".repeat(filled)}${
    "-".repeat(width - filled)
  }] ` +
    `${fmt(p.done)}/${fmt(p.total)} ${Math.floor(share * 100)}%` +
    (p.failed > 0 ? ` · ${fmt(p.failed)} failed` : "") +
    ` · ${clock(p.seconds)}` +
    (p.etaSeconds !== null && p.done < p.total
      ? ` · ETA ${clock(p.etaSeconds)}`
      : "");
}

/**
 * A progress reporter for a terminal: redraws one line in place on a TTY,
 * else prints a line every `everySeconds` (logs stay readable).
 */
export function terminalProgress(
  log: (line: string) => void,
  everySeconds = 5,
): (p: DecodeProgress) => void {
  const tty = Deno.stdout.isTerminal();
  let last = -Infinity;
  return (p) => {
    const end = p.done === p.total;
    if (tty) {
      Deno.stdout.writeSync(
        new TextEncoder().encode(`\r${progressLine(p)}${end ? "\n" : ""}`),
      );
    } else if (end || p.seconds - last >= everySeconds) {
      last = p.seconds;
      log(progressLine(p));
    }
  };
}
