/**
 * The most classes a data set may have. The wire formats would take 127
 * (LAT1 keeps the user label as an int8, −1 = none; the predicted class is a
 * uint8); 100 keeps what grows with the class count within ~10× MNIST's:
 * the probabilities the page downloads (N × classes bytes, 6 MB for 60k
 * images), a label's propagation over the graph (one pass per class column)
 * and the confusion matrix of every run record. Shared by the server, the
 * CLI and the page (no imports: the browser bundle takes it as is).
 */
export const MAX_CLASSES = 100;
