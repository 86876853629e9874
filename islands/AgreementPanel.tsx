import { mayDo, useStore } from "../lib/client/store.ts";
import { className } from "../lib/client/dataset.ts";

/** κ or α as the panel shows it: two decimals, "–" where there is no figure. */
function fig(v: number | null | undefined): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(2) : "–";
}

/**
 * A team's agreement (`--overlap K`), for reviewers and the owner:
 * Krippendorff's α over every image labelled by two annotators or more,
 * Cohen's κ of each pair, and the images whose annotators differ (a click
 * opens one; a digit then resolves it). Nothing without overlap.
 */
export function AgreementPanel() {
  const store = useStore();
  if (store.overlap.value < 2 || !mayDo(store, "review")) return null;
  const r = store.agreement.report.value;
  const error = store.agreement.error.value;
  return (
    <section class="card agreement" aria-labelledby="agreement-title">
      <div class="card-head">
        <h2 id="agreement-title">Agreement</h2>
        <a
          class="btn btn-small"
          href="/api/agreement/export"
          download
          title="Every annotation: Serial, annotator, label, time"
        >
          Export
        </a>
      </div>
      {error && <p class="form-error">{error}</p>}
      {!r ? <p class="muted">Loading…</p> : (
        <>
          <p id="agreement-alpha">
            <strong>α {fig(r.alpha)}</strong>{" "}
            <span
              class="muted"
              title="Krippendorff's alpha (nominal): 1 = the annotators always agree, 0 = as by chance"
            >
              over {r.items} image{r.items === 1 ? "" : "s"} labelled by{" "}
              {r.overlap} annotators or more
            </span>
          </p>
          {r.pairs.length > 0 && (
            <table class="agreement-pairs">
              <thead>
                <tr>
                  <th scope="col">Pair</th>
                  <th scope="col">Shared</th>
                  <th scope="col">Same</th>
                  <th
                    scope="col"
                    title="Cohen's kappa: agreement beyond chance"
                  >
                    κ
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.pairs.map((p) => (
                  <tr key={`${p.a}|${p.b}`}>
                    <td>{p.a} · {p.b}</td>
                    <td>{p.shared}</td>
                    <td>{Math.round(p.observed * 100)}%</td>
                    <td>{fig(p.kappa)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3 class="agreement-sub">
            Disagreements ({r.disagreements.length})
          </h3>
          {r.disagreements.length === 0
            ? <p class="muted">None waiting.</p>
            : (
              <ul class="agreement-list" id="disagreements">
                {r.disagreements.slice(0, 50).map((d) => (
                  <li key={d.index}>
                    <button
                      type="button"
                      class="btn btn-small"
                      data-index={d.index}
                      onClick={() => store.actions.select(d.index)}
                      title="Open it; a digit sets the label"
                    >
                      #{d.index}
                    </button>{" "}
                    {Object.entries(d.labels).map(([who, l]) =>
                      `${who} ${className(l)}`
                    ).join(" · ")}
                  </li>
                ))}
              </ul>
            )}
        </>
      )}
    </section>
  );
}
