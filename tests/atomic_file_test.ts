import { assertEquals } from "./assert.ts";
import { removeStaleTempFiles, writeFileAtomic } from "../lib/atomic_file.ts";

Deno.test("writeFileAtomic replaces the file and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "atomic-" });
  await writeFileAtomic(`${dir}/a.txt`, "one");
  await writeFileAtomic(`${dir}/a.txt`, new TextEncoder().encode("two"));
  assertEquals(await Deno.readTextFile(`${dir}/a.txt`), "two");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.txt"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stale temp files of a killed writer are removed, fresh ones and others kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "atomic-" });
  const old = new Date(Date.now() - 3600_000);
  for (
    const name of [
      ".labels.csv.aaa.tmp",
      ".labels.csv.bbb.tmp",
      ".other.csv.ccc.tmp",
      "labels.csv",
    ]
  ) {
    await Deno.writeTextFile(`${dir}/${name}`, "x");
    await Deno.utime(`${dir}/${name}`, old, old);
  }
  await Deno.writeTextFile(`${dir}/.labels.csv.fresh.tmp`, "in progress");
  assertEquals(await removeStaleTempFiles(`${dir}/labels.csv`), 2);
  const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(left, [
    ".labels.csv.fresh.tmp",
    ".other.csv.ccc.tmp",
    "labels.csv",
  ]);
  assertEquals(await removeStaleTempFiles(`${dir}/missing/labels.csv`), 0);
  await Deno.remove(dir, { recursive: true });
});
