/** Classification accuracy of predictions against true labels. */

/** Overall and per-class accuracy, and the confusion matrix (rows = true class). */
export interface Accuracy {
  overall: number;
  perClass: number[];
  confusion: number[][];
}

/**
 * Compares `predicted` with `truth` (same length, classes 0 … classes-1;
 * `classes` is the model's class count, 10 for MNIST).
 */
export function accuracyOf(
  predicted: Uint8Array,
  truth: Uint8Array,
  classes = 10,
): Accuracy {
  const confusion = Array.from(
    { length: classes },
    () => new Array(classes).fill(0),
  );
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    confusion[truth[i]][predicted[i]]++;
    if (truth[i] === predicted[i]) correct++;
  }
  const perClass = confusion.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[c] / n : 0;
  });
  return {
    overall: truth.length ? correct / truth.length : 0,
    perClass,
    confusion,
  };
}
