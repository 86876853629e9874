/**
 * `train` and `infer` on a folder of 12 classes: a model of 12 outputs,
 * probs.npy 12 wide, and a checkpoint refused (by both) once the folder has
 * a 13th class.
 */
import { assert, assertEquals } from "./assert.ts";
import { writeManyClassFolder } from "../support/many_class_fixtures.ts";
import { pngOf, sourceImage } from "../support/image_fixtures.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function run(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}cli/${script}.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("train and infer on 12 classes; a 13th class refuses the checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-many-" });
  try {
    const fx = await writeManyClassFolder(`${dir}/set`, { perClass: 5 });
    const common = [
      "--images",
      fx.dir,
      "--labels",
      `${dir}/labels.csv`,
      "--weights",
      `${dir}/m.ckpt`,
    ];
    // Serials follow the paths in code-point order: 0 is bag/…, the last zero/….
    const last = fx.truth.size - 1;
    await Deno.writeTextFile(`${dir}/labels.csv`, `Serial,label\n${last},11\n`);
    const train = await run("train", [...common, "--max-epochs", "1"]);
    assertEquals(train.code, 0, train.text);
    assert(/1 labelled/.test(train.text), train.text);
    const infer = await run("infer", [...common, "--output", `${dir}/out`]);
    assertEquals(infer.code, 0, infer.text);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${dir}/out/manifest.json`),
    );
    assertEquals(manifest.classes, fx.classes);
    assertEquals(manifest.files["probs.npy"].shape, [fx.truth.size, 12]);

    await Deno.mkdir(`${fx.dir}/trouser`);
    const { pixels } = await sourceImage("fashion", 3);
    await Deno.writeFile(`${fx.dir}/trouser/t.png`, pngOf(pixels, 1));
    for (const script of ["infer", "train"]) {
      const r = await run(
        script,
        script === "infer" ? [...common, "--output", `${dir}/out2`] : common,
      );
      assertEquals(r.code, 1, r.text);
      assert(
        /m\.ckpt is a model of 12 classes, this data set has 13/.test(r.text),
        r.text,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
