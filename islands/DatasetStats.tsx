import { className, digitClasses } from "../lib/client/dataset.ts";
import { classColor } from "../lib/client/figures.ts";
import { useStore } from "../lib/client/store.ts";

const STATUS_TEXT = {
  idle: "Idle",
  training: "Training",
  stopping: "Stopping",
  error: "Error",
} as const;

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

export function fmtPercent(part: number, total: number): string {
  if (total <= 0) return "0%";
  const p = 100 * part / total;
  if (p === 0) return "0%";
  if (p < 0.1) return "<0.1%";
  return `${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

/** Totals, labelled share, per-class counts and the training status. */
export function DatasetStats() {
  const store = useStore();
  const total = store.count.value;
  const labelled = store.labelled.value;
  const per = store.countsPerClass.value;
  const t = store.training.value;
  const max = Math.max(1, ...per);
  return (
    <section class="card stats" aria-labelledby="stats-title">
      <div class="card-head">
        <h2 id="stats-title">Dataset</h2>
        <span class={`pill pill-${t.status}`} data-status={t.status}>
          {STATUS_TEXT[t.status] ?? t.status}
          {t.status === "training" || t.status === "stopping"
            ? ` ${t.epoch}/${t.targetEpochs}`
            : ""}
        </span>
      </div>
      <div class="kpis">
        <div class="kpi">
          <div class="kpi-value" data-stat="total">{fmtInt(total)}</div>
          <div class="kpi-label">images</div>
        </div>
        <div class="kpi">
          <div class="kpi-value" data-stat="labelled">{fmtInt(labelled)}</div>
          <div class="kpi-label">
            labelled ·{" "}
            <span data-stat="percent">{fmtPercent(labelled, total)}</span>
          </div>
        </div>
        <div class="kpi">
          <div class="kpi-value" data-stat="version">
            v{store.latentVersion.value}
          </div>
          <div
            class="kpi-label"
            title="The model's version: one more after every training run (the map's v)"
          >
            model version
          </div>
        </div>
      </div>
      <div
        class={`class-bars ${digitClasses() ? "" : "class-bars-named"} ${
          per.length > 10 ? "class-bars-many" : ""
        } ${per.length > 20 ? "class-bars-list" : ""}`}
        aria-label="Labels per class"
        // Two columns filled top to bottom; past 20 classes one scrolling
        // list, so long names keep their room.
        // The name column is as wide as the longest name (a monospace font:
        // `ch` is exact), up to a share of the card: "triangle" was cut.
        style={{
          "--name-ch": `${
            Math.max(...per.map((_, c) => className(c).length))
          }ch`,
          ...(per.length > 20 ? {} : {
            gridTemplateRows: `repeat(${Math.ceil(per.length / 2)}, auto)`,
          }),
        }}
      >
        {per.map((n, c) => (
          <div
            class="class-bar"
            key={c}
            title={`${n} labelled as ${className(c)}`}
          >
            <span class="class-digit">{className(c)}</span>
            <span class="bar-track">
              <span
                class="bar-fill"
                style={{
                  width: `${(100 * n / max).toFixed(1)}%`,
                  background: classColor(c),
                }}
              />
            </span>
            <span class="class-count" data-class-count={c}>{fmtInt(n)}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
