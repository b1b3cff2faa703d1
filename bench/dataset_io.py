"""Build time of LD-MNIST and time to get the train split as numpy, next to the reference format.

Prints, all measured in this run (imports and model loading excluded from the build time):
- build: encode 70000 digits + write Parquet and card (`build_dataset`), vs np.save of the same arrays;
- warm load of the full train split as a (60000, 32) float32 array, by three routes, vs np.load.

    python bench/dataset_io.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()

    import datasets
    from transformers.utils import logging

    from ldmnist_hf import load_mnist
    from ldmnist_hf.data.build import build_dataset, encode_split, load_vaes
    from ldmnist_hf.data.read import load_latents
    from ldmnist_hf.registry import DEFAULT_MODELS

    logging.disable_progress_bar()
    datasets.disable_progress_bars()
    mnist = load_mnist()
    iv, cv = load_vaes(DEFAULT_MODELS["image_vae"], DEFAULT_MODELS["class_vae"])
    tmp = Path(tempfile.mkdtemp())

    t_build, _ = best_of(lambda: build_dataset(tmp / "ldmnist", iv, cv, overwrite=True), 3)
    t_encode, enc = best_of(lambda: encode_split(iv, cv, mnist.train_images, mnist.train_labels, 0), 3)

    def save_npy():
        np.save(tmp / "train_x.npy", enc["x"])
        np.save(tmp / "train_y.npy", enc["y"])

    t_save, _ = best_of(save_npy, 3)
    print(f"build (encode 70000 + Parquet + card): {t_build:.2f} s   [target < 5 s]")
    print(
        f"  of which encoding the train split: {t_encode:.2f} s; reference format np.save of train x, y: {t_save:.3f} s"
    )

    ds = datasets.load_dataset(str(tmp / "ldmnist"), split="train")  # warm: Arrow cache prepared
    x_ref = np.load(tmp / "train_x.npy")
    t_np, _ = best_of(lambda: np.load(tmp / "train_x.npy"), args.repeats)
    t_helper, (x,) = best_of(lambda: load_latents(ds, columns=("x",)), args.repeats)
    t_fmt, x_fmt = best_of(lambda: ds.with_format("numpy")[:]["x"], args.repeats)
    assert np.array_equal(x, x_ref) and np.array_equal(x_fmt, x_ref)
    print(f"warm load of train x (60000, 32) float32, best of {args.repeats}:")
    print(f"  np.load(train_x.npy)                      {t_np * 1e3:8.2f} ms   (reference format)")
    print(
        f"  ldmnist_hf.load_latents(ds)               {t_helper * 1e3:8.2f} ms   ({t_helper / t_np:.2f}x np.load)"
    )
    print(
        f"  ds.with_format('numpy')[:]['x']           {t_fmt * 1e3:8.2f} ms   ({t_fmt / t_np:.2f}x np.load)"
    )


if __name__ == "__main__":
    main()
