/**
 * Unit tests of OfflineApi (lib/client/offline_api.ts) without a browser: a
 * fake server Api (up, unreachable, or answering an HTTP error), an in-memory
 * queue and in-memory copies. The browser side (IndexedDB, Cache Storage, the
 * service worker) is covered end to end by tests/e2e_pwa_test.ts.
 */
import { ApiError, type DashboardApi } from "../lib/client/api.ts";
import { type LabelQueue, OfflineApi } from "../lib/client/offline_api.ts";
import type { LabelOp } from "../lib/client/pwa_shared.ts";
import { bytesToBase64 } from "../lib/protocol/base64.ts";
import type { LatentSnapshot } from "../lib/protocol/latent_format.ts";
import type { ApiState, LabelChange, Sample } from "../lib/protocol/api.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";

/** A 4-point snapshot: #1 labelled 7, the rest unlabelled. */
function snapshot(version: number): LatentSnapshot {
  return {
    version,
    count: 4,
    x: new Float32Array([0, 1, 2, 3]),
    y: new Float32Array([3, 2, 1, 0]),
    predClass: new Uint8Array([5, 7, 2, 9]),
    certainty: new Uint8Array([255, 51, 102, 0]),
    userLabel: new Int8Array([-1, 7, -1, -1]),
  };
}

const STATE = { count: 4, labelled: 1 } as ApiState;

type Mode = "up" | "unreachable" | "http-error" | "signed-out";

/** The server: records every call; fails the way `mode` says. */
class FakeServer implements DashboardApi {
  mode: Mode = "up";
  calls: string[] = [];
  sampleAnswer: Sample = {
    index: 2,
    label: null,
    predClass: 2,
    certainty: 0.4,
    probs: [0.1, 0.9],
    original: "AAAA",
    recon: "BBBB",
    latentVersion: 3,
  };

  async #call<T>(what: string, answer: T): Promise<T> {
    this.calls.push(what);
    await Promise.resolve();
    // What fetch throws when the request never reaches the server.
    if (this.mode === "unreachable") throw new TypeError("Failed to fetch");
    if (this.mode === "http-error") throw new ApiError(500, "server error");
    if (this.mode === "signed-out") {
      throw new ApiError(
        401,
        "your session has ended: sign in again at /login",
      );
    }
    return answer;
  }

  state = () => this.#call("state", STATE);
  latent = (force?: boolean) =>
    this.#call(`latent ${force ?? false}`, snapshot(3));
  sample = (index: number) =>
    this.#call(`sample ${index}`, { ...this.sampleAnswer, index });
  setLabel = (index: number, label: number) =>
    this.#call(`set ${index} ${label}`, { index, label, applied: true });
  deleteLabel = (index: number) =>
    this.#call(`delete ${index}`, { index, label: null, applied: true });
  setLabels = (changes: LabelChange[]) =>
    this.#call(`batch ${changes.length}`, {
      applied: changes.length,
      changed: changes.length,
      stale: [],
    });
  probs = () => this.#call("probs", null);
  thumbnails = () =>
    this.#call("thumbnails", {
      rows: 1,
      cols: 1,
      channels: 1,
      bytes: new Uint8Array(1),
    });
  labelSources = () => this.#call("labelSources", new Uint8Array(0));
  evaluations = () => this.#call("evaluations", { runs: [] });
  review = () =>
    this.#call("review", {
      revision: 0,
      items: [],
      outliers: [],
      scored: 0,
      labelled: 0,
      current: true,
      confirmed: 0,
    });
  confirmReview = () => this.#call("confirm", undefined);
  agreement = () =>
    this.#call("agreement", {
      overlap: 2,
      items: 0,
      alpha: NaN,
      pairs: [],
      disagreements: [],
    });
  labelHistory = (index: number) =>
    this.#call("history", { index, events: [] });
  exportLabels = () => this.#call("export", new Map([[1, 7]]));
  importLabels = () => this.#call("import", {} as never);
  startTraining = () => this.#call("train", { status: "started" });
  stopTraining = () => this.#call("stop", undefined);
}

/** The IndexedDB queue, in memory; `usable: false` is a browser without one. */
class MemoryQueue implements LabelQueue {
  ops: LabelOp[] = [];
  constructor(readonly usable = true) {}
  ready = () => Promise.resolve(this.usable);
  get pending() {
    return this.ops.length;
  }
  add(changes: LabelChange[], clientTime: number): Promise<void> {
    for (const c of changes) this.ops.push({ ...c, clientTime });
    return Promise.resolve();
  }
}

const IMAGE_2 = new Uint8Array([0, 128, 255, 64]);

function setup(
  opts: {
    offline?: boolean;
    queue?: MemoryQueue;
    copies?: { latent?: LatentSnapshot; state?: ApiState };
    snapshot?: LatentSnapshot | null;
  } = {},
) {
  const server = new FakeServer();
  const queue = opts.queue ?? new MemoryQueue();
  let offline = opts.offline ?? false;
  let clock = 1000;
  let signedOut = 0;
  const api = new OfflineApi({
    server,
    queue,
    copies: {
      latent: () => Promise.resolve(opts.copies?.latent ?? null),
      state: () => Promise.resolve(opts.copies?.state ?? null),
    },
    images: {
      image: (i) => Promise.resolve(i === 2 ? IMAGE_2 : null),
    },
    isOffline: () => offline,
    snapshot: () => opts.snapshot === undefined ? snapshot(3) : opts.snapshot,
    now: () => clock,
    onSignedOut: () => signedOut++,
  });
  return {
    signedOut: () => signedOut,
    api,
    server,
    queue,
    goOffline: (v: boolean) => offline = v,
    setClock: (t: number) => clock = t,
  };
}

Deno.test("online: every call passes through, nothing is queued", async () => {
  const { api, server, queue } = setup();
  assertEquals(await api.setLabel(1, 3), { index: 1, label: 3, applied: true });
  assertEquals(await api.deleteLabel(2), {
    index: 2,
    label: null,
    applied: true,
  });
  assertEquals(
    await api.setLabels([{ index: 0, label: 1 }, { index: 3, label: 2 }]),
    { applied: 2, changed: 2, stale: [] },
  );
  assertEquals((await api.latent(true))?.version, 3);
  assertEquals(await api.state(), STATE);
  assertEquals((await api.sample(2)).recon, "BBBB");
  assertEquals(await api.exportLabels(), new Map([[1, 7]]));
  assertEquals(await api.startTraining({ epochs: 1 }), { status: "started" });
  assertEquals(server.calls, [
    "set 1 3",
    "delete 2",
    "batch 2",
    "latent true",
    "state",
    "sample 2",
    "export",
    "train",
  ]);
  assertEquals(queue.ops, []);
});

Deno.test("offline: writes are queued in order, answered `queued`, never sent", async () => {
  const { api, server, queue } = setup({ offline: true });
  assertEquals(await api.setLabel(1, 3), {
    index: 1,
    label: 3,
    applied: true,
    queued: true,
  });
  assertEquals(await api.deleteLabel(2), {
    index: 2,
    label: null,
    applied: true,
    queued: true,
  });
  assertEquals(
    await api.setLabels([{ index: 0, label: 1 }, { index: 3, label: null }]),
    { applied: 2, changed: 2, stale: [], queued: true },
  );
  assertEquals(server.calls, []);
  // One client time a write, strictly increasing even within a millisecond;
  // a batch's changes share theirs.
  assertEquals(queue.ops, [
    { index: 1, label: 3, clientTime: 1000 },
    { index: 2, label: null, clientTime: 1001 },
    { index: 0, label: 1, clientTime: 1002 },
    { index: 3, label: null, clientTime: 1002 },
  ]);
});

Deno.test("a write that cannot reach the server is queued; an HTTP error is not", async () => {
  const { api, server, queue } = setup();
  server.mode = "unreachable";
  const res = await api.setLabel(1, 4);
  assertEquals(res.queued, true);
  assertEquals(server.calls, ["set 1 4"], "tried the server first");
  assertEquals(queue.ops, [{ index: 1, label: 4, clientTime: 1000 }]);

  const fresh = setup();
  fresh.server.mode = "http-error";
  await assertRejects(() => fresh.api.setLabel(1, 4), ApiError, "server error");
  await assertRejects(
    () => fresh.api.setLabels([{ index: 1, label: 4 }]),
    ApiError,
  );
  assertEquals(fresh.queue.ops, [], "the page rolls an HTTP error back");
});

Deno.test("a session that ended (401): the write is queued, the page told, reads come from this device", async () => {
  const snap = snapshot(3);
  const { api, server, queue, signedOut } = setup({
    copies: { latent: snap, state: STATE },
  });
  server.mode = "signed-out";
  const res = await api.setLabel(1, 4);
  assertEquals(res.queued, true);
  assertEquals(queue.ops, [{ index: 1, label: 4, clientTime: 1000 }]);
  assertEquals(signedOut(), 1);
  assertEquals(await api.latent(), snap);
  assertEquals(await api.state(), STATE);
  const sample = await api.sample(2);
  assertEquals(sample.offline, true);
  assert(signedOut() >= 3);
});

Deno.test("online with writes still queued: a new write queues behind them", async () => {
  const queue = new MemoryQueue();
  queue.ops.push({ index: 1, label: 2, clientTime: 500 });
  const { api, server } = setup({ queue });
  assertEquals((await api.setLabel(1, 6)).queued, true);
  assertEquals(server.calls, [], "not before the older change");
  assertEquals(queue.ops.map((o) => o.label), [2, 6]);
});

Deno.test("a clock that goes back still gives later writes later times", async () => {
  const { api, queue, setClock } = setup({ offline: true });
  setClock(5000);
  await api.setLabel(1, 1);
  setClock(4000);
  await api.setLabel(1, 2);
  assertEquals(queue.ops.map((o) => o.clientTime), [5000, 5001]);
});

Deno.test("without a queue (no IndexedDB) a write goes to the server and fails as it does", async () => {
  const { api, server, queue } = setup({
    offline: true,
    queue: new MemoryQueue(false),
  });
  server.mode = "unreachable";
  await assertRejects(() => api.setLabel(1, 3), TypeError);
  assertEquals(server.calls, ["set 1 3"]);
  assertEquals(queue.ops, []);
});

Deno.test("latent and state: the offline copies when the server cannot be reached", async () => {
  const kept = snapshot(2);
  const keptState = { count: 4, labelled: 2 } as ApiState;
  const { api, server } = setup({
    copies: { latent: kept, state: keptState },
  });
  server.mode = "unreachable";
  assert((await api.latent()) === kept);
  assertEquals(await api.state(), keptState);
  // An HTTP error is the server's answer: no copy hides it.
  server.mode = "http-error";
  await assertRejects(() => api.latent(), ApiError);
  await assertRejects(() => api.state(), ApiError);

  const bare = setup();
  bare.server.mode = "unreachable";
  await assertRejects(() => bare.api.latent(), TypeError, "Failed to fetch");
  await assertRejects(() => bare.api.state(), TypeError);
});

Deno.test("offline sample: put together from the cached image and the snapshot", async () => {
  const snap = snapshot(3);
  snap.userLabel[2] = 4;
  const { api, server } = setup({ snapshot: snap });
  server.mode = "unreachable";
  assertEquals(await api.sample(2), {
    index: 2,
    label: 4,
    predClass: 2,
    certainty: 102 / 255,
    probs: [],
    original: bytesToBase64(IMAGE_2),
    recon: "",
    offline: true,
  });
  // Image not downloaded yet, or no snapshot to describe it: said so.
  const e = await assertRejects(
    () => api.sample(3),
    ApiError,
    "#3 is not available offline yet",
  );
  assertEquals((e as ApiError).status, 0);
  const blind = setup({ snapshot: null });
  blind.server.mode = "unreachable";
  await assertRejects(() => blind.api.sample(2), ApiError, "offline yet");
  // An HTTP error stays the server's.
  server.mode = "http-error";
  await assertRejects(() => api.sample(2), ApiError, "server error");
});

Deno.test("offline, a cached sample from an older model takes the snapshot's prediction", async () => {
  const { api, server, goOffline } = setup({ snapshot: snapshot(4) });
  // The service worker's cached answer is of version 3; the page shows 4.
  server.sampleAnswer = { ...server.sampleAnswer, latentVersion: 3 };
  goOffline(true);
  assertEquals(await api.sample(1), {
    ...server.sampleAnswer,
    index: 1,
    predClass: 7,
    certainty: 51 / 255,
    probs: [],
    offline: true,
  });
  // Online the server's answer is current: as it came.
  goOffline(false);
  assertEquals(await api.sample(1), { ...server.sampleAnswer, index: 1 });
});
