import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  DanglingLinkError,
  removeStaleTempFiles,
  sweepTempFiles,
  writeFileAtomic,
} from "../lib/atomic_file.ts";

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
  const uuid = () => crypto.randomUUID();
  const [a, b, c, fresh] = [uuid(), uuid(), uuid(), uuid()];
  for (
    const name of [
      `.labels.csv.${a}.tmp`,
      `.labels.csv.${b}.tmp`,
      `.other.csv.${c}.tmp`,
      "labels.csv",
    ]
  ) {
    await Deno.writeTextFile(`${dir}/${name}`, "x");
    await Deno.utime(`${dir}/${name}`, old, old);
  }
  await Deno.writeTextFile(`${dir}/.labels.csv.${fresh}.tmp`, "in progress");
  assertEquals(await removeStaleTempFiles(`${dir}/labels.csv`), 2);
  const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(left, [
    `.labels.csv.${fresh}.tmp`,
    `.other.csv.${c}.tmp`,
    "labels.csv",
  ]);
  assertEquals(await removeStaleTempFiles(`${dir}/missing/labels.csv`), 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a dead writer's temp files go at start, whatever their age; a live one's stay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "atomic-" });
  // A process that has ended: its pid is free (checked below).
  const child = new Deno.Command("true").spawn();
  const dead = child.pid;
  await child.status;
  const names = [
    `.labels.csv.${dead}-${crypto.randomUUID()}.tmp`,
    `.label-graph-0123456789abcdef.bin.${dead}-${crypto.randomUUID()}.tmp`,
    `.labels.csv.${Deno.pid}-${crypto.randomUUID()}.tmp`,
    ".notes.tmp",
  ];
  for (const name of names) await Deno.writeTextFile(`${dir}/${name}`, "x");
  const removed = await sweepTempFiles(dir);
  assertEquals(removed.sort(), names.slice(0, 2).sort());
  assertEquals(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    names.slice(2).sort(),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a symbolic link is written through to its target; a dangling one is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "atomic-" });
  await Deno.mkdir(`${dir}/synced`);
  await Deno.writeTextFile(`${dir}/synced/labels.csv`, "old");
  await Deno.symlink(`${dir}/synced/labels.csv`, `${dir}/labels.csv`);
  await writeFileAtomic(`${dir}/labels.csv`, "new");
  assert((await Deno.lstat(`${dir}/labels.csv`)).isSymlink);
  assertEquals(await Deno.readTextFile(`${dir}/synced/labels.csv`), "new");
  // No temp file left in either folder.
  assertEquals([...Deno.readDirSync(`${dir}/synced`)].length, 1);
  await Deno.symlink(`${dir}/gone.csv`, `${dir}/dangling.csv`);
  await assertRejects(
    () => writeFileAtomic(`${dir}/dangling.csv`, "x"),
    DanglingLinkError,
    "does not exist",
  );
  assert((await Deno.lstat(`${dir}/dangling.csv`)).isSymlink);
  await Deno.remove(dir, { recursive: true });
});
