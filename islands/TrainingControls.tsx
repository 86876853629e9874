import { clamp, fmtLoss, RANGES, useStore } from "../lib/client/store.ts";

/** 0.001 → "1.0e-3". */
export function fmtLearningRate(lr: number): string {
  const [m, e] = lr.toExponential(1).split("e");
  return `${m}e${Number(e)}`;
}

function fmtTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Hyper-parameters, start/stop, progress and the last messages. */
export function TrainingControls() {
  const store = useStore();
  const p = store.params;
  const t = store.training.value;
  const busy = store.isTraining.value;
  const last = store.lastEntry.value;
  const pct = t.targetEpochs > 0
    ? clamp(100 * t.epoch / t.targetEpochs, 0, 100)
    : 0;
  const log = store.log.value;
  const logLr = Math.log10(p.learningRate.value);
  const epochsOk = Number.isInteger(p.epochs.value) &&
    p.epochs.value >= RANGES.epochs.min && p.epochs.value <= RANGES.epochs.max;
  return (
    <section class="card training" aria-labelledby="training-title">
      <div class="card-head">
        <h2 id="training-title">Training</h2>
        <span class="muted small">
          Continues from the current model; labels are used as they are now.
        </span>
      </div>
      <div class="controls">
        <label class="control">
          <span class="control-name" title="Weight of the reconstruction loss">
            Recon weight
          </span>
          <output class="control-value" id="recon-value">
            {p.reconWeight.value.toFixed(0)}
          </output>
          <input
            type="range"
            id="recon-weight"
            min={RANGES.recon_weight.min}
            max={RANGES.recon_weight.max}
            step={RANGES.recon_weight.step}
            value={p.reconWeight.value}
            disabled={busy}
            onInput={(e) => p.reconWeight.value = Number(e.currentTarget.value)}
          />
        </label>
        <label class="control">
          <span class="control-name">KL weight</span>
          <output class="control-value" id="kl-value">
            {p.klWeight.value.toFixed(2)}
          </output>
          <input
            type="range"
            id="kl-weight"
            min={RANGES.kl_weight.min}
            max={RANGES.kl_weight.max}
            step={RANGES.kl_weight.step}
            value={p.klWeight.value}
            disabled={busy}
            onInput={(e) => p.klWeight.value = Number(e.currentTarget.value)}
          />
        </label>
        <label class="control">
          <span class="control-name">Learning rate</span>
          <output class="control-value" id="lr-value">
            {fmtLearningRate(p.learningRate.value)}
          </output>
          <input
            type="range"
            id="learning-rate"
            min={RANGES.log_lr.min}
            max={RANGES.log_lr.max}
            step={RANGES.log_lr.step}
            value={logLr}
            disabled={busy}
            aria-valuetext={fmtLearningRate(p.learningRate.value)}
            onInput={(e) =>
              p.learningRate.value = Number(
                (10 ** Number(e.currentTarget.value)).toPrecision(3),
              )}
          />
          <span class="scale-hint">log scale 1e-4 – 1e-2</span>
        </label>
        <label class="control control-epochs">
          <span class="control-name">Epochs</span>
          <input
            type="number"
            id="epochs"
            class={epochsOk ? "" : "invalid"}
            min={RANGES.epochs.min}
            max={RANGES.epochs.max}
            step={1}
            value={Number.isNaN(p.epochs.value) ? "" : p.epochs.value}
            disabled={busy}
            aria-invalid={!epochsOk}
            title={epochsOk
              ? "Epochs to train (1–200)"
              : "Enter a whole number from 1 to 200"}
            onInput={(e) => p.epochs.value = e.currentTarget.valueAsNumber}
          />
        </label>
        <div class="buttons">
          <button
            type="button"
            class="btn btn-primary"
            id="start-training"
            disabled={busy}
            onClick={() => store.actions.startTraining()}
          >
            ▶ Start training
          </button>
          <button
            type="button"
            class="btn"
            id="stop-training"
            disabled={t.status !== "training"}
            onClick={() => store.actions.stopTraining()}
          >
            ■ Stop
          </button>
        </div>
      </div>
      <div class="status-grid">
        <div class="status-left">
          <div class="progress-row">
            <div
              class={`progress ${busy ? "active" : ""}`}
              role="progressbar"
              aria-valuemin={0}
              aria-valuemax={t.targetEpochs || 1}
              aria-valuenow={t.epoch}
              aria-label="Training progress"
            >
              <div
                class="progress-fill"
                style={{ width: `${pct.toFixed(1)}%` }}
              />
            </div>
            <span class="progress-text" id="progress-text">
              {t.targetEpochs > 0
                ? `epoch ${t.epoch}/${t.targetEpochs}`
                : "not started"}
            </span>
          </div>
          <div class="losses" id="current-losses">
            {last
              ? (
                <>
                  <span>
                    <b>loss</b> {fmtLoss(last.train.loss)}
                    <span class="muted">/ val {fmtLoss(last.val.loss)}</span>
                  </span>
                  <span>recon {fmtLoss(last.train.reconstruction_loss)}</span>
                  <span>KL {fmtLoss(last.train.kl_loss)}</span>
                  <span>class {fmtLoss(last.train.classification_loss)}</span>
                </>
              )
              : <span class="muted">No epochs yet.</span>}
          </div>
          {t.status === "error" && t.message && (
            <div class="error-banner" role="alert" id="training-error">
              Training error: {t.message}
            </div>
          )}
        </div>
        <ol
          class="log"
          id="training-log"
          aria-live="polite"
          title="Last 10 messages, newest first"
        >
          {log.length === 0 && (
            <li class="log-empty muted">Messages from training appear here.</li>
          )}
          {[...log].reverse().map((m) => (
            <li key={m.id} class={`log-${m.kind}`}>
              <time>{fmtTime(m.time)}</time> {m.text}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
