import { className } from "../lib/client/dataset.ts";
import { actionTitle } from "../lib/client/key_actions.ts";
import {
  openItems,
  percent,
  reviewItemOf,
  reviewReason,
} from "../lib/client/review_controller.ts";
import { mayDo, useStore } from "../lib/client/store.ts";

/** Items listed in the card (R walks them all). */
const LISTED = 6;

/**
 * Review: labels the rest of the data disagrees with, most suspicious first
 * (lib/graph/review.ts), and labelled images that fit no class. R selects
 * the next; for the selected one the card says why; a digit relabels it,
 * Enter confirms it.
 */
/** The review queue is the reviewers' and the owner's (annotators label). */
export function ReviewQueue() {
  return mayDo(useStore(), "review") ? <ReviewCard /> : null;
}

function ReviewCard() {
  const store = useStore();
  const q = store.review.queue.value;
  const items = openItems(store);
  const selected = store.selected.value;
  const current = reviewItemOf(store, selected);
  const outliers = q?.outliers ?? [];
  return (
    <section class="card review" aria-labelledby="review-title">
      <div class="card-head">
        <h2 id="review-title">Review</h2>
        <button
          type="button"
          class="btn btn-small"
          id="review-next"
          title={actionTitle("review")}
          disabled={items.length === 0}
          onClick={() => store.actions.reviewNext()}
        >
          Next <kbd>R</kbd>
        </button>
      </div>
      <p class="muted small" id="review-note" data-count={items.length}>
        {!q
          ? "Likely mistakes appear here once 10 labels can be checked against each other."
          : q.scored === 0
          ? "Likely mistakes appear here once 10 labels of two classes or more can be checked against each other."
          : items.length === 0
          ? `No label disagrees with the rest (${q.scored} checked${
            q.confirmed ? `, ${q.confirmed} confirmed` : ""
          }).`
          : `${items.length} label${
            items.length === 1 ? "" : "s"
          } the other labels disagree with, of ${q.scored} checked. Each is hidden and predicted from the rest.`}
      </p>
      {current && (
        <div class="review-current" id="review-current">
          <p>{reviewReason(current)}</p>
          <p class="muted small">
            A digit relabels it;{" "}
            <button
              type="button"
              class="btn btn-small"
              id="review-confirm"
              title={actionTitle("confirm")}
              onClick={() => store.actions.confirmReview()}
            >
              Confirm <kbd>Enter</kbd>
            </button>{" "}
            if the label is right.
          </p>
        </div>
      )}
      {store.review.error.value && (
        <p class="form-error">{store.review.error.value}</p>
      )}
      {items.length > 0 && (
        <ol
          class="queue-list"
          id="review-list"
          data-top={items.slice(0, LISTED).map((it) => it.index).join(",")}
          aria-label="Labels to review, most suspicious first"
        >
          {items.slice(0, LISTED).map((it) => (
            <li key={it.index}>
              <button
                type="button"
                class={`queue-item ${selected === it.index ? "on" : ""}`}
                data-index={it.index}
                onClick={() => store.actions.select(it.index)}
              >
                <b>#{it.index}</b>
                <span class="muted">
                  labelled {className(it.label)}, the rest say{" "}
                  {className(it.predicted)}{" "}
                  ({percent(it.score + it.labelProbability)})
                </span>
              </button>
            </li>
          ))}
        </ol>
      )}
      {outliers.length > 0 && (
        <details class="review-outliers" id="review-outliers">
          <summary class="small">
            {outliers.length} labelled image{outliers.length === 1 ? "" : "s"}
            {" "}
            that fit no class well
          </summary>
          <ol class="queue-list">
            {outliers.slice(0, LISTED).map((o) => (
              <li key={o.index}>
                <button
                  type="button"
                  class={`queue-item ${selected === o.index ? "on" : ""}`}
                  data-index={o.index}
                  onClick={() => store.actions.select(o.index)}
                >
                  <b>#{o.index}</b>
                  <span class="muted">
                    {className(o.label)} · neighbours{" "}
                    {Math.round(100 * o.score)}% sparser than most
                  </span>
                </button>
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}
