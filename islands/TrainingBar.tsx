import { pwa } from "../lib/client/pwa_state.ts";
import {
  clamp,
  fmtLoss,
  mayDo,
  RANGES,
  useStore,
} from "../lib/client/store.ts";

/** 0.001 → "1.0e-3". */
export function fmtLearningRate(lr: number): string {
  const [m, e] = lr.toExponential(1).split("e");
  return `${m}e${Number(e)}`;
}

/** 93_000 → "1:33"; 3_700_000 → "1:01:40". */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const p = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${p(m)}:${p(s % 60)}` : `${m}:${p(s % 60)}`;
}

/**
 * Training in the top bar: start/stop, epochs, a progress bar that moves
 * inside an epoch (batches, ETA), and the hyper-parameters in a collapsible
 * panel (they matter less often than the map).
 */
export function TrainingBar() {
  const store = useStore();
  const p = store.params;
  const t = store.training.value;
  const busy = store.isTraining.value;
  const prog = store.progress.value;
  const online = pwa.online.value && store.connection.value === "open";
  const epochsOk = Number.isInteger(p.epochs.value) &&
    p.epochs.value >= RANGES.epochs.min && p.epochs.value <= RANGES.epochs.max;
  const untrained = store.history.value.length === 0 && !busy;

  // Epochs done plus the running epoch's share of batches.
  let done = t.epoch;
  if (busy && prog && prog.epoch >= t.epoch) {
    done = prog.epoch - 1 + prog.batch / Math.max(1, prog.batches);
  }
  const pct = t.targetEpochs > 0
    ? clamp(100 * done / t.targetEpochs, 0, 100)
    : 0;
  let text: string;
  if (t.status === "stopping") text = "Stopping after this batch…";
  else if (busy && prog) {
    text =
      `Epoch ${prog.epoch}/${prog.targetEpochs} · batch ${prog.batch}/${prog.batches}` +
      (prog.etaMs !== null ? ` · ${fmtDuration(prog.etaMs)} left` : "");
  } else if (busy) text = `Epoch ${t.epoch + 1}/${t.targetEpochs} · starting…`;
  else if (untrained) text = "Untrained model";
  else {
    const last = store.lastEntry.value;
    const n = store.history.value.length;
    const run = store.lastRun.value;
    text = `Trained ${n} epoch${n === 1 ? "" : "s"}` +
      // A stopped run says so: "Trained 5 epochs" alone read as a run done.
      (run?.stopped
        ? ` · last run stopped after ${run.epochs} of ${run.targetEpochs}`
        : "") +
      (last ? ` · val loss ${fmtLoss(last.val.loss)}` : "");
  }

  const mayTrain = mayDo(store, "train");
  return (
    <div class="trainbar" aria-label="Training">
      <div class="trainbar-main">
        <button
          type="button"
          class="btn btn-primary"
          id="start-training"
          disabled={busy || !online || !mayTrain}
          title={!mayTrain
            ? "Only the data set's owner starts training"
            : online
            ? "Train the SSVAE on the current labels (continues from the current model)"
            : "Training needs the server: reconnect first"}
          onClick={() => store.actions.startTraining()}
        >
          ▶ Train
        </button>
        <button
          type="button"
          class="btn"
          id="stop-training"
          disabled={t.status !== "training"}
          title="Stop at the end of the current batch"
          onClick={() => store.actions.stopTraining()}
        >
          ■ Stop
        </button>
        <label class="epochs">
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
            aria-label="Epochs to train"
            title={epochsOk
              ? "Epochs to train (1–200)"
              : "Enter a whole number from 1 to 200"}
            onInput={(e) => p.epochs.value = e.currentTarget.valueAsNumber}
          />
          <span class="muted small">epochs</span>
        </label>
        <div class="trainbar-progress">
          <div
            class={`progress ${busy ? "active" : ""}`}
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(pct)}
            aria-valuetext={text}
            aria-label="Training progress"
          >
            <div
              class="progress-fill"
              style={{ width: `${pct.toFixed(1)}%` }}
            />
          </div>
          <span class="progress-text" id="progress-text">{text}</span>
        </div>
        <details class="params" id="training-params">
          <summary class="btn btn-small">Parameters</summary>
          <div class="params-panel">
            {PARAMS.map((param) => (
              <Slider
                key={param.id}
                {...param}
                value={(param.toSlider ?? same)(param.signal(p).value)}
                shown={param.show(param.signal(p).value)}
                disabled={busy}
                onInput={(v) =>
                  param.signal(p).value = (param.fromSlider ?? same)(v)}
              />
            ))}
            <p class="muted small">
              A run continues from the current model and uses the labels as they
              are when it starts.
            </p>
          </div>
        </details>
      </div>
      {t.status === "error" && t.message && (
        <div class="error-banner" role="alert" id="training-error">
          Training error: {t.message}
        </div>
      )}
    </div>
  );
}

type Params = ReturnType<typeof useStore>["params"];
const same = (v: number) => v;

/**
 * The hyper-parameters' sliders, in the order shown: ids (tests and labels
 * find them by these), names, the server's ranges, and how a value maps to
 * the slider (the learning rate moves on log10) and to its shown text.
 */
const PARAMS: Array<{
  id: string;
  outputId: string;
  name: string;
  title?: string;
  label: string;
  range: { min: number; max: number; step: number };
  hint?: string;
  signal(p: Params): { value: number };
  /** Value → slider position and back (absent: the same number). */
  toSlider?(value: number): number;
  fromSlider?(position: number): number;
  show(value: number): string;
  /** One line on what changing it does, under the slider. */
  why: string;
}> = [
  {
    id: "recon-weight",
    outputId: "recon-value",
    name: "Recon weight",
    title: "Weight of the reconstruction loss",
    label: "Reconstruction weight",
    why:
      "Higher: the model keeps more pixel detail; lower: labels and the prior shape the map more.",
    range: RANGES.recon_weight,
    signal: (p) => p.reconWeight,
    show: (v) => v.toFixed(0),
  },
  {
    id: "kl-weight",
    outputId: "kl-value",
    name: "KL weight",
    title: "Weight of the KL divergence from the prior",
    label: "KL weight",
    why:
      "Higher: the map stays closer to the prior's round shape; lower: clusters spread out more freely.",
    range: RANGES.kl_weight,
    signal: (p) => p.klWeight,
    show: (v) => v.toFixed(2),
  },
  {
    id: "learning-rate",
    outputId: "lr-value",
    name: "Learning rate",
    label: "Learning rate (log scale, 1e-4 to 1e-2)",
    why:
      "Step size of training: higher learns faster, too high and a run diverges.",
    range: RANGES.log_lr,
    hint: "log scale 1e-4 – 1e-2",
    signal: (p) => p.learningRate,
    toSlider: (v) => Math.log10(v),
    fromSlider: (v) => Number((10 ** v).toPrecision(3)),
    show: fmtLearningRate,
  },
];

/**
 * One hyper-parameter: its name, the value as shown and the range input
 * with an accessible name.
 */
function Slider(props: {
  id: string;
  /** Id of the `<output>` showing the value. */
  outputId: string;
  name: string;
  title?: string;
  label: string;
  range: { min: number; max: number; step: number };
  value: number;
  shown: string;
  disabled: boolean;
  onInput(value: number): void;
  hint?: string;
  why: string;
}) {
  return (
    <label class="control">
      <span class="control-name" title={props.title}>{props.name}</span>
      <output class="control-value" id={props.outputId}>
        {props.shown}
      </output>
      <input
        type="range"
        id={props.id}
        aria-label={props.label}
        min={props.range.min}
        max={props.range.max}
        step={props.range.step}
        value={props.value}
        disabled={props.disabled}
        aria-valuetext={props.shown}
        onInput={(e) => props.onInput(Number(e.currentTarget.value))}
      />
      {props.hint && <span class="scale-hint">{props.hint}</span>}
      <span class="control-why">{props.why}</span>
    </label>
  );
}
