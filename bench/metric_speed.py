"""Speed of the ldmnist metric on the 10000 x 32 test split, beside this machine's matmul rate.

Prints, all measured in this run (warm: after one call of each):
- `metric.compute(predictions=, references=, labels=)` through evaluate, numpy inputs and torch tensors
  [target: 20 ms];
- `add_batch` in 10 batches of 1000 rows then `compute()` (evaluate's batch store; no target);
- the leaderboard's scoring function (`hub.scoring.TestSplit.score`) [target: 5 ms];
- the arithmetic alone (`y @ W.T + b`, argmax, MSE in numpy);
- float32 matmul GFLOP/s (4096^2), so a time can be compared across machines.

    python bench/metric_speed.py [--repeats 20] [--dataset ldmnist] [--smoke]

Uses the built dataset's test split when `--dataset` exists (`make dataset`), else random latents.
`--smoke` times each once, with the matmul rate at 256^2: seconds, for the test suite.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from timing import matmul_gflops, timed, verdict


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--dataset", default="ldmnist")
    p.add_argument("--smoke", action="store_true", help="each timed once, a small matmul: that it runs")
    args = p.parse_args()
    if args.smoke:
        args.repeats = 1
    matmul_n = 256 if args.smoke else 4096  # the matmul that measures this machine's rate

    import torch

    import ldmnist_hf
    from ldmnist_hf.hub.scoring import TestSplit, metric_module
    from ldmnist_hf.pretrained.loading import pretrained_path
    from ldmnist_hf.registry import DEFAULT_MODELS

    rng = np.random.default_rng(0)
    if Path(args.dataset, "ldmnist_build.json").is_file():
        x, y, labels = ldmnist_hf.load_latents(args.dataset, "test", columns=("x", "y", "label"))
        y, labels = np.array(y), np.array(labels)
        source = f"the test split of {args.dataset}"
    else:
        y, labels = rng.normal(size=(10000, 32)).astype(np.float32), rng.integers(0, 10, 10000)
        source = "random latents (no built dataset)"
    pred = (y + rng.normal(scale=0.5, size=y.shape)).astype(np.float32)

    t0 = time.perf_counter()
    metric = ldmnist_hf.load_metric()
    load = time.perf_counter() - t0
    gflops = matmul_gflops(matmul_n)
    rows = []

    def row(name, fn, target=None):
        median, best = timed(fn, args.repeats)
        rows.append(
            f"{name:<58} median {median * 1e3:8.2f} ms, best {best * 1e3:8.2f} ms{verdict(median, target)}"
        )

    row(
        "compute through evaluate (numpy arrays)",
        lambda: metric.compute(predictions=pred, references=y, labels=labels),
        0.020,
    )
    tp, ty, tl = torch.from_numpy(pred), torch.from_numpy(y), torch.from_numpy(labels)
    row(
        "compute through evaluate (torch tensors)",
        lambda: metric.compute(predictions=tp, references=ty, labels=tl),
        0.020,
    )

    def batched():
        for i in range(0, len(pred), 1000):
            metric.add_batch(
                predictions=pred[i : i + 1000], references=y[i : i + 1000], labels=labels[i : i + 1000]
            )
        return metric.compute()

    row("add_batch x 10 + compute() (evaluate's batch store)", batched)
    decoder = metric_module().load_class_decoder(str(pretrained_path(DEFAULT_MODELS["class_vae"])))
    split = TestSplit("NS/ldmnist", "default", "0" * 40, y, labels, decoder, "class-vae-32")
    row("leaderboard scoring (hub.scoring.TestSplit.score)", lambda: split.score(pred), 0.005)
    w, b = decoder

    def arithmetic():
        d = pred.astype(np.float64) - y
        return np.einsum("ij,ij->", d, d) / d.size, ((pred @ w.T + b).argmax(1) == labels).mean()

    row("the arithmetic alone (numpy)", arithmetic)
    same = metric.compute(predictions=pred, references=y, labels=labels) == split.score(pred)
    print(f"ldmnist metric on {source}, {len(pred)} x {pred.shape[1]}; {time.strftime('%Y-%m-%d')}")
    print(f"float32 matmul ({matmul_n}^2): {gflops:.0f} GFLOP/s; evaluate.load: {load:.2f} s")
    print("\n".join(rows))
    print(f"evaluate and the leaderboard give the same figures: {same}")


if __name__ == "__main__":
    main()
