/**
 * The most classes a data set may have: the model's classifier, the label
 * graph and the wire formats (probabilities, run records) have ten slots.
 * Shared by the server, the CLI and the page (no imports: the browser bundle
 * takes it as is).
 */
export const MAX_CLASSES = 10;
