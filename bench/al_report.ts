/**
 * Output of `deno task bench:al`: the accuracy table (mean ± sd over seeds),
 * CSV and JSON files, and an SVG plot of test accuracy against labels.
 */

/** One row of the table: a strategy's test accuracy (%) per seed per budget. */
export interface CurveRow {
  name: string;
  /** runs[seed][budget index] */
  runs: number[][];
}

export function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1
    ? Math.sqrt(
      values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1),
    )
    : 0;
  return { mean, sd };
}

/** The table as text: one line per strategy, "mean ± sd" per budget. */
export function formatTable(budgets: number[], rows: CurveRow[]): string {
  const w = 15;
  const lines = [
    ["labels", ...budgets.map(String)].map((c, i) =>
      i === 0 ? c.padEnd(26) : c.padStart(w)
    ).join(""),
  ];
  for (const r of rows) {
    lines.push(
      [
        r.name.padEnd(26),
        ...budgets.map((_, j) => {
          const { mean, sd } = meanSd(r.runs.map((run) => run[j]));
          return `${mean.toFixed(2)} ± ${sd.toFixed(2)}`.padStart(w);
        }),
      ].join(""),
    );
  }
  return lines.join("\n");
}

/** Every run as CSV: strategy, seed, labels, accuracy. */
export function toCsv(budgets: number[], rows: CurveRow[]): string {
  const out = ["strategy,seed_index,labels,test_accuracy"];
  for (const r of rows) {
    r.runs.forEach((run, s) =>
      run.forEach((a, j) =>
        out.push(`${r.name},${s},${budgets[j]},${a.toFixed(4)}`)
      )
    );
  }
  return out.join("\n") + "\n";
}

const COLOURS = [
  "#d62728",
  "#1f77b4",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#7f7f7f",
];

/** Accuracy (mean, with ±sd bars) against labels on a log axis, as an SVG. */
export function toSvg(
  budgets: number[],
  rows: CurveRow[],
  title: string,
): string {
  const W = 760, H = 460, L = 60, R = 200, T = 40, B = 50;
  const all = rows.flatMap((r) => r.runs.flat());
  const yMin = Math.max(0, Math.floor(Math.min(...all) / 5) * 5);
  const yMax = 100;
  const lx = (n: number) =>
    L + (Math.log(n) - Math.log(budgets[0])) /
      (Math.log(budgets[budgets.length - 1]) - Math.log(budgets[0])) *
      (W - L - R);
  const ly = (a: number) => T + (yMax - a) / (yMax - yMin) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let a = yMin; a <= yMax; a += 5) {
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${ly(a)}" y2="${
        ly(a)
      }" stroke="#ddd"/>`,
      `<text x="${L - 8}" y="${ly(a) + 4}" text-anchor="end">${a}%</text>`,
    );
  }
  for (const n of budgets) {
    parts.push(
      `<line x1="${lx(n)}" x2="${lx(n)}" y1="${T}" y2="${
        H - B
      }" stroke="#eee"/>`,
      `<text x="${lx(n)}" y="${H - B + 18}" text-anchor="middle">${n}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${
      H - 10
    }" text-anchor="middle">labels (log scale)</text>`,
  );
  rows.forEach((r, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = budgets.map((n, j) => {
      const { mean, sd } = meanSd(r.runs.map((run) => run[j]));
      parts.push(
        `<line x1="${lx(n)}" x2="${lx(n)}" y1="${ly(mean - sd)}" y2="${
          ly(mean + sd)
        }" stroke="${c}"/>`,
        `<circle cx="${lx(n)}" cy="${ly(mean)}" r="3" fill="${c}"/>`,
      );
      return `${lx(n).toFixed(1)},${ly(mean).toFixed(1)}`;
    });
    parts.push(
      `<polyline points="${
        pts.join(" ")
      }" fill="none" stroke="${c}" stroke-width="2"/>`,
      `<line x1="${W - R + 15}" x2="${W - R + 35}" y1="${
        T + 10 + i * 20
      }" y2="${T + 10 + i * 20}" stroke="${c}" stroke-width="3"/>`,
      `<text x="${W - R + 40}" y="${T + 14 + i * 20}">${
        escapeXml(r.name)
      }</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
