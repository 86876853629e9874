/**
 * Problems found in the user's files (lib/protocol/api.ts's DataNotice): made
 * here by whoever reads a file (the image folder, labels.csv, a cache), then
 * printed in the terminal and kept on the page by lib/server/notice_board.ts.
 * One shape for both, so the page never says less than the terminal.
 */

import type { DataNotice, DataNoticeKind } from "./protocol/api.ts";
import { NOTICE_ITEMS } from "./protocol/limits.ts";
import { printable } from "./quote_input.ts";

/** A notice of `kind`: the first NOTICE_ITEMS items, control characters escaped. */
export function makeNotice(
  kind: DataNoticeKind,
  title: string,
  items: string[] = [],
): DataNotice {
  return {
    kind,
    title: printable(title),
    items: items.slice(0, NOTICE_ITEMS).map(printable),
    total: items.length,
  };
}

/** A notice as terminal lines: "warning: title", then its items indented. */
export function noticeLines(n: DataNotice): string[] {
  const lines = [`warning: ${n.title}`];
  for (const item of n.items) lines.push(`  ${item}`);
  if (n.total > n.items.length) {
    lines.push(`  … and ${n.total - n.items.length} more`);
  }
  return lines;
}
