/**
 * `--encoder model.onnx`: a real ONNX model, made by the fixture script with
 * Debian's python3-onnx, run by onnxruntime-node over real MNIST images; its
 * vectors are cached beside the graph and become a feature space of the
 * running server's label graph.
 */
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
} from "./assert.ts";
import { encoderEmbeddings } from "../lib/graph/encoder.ts";
import { graphCacheDir } from "../lib/graph/cache_dir.ts";
import { loadTrainRaw } from "../lib/data/mnist.ts";
import { decodeNpyHeader } from "../lib/npy.ts";
import { startServer } from "../support/server_process.ts";
import { waitUntil } from "../support/wait.ts";
import type { GraphInfo } from "../lib/protocol/api.ts";

const PYTHON = "/usr/bin/python3";
const HAVE_ONNX = await new Deno.Command(PYTHON, {
  args: ["-c", "import onnx"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

/** Runs the fixture script: a Flatten + MatMul encoder of C×H×W images to D. */
async function makeEncoder(
  path: string,
  c: number,
  d: number,
  seed = 1,
): Promise<Float32Array> {
  const out = await new Deno.Command(PYTHON, {
    args: [
      new URL("./fixtures/make_encoder.py", import.meta.url).pathname,
      path,
      String(c),
      "28",
      "28",
      String(d),
      String(seed),
    ],
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const bytes = await Deno.readFile(`${path}.weights.npy`);
  const h = decodeNpyHeader(bytes);
  return new Float32Array(bytes.slice(h.dataOffset).buffer);
}

Deno.test({
  name: "encoderEmbeddings: the model's vectors, cached, and clear errors",
  ignore: !HAVE_ONNX,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const n = 300, D = 8;
      const images = await loadTrainRaw({ limit: n });
      const w = await makeEncoder(`${dir}/enc.onnx`, 1, D);
      const said: string[] = [];
      const e = await encoderEmbeddings(
        `${dir}/enc.onnx`,
        images,
        `${dir}/cache`,
        (s) => said.push(s),
      );
      assertEquals(e.dim, D);
      assertEquals(e.data.length, n * D);
      // x · W, x the pixels / 255, for a few images.
      for (const i of [0, 17, 299]) {
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let p = 0; p < 784; p++) {
            s += (images.raw[i * 784 + p] / 255) * w[p * D + d];
          }
          assertAlmostEquals(e.data[i * D + d], s, 1e-4);
        }
      }
      assert(
        said.some((s) => s.startsWith("encoder: 300 of 300")),
        said.join(),
      );
      const cached = [...Deno.readDirSync(`${dir}/cache`)].map((f) => f.name);
      assertEquals(
        cached.filter((f) => /^encoder-.*\.cache$/.test(f)).length,
        1,
      );
      // Again: read back, not run.
      said.length = 0;
      const again = await encoderEmbeddings(
        `${dir}/enc.onnx`,
        images,
        `${dir}/cache`,
        (s) => said.push(s),
      );
      assertEquals(again.data, e.data);
      assert(said.some((s) => s.includes("loaded from cache")), said.join());

      // A model of colour images on grey ones: the shape it should take.
      await makeEncoder(`${dir}/rgb.onnx`, 3, D);
      await assertRejects(
        () => encoderEmbeddings(`${dir}/rgb.onnx`, images, `${dir}/cache`),
        Error,
        "it should take one input of N × 1 × 28 × 28 float32",
      );
      await Deno.writeTextFile(`${dir}/junk.onnx`, "not a model");
      await assertRejects(
        () => encoderEmbeddings(`${dir}/junk.onnx`, images, `${dir}/cache`),
        Error,
        "is not a model onnxruntime can load",
      );
      await assertRejects(
        () => encoderEmbeddings(`${dir}/none.onnx`, images, `${dir}/cache`),
        Error,
        "--encoder",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "--encoder: the server's graph scores the encoder's vectors as a feature space",
  ignore: !HAVE_ONNX,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await makeEncoder(`${dir}/enc.onnx`, 1, 32);
      const srv = await startServer({
        build: false,
        dir,
        limit: 2000,
        graph: true,
        args: ["--encoder", `${dir}/enc.onnx`],
      });
      try {
        const info = await waitUntil("the graph is ready", async () => {
          const state = await (await fetch(`${srv.url}/api/state`)).json();
          const g = state.graph as GraphInfo;
          if (g.status === "error") throw new Error(g.message);
          return g.status === "ready" ? g : null;
        }, { timeoutMs: 120_000 });
        const emb = info.features!.candidates.find((c) =>
          c.kind === "embeddings"
        );
        // A random projection of the pixels to 32 values: scored on the
        // validation images, far above chance (10%), below the pixels.
        assert(emb && emb.accuracy! > 0.4, JSON.stringify(info.features));
        const cache = graphCacheDir(`${dir}/ssvae.ckpt`);
        assert(
          [...Deno.readDirSync(cache)].some((f) =>
            f.name.startsWith("encoder-")
          ),
          "the vectors are cached beside the graph",
        );
      } finally {
        await srv.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
