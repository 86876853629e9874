#!/usr/bin/python3
"""The SSVAE of docs/ssvae-spec.md in PyTorch, timed doing the same work as
`bench/ours_ssvae.ts`: the reference speed that `deno task bench:compare` holds
this project against.

Same model as lib/ssvae (preset "original" by default, or "graph"): dense
encoder 784 -> hidden -> z_mean, z_logvar; decoder z -> reversed hidden -> 784
(linear output); classifier z -> 64 -> 64 -> 10 with dropout; leaky ReLU 0.01;
LeCun-normal kernels truncated at 2 sigma, zero biases. Same loss (recon_weight
* MSE + kl_weight * KL + label_weight * CE over the labelled rows) and AdamW
(beta 0.9/0.999, eps 1e-8, decoupled weight decay on kernels only, global-norm
clipping). Same work per epoch: shuffle the train split, minibatches (last
partial batch kept), then an evaluation pass (z = mean, no dropout) over the
train and validation splits in chunks of 4096.

Input: a folder written by bench/compare.ts with images.f32 (N x 784, already
scaled), labels.f32 (N, NaN = unlabelled), train.u32 and val.u32 (the split)
and targets.f32 (N x 10 soft labels, only for the graph preset).
Output: one JSON line on stdout. Exits with status 3 and a message when torch
is not installed.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as err:  # pragma: no cover - depends on the machine
    print(
        f"PyTorch is not available ({err}); install Debian's python3-torch",
        file=sys.stderr,
    )
    sys.exit(3)

IMAGE = 784
CLASSES = 10
SLOPE = 0.01
PRIOR_RADIUS = 4.0


def lecun_normal(gen, fan_in, fan_out):
    """LeCun normal truncated to (-2, 2) standard deviations (Flax's), drawn by
    rejection from the seeded generator (torch 1.13's trunc_normal_ takes none)."""
    std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
    w = torch.randn(fan_in, fan_out, generator=gen)
    bad = w.abs() >= 2
    while bad.any():
        w[bad] = torch.randn(int(bad.sum()), generator=gen)
        bad = w.abs() >= 2
    return (w * std).requires_grad_()


class SSVAE:
    """Parameters as plain tensors, kernels stored [in, out] like lib/ssvae."""

    def __init__(self, cfg, seed):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        self.cfg = cfg
        h = cfg["hidden_dims"]
        L = cfg["latent_dim"]
        specs = []
        d = IMAGE
        for i, w in enumerate(h):
            specs.append((f"enc{i}", d, w))
            d = w
        specs += [("z_mean", d, L), ("z_logvar", d, L)]
        d = L
        for i, w in enumerate(reversed(h)):
            specs.append((f"dec{i}", d, w))
            d = w
        specs.append(("out", d, IMAGE))
        d = L
        for i, w in enumerate([64, 64]):
            specs.append((f"cls{i}", d, w))
            d = w
        specs.append(("logits", d, CLASSES))
        self.layers = {}
        for name, i, o in specs:
            self.layers[name] = (
                lecun_normal(gen, i, o),
                torch.zeros(o, requires_grad=True),
            )
        self.kernels = [k for k, _ in self.layers.values()]
        self.biases = [b for _, b in self.layers.values()]

    def dense(self, name, x, act):
        k, b = self.layers[name]
        y = torch.addmm(b, x, k)
        return F.leaky_relu(y, SLOPE) if act else y

    def forward(self, x, eps=None, dropout=0.0):
        h = x
        for i in range(len(self.cfg["hidden_dims"])):
            h = self.dense(f"enc{i}", h, True)
        m = self.dense("z_mean", h, False)
        lv = self.dense("z_logvar", h, False)
        z = m + torch.exp(0.5 * lv) * eps if eps is not None else m
        r = z
        for i in range(len(self.cfg["hidden_dims"])):
            r = self.dense(f"dec{i}", r, True)
        recon = self.dense("out", r, False)
        c = z
        for i in range(2):
            c = self.dense(f"cls{i}", c, True)
            if dropout > 0:
                c = F.dropout(c, dropout, True)
        return m, lv, recon, self.dense("logits", c, False)


def prior_mean(targets, latent):
    """Class-mixture prior mean: centres weighted by the (soft) label row."""
    a = torch.arange(CLASSES, dtype=torch.float32) * (2 * math.pi / CLASSES)
    centres = torch.zeros(CLASSES, latent)
    centres[:, 0] = PRIOR_RADIUS * torch.cos(a)
    if latent > 1:
        centres[:, 1] = PRIOR_RADIUS * torch.sin(a)
    w = targets / targets.sum(1, keepdim=True).clamp_min(1e-12)
    return w @ centres


def kl_per_sample(m, lv, pm):
    d = m - pm if pm is not None else m
    return -0.5 * (1 + lv - d * d - torch.exp(lv)).sum(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True, help="the SSVAEConfig as JSON")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--predict", action="store_true")
    args = ap.parse_args()
    cfg = json.loads(args.config)

    # Two threads, as many as this project uses: a like-for-like comparison.
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    t_load = time.perf_counter()
    x_all = torch.from_numpy(
        np.fromfile(os.path.join(args.data, "images.f32"), dtype=np.float32)
    ).view(-1, IMAGE)
    labels = torch.from_numpy(
        np.fromfile(os.path.join(args.data, "labels.f32"), dtype=np.float32)
    )
    train_idx = torch.from_numpy(
        np.fromfile(os.path.join(args.data, "train.u32"), dtype=np.uint32)
        .astype(np.int64)
    )
    val_idx = torch.from_numpy(
        np.fromfile(os.path.join(args.data, "val.u32"), dtype=np.uint32)
        .astype(np.int64)
    )
    n = labels.shape[0]
    targets_path = os.path.join(args.data, "targets.f32")
    soft = cfg["pseudo_label_weight"] > 0 and os.path.exists(targets_path)
    # One-hot rows, all-zero for unlabelled ones (the mask of the spec); with
    # the graph preset the unlabelled rows take the weighted soft targets.
    labelled = ~torch.isnan(labels)
    onehot = torch.zeros(n, CLASSES)
    onehot[labelled, labels[labelled].long()] = 1.0
    if soft:
        t = torch.from_numpy(
            np.fromfile(targets_path, dtype=np.float32)
        ).view(-1, CLASSES)
        onehot[~labelled] = t[~labelled] * cfg["pseudo_label_weight"]
    load_s = time.perf_counter() - t_load

    model = SSVAE(cfg, cfg["random_seed"])
    params = [
        {"params": model.kernels, "weight_decay": cfg["weight_decay"]},
        {"params": model.biases, "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(
        params, lr=cfg["learning_rate"], betas=(0.9, 0.999), eps=1e-8
    )
    all_params = model.kernels + model.biases
    mixture = cfg["prior"] == "class_mixture"
    L = cfg["latent_dim"]
    bs = cfg["batch_size"]

    def loss_of(xb, yb, lab_count):
        eps = torch.randn(xb.shape[0], L)
        m, lv, recon, logits = model.forward(xb, eps, cfg["dropout_rate"])
        rec = cfg["recon_weight"] * ((xb - recon) ** 2).mean()
        pm = prior_mean(yb, L) if mixture else None
        kl = cfg["kl_weight"] * kl_per_sample(m, lv, pm).mean()
        total = rec + kl
        if lab_count > 0:
            ce = -(yb * F.log_softmax(logits, 1)).sum() / lab_count
            total = total + cfg["label_weight"] * ce
        return total

    @torch.no_grad()
    def evaluate(idx):
        sums = [0.0, 0.0, 0.0]
        for s in range(0, len(idx), 4096):
            rows = idx[s:s + 4096]
            xb, yb = x_all[rows], onehot[rows]
            m, lv, recon, logits = model.forward(xb)
            sums[0] += float(((xb - recon) ** 2).sum() / IMAGE)
            pm = prior_mean(yb, L) if mixture else None
            sums[1] += float(kl_per_sample(m, lv, pm).sum())
            sums[2] += float(-(yb * F.log_softmax(logits, 1)).sum())
        return sums

    epochs = []
    gen = torch.Generator().manual_seed(cfg["random_seed"] + 1)
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        for s in range(0, len(order), bs):
            rows = order[s:s + bs]
            xb, yb = x_all[rows], onehot[rows]
            lab_count = float(yb.sum())
            opt.zero_grad(set_to_none=True)
            loss = loss_of(xb, yb, lab_count)
            loss.backward()
            if cfg["grad_clip_norm"] is not None:
                torch.nn.utils.clip_grad_norm_(all_params, cfg["grad_clip_norm"])
            opt.step()
            if not math.isfinite(float(loss)):
                raise SystemExit("non-finite loss")
        t1 = time.perf_counter()
        train_sums = evaluate(train_idx)
        val_sums = evaluate(val_idx)
        t2 = time.perf_counter()
        epochs.append({
            "seconds": t2 - t0,
            "trainSeconds": t1 - t0,
            "evalSeconds": t2 - t1,
            "valMse": val_sums[0] / max(len(val_idx), 1),
            "trainMse": train_sums[0] / max(len(train_idx), 1),
        })

    predict = None
    if args.predict:
        predict = {}
        with torch.no_grad():
            for decode in (True, False):
                t0 = time.perf_counter()
                for s in range(0, n, 2048):
                    xb = x_all[s:s + 2048]
                    h = xb
                    for i in range(len(cfg["hidden_dims"])):
                        h = model.dense(f"enc{i}", h, True)
                    m = model.dense("z_mean", h, False)
                    c = m
                    for i in range(2):
                        c = model.dense(f"cls{i}", c, True)
                    p = F.softmax(model.dense("logits", c, False), 1)
                    p.max(1)
                    if decode:
                        r = m
                        for i in range(len(cfg["hidden_dims"])):
                            r = model.dense(f"dec{i}", r, True)
                        model.dense("out", r, False)
                key = "withRecon" if decode else "latentClasses"
                predict[key] = time.perf_counter() - t0

    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "impl": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "count": n,
        "loadSeconds": load_s,
        "epochs": epochs,
        "predict": predict,
        "peakRssMb": rss_kb / 1024,
    }))


if __name__ == "__main__":
    main()
