"""Time of the ldmnist metric on 10000 x 32 predictions (after loading), next to plain numpy.

python bench/metric_speed.py [--repeats 5]
"""

import argparse
import time

import numpy as np
import torch

import ldmnist_hf


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    t0 = time.perf_counter()
    metric = ldmnist_hf.load_metric()
    load = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    pred = rng.normal(size=(10000, 32)).astype(np.float32)
    ref = rng.normal(size=(10000, 32)).astype(np.float32)
    labels = rng.integers(0, 10, 10000)
    decoder = ldmnist_hf.load_pretrained(ldmnist_hf.registry.DEFAULT_MODELS["class_vae"])
    times, direct = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        metric.compute(predictions=pred, references=ref, labels=labels)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        np.mean((pred.astype(np.float64) - ref) ** 2)
        (decoder.predict(torch.from_numpy(pred)).numpy() == labels).mean()
        direct.append(time.perf_counter() - t0)
    print(f"evaluate.load: {load:.2f} s")
    print(
        f"compute on 10000 x 32 with labels: median {sorted(times)[len(times) // 2]:.3f} s, "
        f"best {min(times):.3f} s   [target < 0.5 s]"
    )
    print(f"the same figures computed directly (numpy + decoder): {min(direct) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
