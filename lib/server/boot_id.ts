/**
 * A random id per server start. Snapshot versions restart at 1 on every start,
 * so ETags carry this id: a browser's cached copy from an earlier run never
 * matches, whatever its version number.
 */
export const BOOT_ID: string = crypto.randomUUID().slice(0, 8);
