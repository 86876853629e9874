/** Converts a file: URL to a platform path (no @std/path here: JSR is unreachable). */
export function fromFileUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol !== "file:") throw new Error(`not a file URL: ${url}`);
  return decodeURIComponent(u.pathname);
}
