import { fmtLoss, useStore } from "../lib/client/store.ts";

function fmtTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The last epoch's losses and the last messages (errors in red). */
export function TrainingLog() {
  const store = useStore();
  const last = store.lastEntry.value;
  const log = store.log.value;
  return (
    <section class="card training-log" aria-labelledby="log-title">
      <div class="card-head">
        <h2 id="log-title">Training log</h2>
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
    </section>
  );
}
