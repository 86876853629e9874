/** Summaries of repeated timings, for the benchmarks' reports. */

/** The median of `xs` (the mean of the middle two for an even count); NaN for none. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** "median 120 ms (min 98, max 150, n=3)", or "n/a" for no timings. */
export function describeMs(xs: number[]): string {
  return xs.length === 0
    ? "n/a"
    : `median ${median(xs).toFixed(0)} ms (min ${
      Math.min(...xs).toFixed(0)
    }, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;
}
