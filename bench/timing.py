"""What every benchmark script here shares: a warm, repeated timer and this machine's matmul rate.

A time alone says little across machines (they differ by 2x and more); each script prints it beside
`matmul_gflops()`, measured in the same run.
"""

from __future__ import annotations

import statistics
import time


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median and best seconds of `repeats` calls of `fn`, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def verdict(seconds: float, target: float | None) -> str:
    """`   [target 20 ms: met]` (or `MISSED`) after a figure; empty without a target."""
    if target is None:
        return ""
    shown = f"{target * 1e3:.0f} ms" if target < 1 else f"{target:.0f} s"
    return f"   [target {shown}: {'met' if seconds <= target else 'MISSED'}]"


def matmul_gflops(n: int = 4096, repeats: int = 3) -> float:
    """Float32 GFLOP/s of an `n x n` matmul on the CPU, best of `repeats`."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    _, best = timed(lambda: a @ b, repeats)
    return 2 * n**3 / best / 1e9


def smoke_subset(mnist, n_train: int = 2000, n_test: int = 500):
    """The first `n_train` training and `n_test` test digits: what a `--smoke` run trains, evaluates or
    builds on."""
    from ldmnist_hf.data.mnist import MNIST

    return MNIST(
        mnist.train_images[:n_train],
        mnist.train_labels[:n_train],
        mnist.test_images[:n_test],
        mnist.test_labels[:n_test],
        source="smoke",
    )
