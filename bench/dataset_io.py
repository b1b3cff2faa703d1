"""Build time of LD-MNIST and time to get the train split as numpy, next to the reference format.

Prints, all measured in this run (imports and model loading excluded from the build time):
- build: encode 70000 digits + write Parquet and card (`build_dataset`), vs np.save of the same arrays;
- warm load of the full train split as a (60000, 32) float32 array, by four routes, vs np.load;
- the train file's size and read time, as written (zstd, BYTE_STREAM_SPLIT) and rewritten with snappy.

    python bench/dataset_io.py [--repeats 5] [--smoke]

`--smoke` builds from 1000 training and 200 test digits and times each once: seconds, for the test suite.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from timing import smoke_subset


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
    p.add_argument("--smoke", action="store_true", help="1200 digits, each timed once: that it runs")
    args = p.parse_args()
    builds = 1 if args.smoke else 3
    if args.smoke:
        args.repeats = 1

    import datasets
    from transformers.utils import logging

    from ldmnist_hf import load_mnist
    from ldmnist_hf.build.dataset import build_dataset, encode_split, load_vaes
    from ldmnist_hf.data.read import load_latents
    from ldmnist_hf.data.schema import data_file
    from ldmnist_hf.registry import DEFAULT_MODELS

    logging.disable_progress_bar()
    datasets.disable_progress_bars()
    mnist = load_mnist()
    source = "auto"  # the build reads MNIST from the cache, as `ldmnist build` does
    if args.smoke:
        mnist = smoke_subset(mnist, 1000, 200)
        source = mnist
    n_train, n_all = len(mnist.train_labels), len(mnist.train_labels) + len(mnist.test_labels)
    iv, cv = load_vaes(DEFAULT_MODELS["image_vae"], DEFAULT_MODELS["class_vae"])
    tmp = Path(tempfile.mkdtemp())
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # the built folder and the .npy files

    t_build, _ = best_of(
        lambda: build_dataset(tmp / "ldmnist", iv, cv, mnist_source=source, overwrite=True), builds
    )
    t_encode, enc = best_of(lambda: encode_split(iv, cv, mnist.train_images, mnist.train_labels, 0), builds)

    def save_npy():
        np.save(tmp / "train_x.npy", enc["x"])
        np.save(tmp / "train_y.npy", enc["y"])

    t_save, _ = best_of(save_npy, builds)
    print(f"build (encode {n_all} + Parquet + card): {t_build:.2f} s   [target < 5 s]")
    print(
        f"  of which encoding the train split: {t_encode:.2f} s; reference format np.save of train x, y: {t_save:.3f} s"
    )

    ds = datasets.load_dataset(str(tmp / "ldmnist"), split="train")  # warm: Arrow cache prepared
    x_ref = np.load(tmp / "train_x.npy")
    t_np, _ = best_of(lambda: np.load(tmp / "train_x.npy"), args.repeats)
    t_helper, (x,) = best_of(lambda: load_latents(ds, columns=("x",)), args.repeats)
    t_fmt, x_fmt = best_of(lambda: ds.with_format("numpy")[:]["x"], args.repeats)
    t_parquet, (x_pq,) = best_of(lambda: load_latents(tmp / "ldmnist", "train", columns=("x",)), args.repeats)
    assert np.array_equal(x, x_ref) and np.array_equal(x_fmt, x_ref) and np.array_equal(x_pq, x_ref)
    snappy = tmp / "snappy.parquet"  # the same table as `datasets` writes it by default
    pq.write_table(pq.read_table(tmp / "ldmnist" / data_file("train")), snappy, compression="snappy")
    t_snappy, _ = best_of(lambda: pq.read_table(snappy, columns=["x"]), args.repeats)
    ours = tmp / "ldmnist" / data_file("train")
    t_ours, _ = best_of(lambda: pq.read_table(ours, columns=["x"]), args.repeats)
    print(f"warm load of train x ({n_train}, 32) float32, best of {args.repeats}:")
    print(f"  np.load(train_x.npy)                      {t_np * 1e3:8.2f} ms   (reference format)")
    print(
        f"  ldmnist_hf.load_latents(ds)               {t_helper * 1e3:8.2f} ms   ({t_helper / t_np:.2f}x np.load)"
    )
    print(
        f"  ds.with_format('numpy')[:]['x']           {t_fmt * 1e3:8.2f} ms   ({t_fmt / t_np:.2f}x np.load)"
    )
    print(
        f"  load_latents(folder): read the Parquet    {t_parquet * 1e3:8.2f} ms   ({t_parquet / t_np:.2f}x np.load)"
    )
    print(
        f"the train file, zstd + BYTE_STREAM_SPLIT: {ours.stat().st_size / 1e6:.2f} MB, column x read in "
        f"{t_ours * 1e3:.1f} ms; written with snappy: {snappy.stat().st_size / 1e6:.2f} MB, read in "
        f"{t_snappy * 1e3:.1f} ms ({ours.stat().st_size / snappy.stat().st_size:.3f}x the size, "
        f"{t_ours / t_snappy:.2f}x the time)"
    )


if __name__ == "__main__":
    main()
