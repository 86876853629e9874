/**
 * This browser's id in the label history (header X-Client-Id): made once,
 * kept in localStorage, so every label this browser sends is traced to it.
 * Where storage is off (a private window), one id per page load.
 */

import { CLIENT_ID_HEADER } from "../protocol/label_events.ts";

const KEY = "ssvae-client-id";
let cached: string | null = null;

/** The id, e.g. "web-3f2a9c1e". */
export function clientId(): string {
  if (cached) return cached;
  try {
    cached = globalThis.localStorage?.getItem(KEY) ?? null;
  } catch {
    // Storage refused: fall through to a fresh id.
  }
  if (!cached) {
    cached = `web-${crypto.randomUUID().slice(0, 8)}`;
    try {
      globalThis.localStorage?.setItem(KEY, cached);
    } catch {
      // Kept for this page load only.
    }
  }
  return cached;
}

/** Headers of a JSON label write: the content type and the client id. */
export function writeHeaders(): Record<string, string> {
  return { "Content-Type": "application/json", [CLIENT_ID_HEADER]: clientId() };
}
