/**
 * `--embeddings FILE.npy`: the user's vectors as a feature space of the
 * label graph. Every malformed file is refused with the shape it should
 * have; a file of good vectors wins the validation choice in the running
 * server over every pixel space.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { encodeNpy } from "../lib/npy.ts";
import {
  checkEmbeddingsFile,
  readEmbeddings,
} from "../lib/graph/embeddings_file.ts";
import { startServer } from "../support/server_process.ts";
import { waitUntil } from "../support/wait.ts";
import { loadTrainImages } from "../lib/data/mnist.ts";
import { Rng } from "../lib/ssvae/rng.ts";
import type { GraphInfo } from "../lib/protocol/api.ts";

const N = 2000;

/** Vectors of an encoder that knows the classes: the one-hot class plus noise. */
function goodVectors(truth: Uint8Array, dim = 16): Float32Array {
  const rng = new Rng(7);
  const out = new Float32Array(truth.length * dim);
  for (let i = 0; i < truth.length; i++) {
    for (let d = 0; d < dim; d++) {
      out[i * dim + d] = (d === truth[i] ? 1 : 0) + 0.3 * rng.uniform();
    }
  }
  return out;
}

Deno.test("readEmbeddings: every malformed file is refused with the expected shape", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      return `${dir}/${name}`;
    };
    const ok = await write("ok.npy", encodeNpy(new Float32Array(6), [3, 2]));
    const e = await readEmbeddings(ok, 3);
    assertEquals(e.dim, 2);
    assertEquals(e.data.length, 6);
    // float64 is narrowed, not refused.
    // 48 bytes of values: read as 3 × 2 float64 once the header says so.
    const f8bytes = encodeNpy(new Float32Array(12), [6, 2]);
    const header = new TextDecoder().decode(f8bytes.subarray(10, 128))
      .replace("<f4", "<f8").replace("(6, 2)", "(3, 2)");
    f8bytes.set(new TextEncoder().encode(header), 10);
    const d64 = await readEmbeddings(await write("f8.npy", f8bytes), 3);
    assertEquals(d64.dim, 2);

    const cases: [string, Uint8Array, RegExp][] = [
      [
        "rows.npy",
        encodeNpy(new Float32Array(8), [4, 2]),
        /has shape \(4, 2\): expected 3 × D float32/,
      ],
      [
        "flat.npy",
        encodeNpy(new Float32Array(3), [3]),
        /has shape \(3\): expected 3 × D float32/,
      ],
      [
        "int.npy",
        encodeNpy(new Int32Array(6), [3, 2]),
        /holds <i4 values: expected 3 × D float32/,
      ],
      ["text.npy", new TextEncoder().encode("1,2\n3,4\n5,6\n"), /not a NumPy/],
      [
        "short.npy",
        encodeNpy(new Float32Array(6), [3, 2]).subarray(0, 130),
        /cut short or padded/,
      ],
      [
        "nan.npy",
        encodeNpy(Float32Array.from([0, 0, 0, NaN, 0, 0]), [3, 2]),
        /row 1 .* holds NaN/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const path = await write(name, bytes);
      await assertRejects(() => readEmbeddings(path, 3), Error, message);
    }
    const fortran = encodeNpy(new Float32Array(6), [3, 2]);
    const t = new TextDecoder().decode(fortran.subarray(10, 128)).replace(
      "'fortran_order': False",
      "'fortran_order': True ",
    );
    fortran.set(new TextEncoder().encode(t), 10);
    await assertRejects(
      async () => checkEmbeddingsFile(await write("f.npy", fortran), 3),
      Error,
      /column-major/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--embeddings: good vectors win the feature choice; a wrong file stops the start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const truth = (await loadTrainImages({ limit: N })).labels;
    const path = `${dir}/vectors.npy`;
    await Deno.writeFile(path, encodeNpy(goodVectors(truth), [N, 16]));
    await Deno.writeFile(
      `${dir}/wrong.npy`,
      encodeNpy(goodVectors(truth.subarray(0, N - 1)), [N - 1, 16]),
    );
    await assertRejects(
      () =>
        startServer({
          build: false,
          limit: N,
          graph: true,
          args: ["--embeddings", `${dir}/wrong.npy`],
        }),
      Error,
      /has shape \(1999, 16\): expected 2000 × D float32/,
    );

    const srv = await startServer({
      build: false,
      limit: N,
      graph: true,
      args: ["--embeddings", path],
    });
    try {
      // Ready is told once, maybe before a socket could hear it: the state.
      const info = await waitUntil("the graph is ready", async () => {
        const state = await (await fetch(`${srv.url}/api/state`)).json();
        const g = state.graph as GraphInfo;
        return g.status === "ready" ? g : null;
      }, { timeoutMs: 120_000 });
      const f = info.features!;
      assertEquals(f.kind, "embeddings");
      assert(f.accuracy! > 0.95, `embeddings validation 10-NN ${f.accuracy}`);
      const kinds = f.candidates.map((c: { kind: string }) => c.kind);
      assert(kinds.includes("pixels") && kinds.includes("embeddings"));
      for (const c of f.candidates) {
        if (c.kind !== "embeddings") assert(c.accuracy! < f.accuracy!);
      }
      assert(srv.output().includes(`embeddings: ${path} (2000 × 16)`));
    } finally {
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
