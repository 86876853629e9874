/**
 * Base64, the encoding of the images in `GET /api/samples/:i` (the server
 * writes it, the page and the offline layer read and write it). Hono's
 * encoder does the work (no @std/encoding: JSR is unreachable here); this
 * module only gives it a typed-array signature, one place for both sides.
 */
import { decodeBase64, encodeBase64 } from "hono/utils/encode";

/** Base64 of `bytes` (only the view's own bytes, not its whole buffer). */
export function bytesToBase64(bytes: Uint8Array): string {
  // Hono's encoder copies `new Uint8Array(buf)`: a view passes as its bytes.
  return encodeBase64(bytes as unknown as ArrayBufferLike);
}

/** The bytes of base64 `text` (throws on text that is not base64). */
export function base64ToBytes(text: string): Uint8Array {
  return decodeBase64(text);
}
