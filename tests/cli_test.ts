import { assert, assertEquals } from "./assert.ts";
import { decodeNpyHeader } from "../lib/npy.ts";

import { runDeno } from "../support/server_process.ts";

/** Runs `deno task <script>` (cli/<script>.ts) with `args` to its end. */
async function run(script: string, args: string[]) {
  const { code, output } = await runDeno([`cli/${script}.ts`, ...args]);
  return { code, text: output };
}

Deno.test("train continues the same checkpoint; infer writes readable .npy arrays", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-" });
  await Deno.writeTextFile(
    `${dir}/labels.csv`,
    "Serial,label\n0,5\n1,0\n3,1\n",
  );
  const common = [
    "--labels",
    `${dir}/labels.csv`,
    "--weights",
    `${dir}/m.ckpt`,
    "--limit",
    "500",
  ];
  const first = await run("train", [...common, "--max-epochs", "2"]);
  assertEquals(first.code, 0, first.text);
  assert(/done: 2 epochs/.test(first.text), first.text);
  assert(/3 labelled/.test(first.text), first.text);
  const second = await run("train", [
    ...common,
    "--max-epochs",
    "1",
    "--learning-rate",
    "0.002",
  ]);
  assertEquals(second.code, 0, second.text);
  assert(/model at epoch 2, step 4/.test(second.text), second.text);
  const history = (await Deno.readTextFile(`${dir}/history.csv`)).trim().split(
    "\n",
  );
  assertEquals(history.length, 4); // header + 3 epochs

  const infer = await run("infer", [
    "--weights",
    `${dir}/m.ckpt`,
    "--limit",
    "300",
    "--output",
    `${dir}/out`,
  ]);
  assertEquals(infer.code, 0, infer.text);
  const expect: Record<string, [string, number[]]> = {
    latent: ["<f4", [300, 2]],
    recon: ["<f4", [300, 28, 28]],
    pred_class: ["|u1", [300]],
    certainty: ["<f4", [300]],
    probs: ["<f4", [300, 10]],
    true_label: ["|u1", [300]],
  };
  for (const [name, [descr, shape]] of Object.entries(expect)) {
    const bytes = await Deno.readFile(`${dir}/out/${name}.npy`);
    const h = decodeNpyHeader(bytes);
    assertEquals([h.descr, h.shape], [descr, shape], name);
    assertEquals(h.dataOffset % 64, 0);
    const itemSize = descr === "|u1" ? 1 : 4;
    assertEquals(
      bytes.length - h.dataOffset,
      shape.reduce((a, b) => a * b) * itemSize,
    );
  }
  const manifest = JSON.parse(
    await Deno.readTextFile(`${dir}/out/manifest.json`),
  );
  assertEquals(manifest.epoch, 3);

  const before = await Deno.readFile(`${dir}/m.ckpt`);
  const changed = await run("train", [...common, "--latent-dim", "3"]);
  assertEquals(changed.code, 1);
  assert(
    /--latent-dim 3 differs from the checkpoint's 2/.test(changed.text),
    changed.text,
  );
  assertEquals(await Deno.readFile(`${dir}/m.ckpt`), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the CLI refuses bad flags and a missing checkpoint with one clear line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-" });
  const bad = await run("train", ["--limit", "zero"]);
  assertEquals(bad.code, 1);
  assert(/error: --limit must be a positive integer/.test(bad.text), bad.text);
  const unknown = await run("infer", ["--bogus"]);
  assertEquals(unknown.code, 1);
  assert(/Unknown option '--bogus'/.test(unknown.text), unknown.text);
  const missing = await run("infer", ["--weights", `${dir}/none.ckpt`]);
  assertEquals(missing.code, 1);
  assert(/no such checkpoint/.test(missing.text), missing.text);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train runs on the pure-JS cpu backend too (both threads)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-" });
  const r = await run("train", [
    "--backend",
    "cpu",
    "--limit",
    "200",
    "--max-epochs",
    "1",
    "--labels",
    `${dir}/labels.csv`,
    "--weights",
    `${dir}/m.ckpt`,
  ]);
  assertEquals(r.code, 0, r.text);
  assert(/done: 1 epochs/.test(r.text), r.text);
  assert(/tfjs cpu, [12] thread\(s\)/.test(r.text), r.text);
  await Deno.remove(dir, { recursive: true });
});

const FASHION = "/usr/share/datasets/fashion-mnist";
Deno.test({
  name: "train and infer on Fashion-MNIST with --data-dir (gzipped IDX)",
  ignore: !(await Deno.stat(FASHION).then(() => true, () => false)),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-" });
    const common = [
      "--data-dir",
      FASHION,
      "--limit",
      "300",
      "--weights",
      `${dir}/f.ckpt`,
    ];
    const train = await run("train", [
      ...common,
      "--labels",
      `${dir}/l.csv`,
      "--max-epochs",
      "1",
    ]);
    assertEquals(train.code, 0, train.text);
    assert(/training on 300 images/.test(train.text), train.text);
    const infer = await run("infer", [
      ...common,
      "--split",
      "test",
      "--output",
      `${dir}/out`,
    ]);
    assertEquals(infer.code, 0, infer.text);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${dir}/out/manifest.json`),
    );
    assertEquals([manifest.split, manifest.count], ["test", 300]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("a diverging run fails with the reason and keeps its good epochs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-" });
  const weights = `${dir}/m.ckpt`;
  // Absurd loss weights and step size overflow float32 in the second epoch.
  const r = await run("train", [
    ...["--limit", "300", "--max-epochs", "30", "--learning-rate", "1"],
    ...["--recon-weight", "1000000", "--kl-weight", "1000"],
    ...["--weights", weights, "--labels", `${dir}/l.csv`],
  ]);
  assertEquals(r.code, 1, r.text);
  assert(
    /error: epoch 2: .*not finite; parameters restored/.test(r.text),
    r.text,
  );
  assert(/saved at the last good epoch 1/.test(r.text), r.text);
  const infer = await run("infer", [
    "--weights",
    weights,
    "--limit",
    "10",
    "--output",
    `${dir}/o`,
  ]);
  assertEquals(infer.code, 0, infer.text);
  const manifest = JSON.parse(
    await Deno.readTextFile(`${dir}/o/manifest.json`),
  );
  assertEquals(manifest.epoch, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train and infer on a folder of colour images (--images --color --image-size --holdout)", async () => {
  const { writeImageFolder } = await import("../support/image_fixtures.ts");
  const dir = await Deno.makeTempDir({ prefix: "ssvae-cli-images-" });
  try {
    const fx = await writeImageFolder(`${dir}/set`, { perClass: 8 });
    const common = [
      "--images",
      fx.dir,
      "--color",
      "--image-size",
      "16",
      "--holdout",
      "0.25",
      "--labels",
      `${dir}/labels.csv`,
      "--weights",
      `${dir}/m.ckpt`,
    ];
    // Serial 0 is the first path in code-point order: bag/…
    await Deno.writeTextFile(`${dir}/labels.csv`, "Serial,label\n0,3\n");
    const train = await run("train", [...common, "--max-epochs", "1"]);
    assertEquals(train.code, 0, train.text);
    assert(/1 labelled/.test(train.text), train.text);
    assert(
      /classes tshirt, trouser, sneaker, bag/.test(train.text),
      train.text,
    );
    for (const split of ["train", "test"]) {
      const infer = await run("infer", [
        ...common,
        "--split",
        split,
        "--output",
        `${dir}/out-${split}`,
      ]);
      assertEquals(infer.code, 0, infer.text);
      const manifest = JSON.parse(
        await Deno.readTextFile(`${dir}/out-${split}/manifest.json`),
      );
      assertEquals(manifest.classes, ["tshirt", "trouser", "sneaker", "bag"]);
      const n = manifest.count;
      assertEquals(manifest.files["recon.npy"].shape, [n, 16, 16, 3]);
      if (split === "train") {
        assertEquals(manifest.paths.length, n);
        assert(fx.truth.has(manifest.paths[0]));
      }
    }
    // A checkpoint of other images is refused with the reason.
    const grey = await run("infer", [
      "--images",
      fx.dir,
      "--weights",
      `${dir}/m.ckpt`,
      "--labels",
      `${dir}/labels.csv`,
    ]);
    assertEquals(grey.code, 1);
    assert(
      /model of 768-pixel images, these have 784/.test(grey.text),
      grey.text,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
