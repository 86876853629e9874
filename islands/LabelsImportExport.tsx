import { dataset } from "../lib/client/dataset.ts";
import { useSignal } from "@preact/signals";
import { ApiError } from "../lib/client/api.ts";
import type { ImportRequest } from "../lib/client/active_store.ts";
import { mayDo, showToast, useStore } from "../lib/client/store.ts";
import type { ImportResult, ImportRow } from "../lib/protocol/api.ts";

/** Largest file read for import (the server caps the body at 4 MiB). */
const MAX_FILE = 3.5 * 1024 * 1024;

const fmtLabel = (l: number | null) => (l === null ? "–" : String(l));

function rowsOf(p: ImportResult): Array<ImportRow & { kind: string }> {
  return [
    ...p.sample.added.map((r) => ({ ...r, kind: "added" })),
    ...p.sample.changed.map((r) => ({ ...r, kind: "changed" })),
    ...p.sample.removed.map((r) => ({ ...r, kind: "removed" })),
  ].slice(0, 12);
}

/**
 * Export all labels (CSV or JSON) and import a labels CSV: a preview of what
 * would change, then the whole file applied in one write, or nothing.
 * Merge keeps labels the file does not mention; replace removes them.
 */
/** Import and export change or copy the whole data set: the owner's. */
export function LabelsImportExport() {
  return mayDo(useStore(), "admin") ? <ImportExportCard /> : null;
}

function ImportExportCard() {
  const store = useStore();
  const mode = useSignal<"merge" | "replace">("merge");
  const file = useSignal<{ name: string; csv: string } | null>(null);
  const preview = useSignal<ImportResult | null>(null);
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  const run = async (dryRun: boolean) => {
    const f = file.value;
    if (!f) return;
    busy.value = true;
    error.value = null;
    const body: ImportRequest = {
      csv: f.csv,
      mode: mode.value,
      dryRun,
      name: f.name,
    };
    if (!dryRun && preview.value) {
      body.ifRevision = preview.value.labelsRevision;
    }
    try {
      const res = await store.active.actions.importLabels(body);
      if (dryRun) preview.value = res;
      else {
        preview.value = null;
        file.value = null;
        showToast(
          store,
          `Imported: ${res.added} added, ${res.changed} changed, ${res.removed} removed`,
          "success",
        );
      }
    } catch (e) {
      preview.value = null;
      error.value = e instanceof ApiError
        ? e.message
        : `Import failed: ${(e as Error).message}`;
    } finally {
      busy.value = false;
    }
  };

  const onFile = async (ev: Event) => {
    const input = ev.currentTarget as HTMLInputElement;
    const f = input.files?.[0];
    input.value = "";
    preview.value = null;
    error.value = null;
    if (!f) return;
    if (f.size > MAX_FILE) {
      error.value = `${f.name} is ${
        (f.size / 1e6).toFixed(1)
      } MB: a labels CSV of 60,000 rows is under 1 MB`;
      return;
    }
    file.value = { name: f.name, csv: await f.text() };
    await run(true);
  };

  const p = preview.value;
  const nothing = p !== null && p.added + p.changed + p.removed === 0;
  return (
    <section class="card import-export" aria-labelledby="files-title">
      <div class="card-head">
        <h2 id="files-title">Labels file</h2>
        <span class="muted small">
          {store.labelled.value.toLocaleString("en-US")} labels
        </span>
      </div>
      <div class="file-row">
        <span class="muted small">Export</span>
        <a
          class="btn btn-small"
          id="export-csv"
          href="/api/labels/export?format=csv"
          download
        >
          CSV
        </a>
        <a
          class="btn btn-small"
          id="export-json"
          href="/api/labels/export?format=json"
          download
        >
          JSON
        </a>
        {dataset.value.kind === "images" && (
          <a
            class="btn btn-small"
            id="export-paths"
            href="/api/labels/export?format=paths"
            title="One row per labelled file: its path and class name"
            download
          >
            path,class
          </a>
        )}
      </div>
      <div class="file-row">
        <span class="muted small">Import</span>
        <label class="btn btn-small file-pick">
          Choose CSV…
          <input
            type="file"
            id="import-file"
            accept=".csv,text/csv"
            onChange={onFile}
          />
        </label>
        <div class="segmented" role="radiogroup" aria-label="Import mode">
          {(["merge", "replace"] as const).map((m) => (
            <button
              type="button"
              key={m}
              role="radio"
              aria-checked={mode.value === m}
              class={mode.value === m ? "on" : ""}
              data-import-mode={m}
              title={m === "merge"
                ? "Add and change labels; keep the ones the file lacks"
                : "Make the labels exactly the file's (others removed)"}
              onClick={() => {
                mode.value = m;
                if (file.value) run(true);
              }}
            >
              {m === "merge" ? "Merge" : "Replace"}
            </button>
          ))}
        </div>
      </div>
      {error.value && (
        <p class="form-error" id="import-error" role="alert">{error.value}</p>
      )}
      {p && file.value && (
        <div class="import-preview" id="import-preview">
          <p>
            <b>{file.value.name}</b> ({p.rows.toLocaleString("en-US")} labels,
            {" "}
            {p.mode}):{" "}
            <span class="add" data-count="added">+{p.added} added</span>,{" "}
            <span class="chg" data-count="changed">{p.changed} changed</span>,
            {" "}
            <span class="del" data-count="removed">−{p.removed} removed</span>,
            {" "}
            {p.unchanged} unchanged → {p.labelledAfter.toLocaleString("en-US")}
            {" "}
            labels.
          </p>
          {!nothing && (
            <table class="preview-rows">
              <thead>
                <tr>
                  <th>image</th>
                  <th>now</th>
                  <th>after</th>
                </tr>
              </thead>
              <tbody>
                {rowsOf(p).map((r) => (
                  <tr key={r.index} class={r.kind}>
                    <td>#{r.index}</td>
                    <td>{fmtLabel(r.before)}</td>
                    <td>{fmtLabel(r.after)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div class="buttons">
            <button
              type="button"
              class="btn btn-small"
              onClick={() => {
                preview.value = null;
                file.value = null;
              }}
            >
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-small btn-primary"
              id="import-apply"
              disabled={busy.value || nothing}
              onClick={() => run(false)}
            >
              {nothing ? "Nothing to change" : "Apply all"}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
