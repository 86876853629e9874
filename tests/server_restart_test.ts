/**
 * A worker that dies and whose replacement cannot start (the checkpoint went
 * bad meanwhile) is let go: training start then reports the real reason.
 */
import { assertEquals, assertMatch } from "./assert.ts";
import { connectWs, json } from "../support/api_client.ts";
import { startServer } from "../support/server_process.ts";

Deno.test(
  "a replacement worker that fails to start is reported, not retried forever",
  async () => {
    const srv = await startServer({
      build: false,
      limit: 500,
      testHooks: true,
    });
    const ws = await connectWs(srv.wsUrl);
    try {
      await ws.waitFor((m) => m.type === "hello");
      const r = await json(srv.url, "POST", "/api/training/start", {
        epochs: 1,
      });
      assertEquals(r.status, 202);
      await ws.waitFor((m) => m.type === "training_complete", 120_000);
      // Corrupt the checkpoint, then kill the worker: its replacement must load it.
      const bytes = await Deno.readFile(srv.weightsPath);
      bytes[bytes.length - 10] ^= 0xff;
      await Deno.writeFile(srv.weightsPath, bytes);
      const seq = ws.messages.at(-1)!.seq as number;
      await json(srv.url, "POST", "/api/_test/fault", { fault: "crash" });
      const failed = await ws.waitFor(
        (m) =>
          (m.seq as number) > seq && m.type === "training_error" &&
          /failed to start/.test(String(m.message)),
        60_000,
      );
      assertMatch(String(failed.message), /checksum mismatch/);
      const again = await json(srv.url, "POST", "/api/training/start", {
        epochs: 1,
      });
      assertEquals(again.status, 503);
      assertMatch(
        String(again.body.error),
        /failed to start: .*checksum mismatch/,
      );
      // Labels keep working.
      assertEquals(
        (await json(srv.url, "PUT", "/api/labels/3", { label: 4 })).status,
        200,
      );
    } finally {
      ws.close();
      await srv.stop();
    }
  },
);

Deno.test(
  "a snapshot cached from an earlier server run never answers 304 after a restart",
  async () => {
    // The second server opens the first one's files: the folder outlives it.
    const first = await startServer({
      build: false,
      limit: 300,
      keepDir: true,
    });
    const a = await fetch(`${first.url}/api/latent`);
    await a.body?.cancel();
    const p = await fetch(`${first.url}/api/probs`);
    await p.body?.cancel();
    const [latentTag, probsTag] = [
      a.headers.get("etag")!,
      p.headers.get("etag")!,
    ];
    await first.stop();
    // Same files, same version numbers: only the boot id differs.
    const second = await startServer({
      build: false,
      limit: 300,
      dir: first.dir,
    });
    try {
      for (
        const [path, tag] of [["/api/latent", latentTag], [
          "/api/probs",
          probsTag,
        ]]
      ) {
        const r = await fetch(`${second.url}${path}`, {
          headers: { "If-None-Match": tag },
        });
        await r.body?.cancel();
        assertEquals(r.status, 200, `${path} with the old ETag ${tag}`);
        const same = await fetch(`${second.url}${path}`, {
          headers: { "If-None-Match": r.headers.get("etag")! },
        });
        await same.body?.cancel();
        assertEquals(same.status, 304);
      }
    } finally {
      await second.stop();
      await Deno.remove(first.dir, { recursive: true });
    }
  },
);
