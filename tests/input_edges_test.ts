/**
 * Unit tests of input edges: quoting rejected input (capped), the import
 * body's strict booleans, mixed line ends in a labels CSV, the read-only file
 * refusal and a directory given as the checkpoint.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { clip, ECHO_LIMIT, quoteInput } from "../lib/quote_input.ts";
import { parseImportBody } from "../lib/server/bulk_labels.ts";
import { HTTPException } from "hono/http-exception";
import { parseLabelsCsv } from "../lib/labels/labels_store.ts";
import { ReadOnlyFileError, writeFileAtomic } from "../lib/atomic_file.ts";
import { checkpointExists } from "../lib/training/checkpoint.ts";

function httpStatus(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert(e instanceof HTTPException, `not an HTTPException: ${e}`);
    return e.status;
  }
  throw new Error("did not throw");
}

Deno.test("quoting rejected input is capped", () => {
  assertEquals(quoteInput("abc"), '"abc"');
  assertEquals(quoteInput(undefined), "undefined");
  assertEquals(quoteInput(10n), "10");
  const deep = JSON.parse("[".repeat(500) + "]".repeat(500));
  const q = quoteInput(deep);
  assertEquals(q.length, ECHO_LIMIT);
  assert(q.endsWith("…"));
  assertEquals(clip("x".repeat(ECHO_LIMIT)), "x".repeat(ECHO_LIMIT));
});

Deno.test("import body: dryRun and mode are strict (null is refused)", () => {
  assertEquals(parseImportBody({ csv: "" }).dryRun, false);
  assertEquals(parseImportBody({ csv: "", dryRun: true }).dryRun, true);
  for (const bad of [null, 0, "false", []]) {
    assertEquals(
      httpStatus(() => parseImportBody({ csv: "", dryRun: bad })),
      400,
    );
  }
  assertEquals(httpStatus(() => parseImportBody({ csv: "", mode: null })), 400);
});

Deno.test("labels CSV: mixed CRLF / LF / CR line ends parse", () => {
  const labels = parseLabelsCsv("Serial,label\r\n1,2\n3,4\r\n5,6\r7,8\n", 10);
  assertEquals([labels[1], labels[3], labels[5], labels[7]], [2, 4, 6, 8]);
  // A bad row still names its own line, counted across the mixed ends.
  try {
    parseLabelsCsv("Serial,label\r\n1,2\n3,x\r\n", 10);
    throw new Error("accepted");
  } catch (e) {
    assertMatch((e as Error).message, /line 3: label must be/);
  }
});

Deno.test("a read-only file is not replaced; a directory is not a checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae_ro_" });
  try {
    const path = `${dir}/labels.csv`;
    await Deno.writeTextFile(path, "Serial,label\n1,2\n");
    await Deno.chmod(path, 0o444);
    let err: unknown;
    try {
      await writeFileAtomic(path, "Serial,label\n");
    } catch (e) {
      err = e;
    }
    assert(err instanceof ReadOnlyFileError, String(err));
    assertMatch((err as Error).message, /read-only \(mode 0444\)/);
    assertEquals(await Deno.readTextFile(path), "Serial,label\n1,2\n");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o444);
    assertEquals([...Deno.readDirSync(dir)].length, 1, "temp file left");

    assertEquals(await checkpointExists(`${dir}/none.ckpt`), false);
    assertEquals(await checkpointExists(path), true);
    let dirErr: unknown;
    try {
      await checkpointExists(dir);
    } catch (e) {
      dirErr = e;
    }
    assertMatch(String(dirErr), /CheckpointError: .* is a directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
