"""Peak memory of `ldmnist build`: MNIST, and a generated image-classification dataset N times its size.

Each build runs in a fresh process, which reports its own peak resident set size (`ru_maxrss`) and time.
The generated dataset is MNIST's 70000 digits, each copied N times (copy k shifted k pixels to the right),
written as a local folder in the Hub's layout (Parquet shards with PNG images and a ClassLabel), encoded
with the shipped 32-d VAEs (they fit its 28x28 grey images). Its images are decoded and encoded batch by
batch, and its latents written a row group at a time, so its peak should stay near MNIST's although its
images (uint8) and latents take N times the memory.

    python bench/build_memory.py [--times 10] [--keep DIR] [--smoke]

`--keep DIR`: write the generated dataset to DIR (and its `datasets` cache beside it) and reuse it next time.

`--smoke`: 2 copies of 1200 digits (seconds), for the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import smoke_subset

# The child samples its anonymous memory (heap, arrays: RssAnon) every 0.1 s beside its peak RSS, which also
# counts the pages of memory-mapped files it read (the dataset's Arrow cache: page cache the kernel can drop).
_CHILD = """
import json, resource, sys, threading, time
peak = {"anon": 0}
def sample():
    while True:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                peak["anon"] = max(peak["anon"], int(line.split()[1]))
        time.sleep(0.1)
threading.Thread(target=sample, daemon=True).start()
from ldmnist_hf.build.dataset import build_dataset
t0 = time.perf_counter()
build_dataset(sys.argv[1], image_vae="image-vae-32", class_vae="class-vae-32", source=sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_anon_mb": peak["anon"] / 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_copies(folder: Path, mnist, times: int, shard_rows: int = 50000) -> int:
    """MNIST's splits, each image repeated `times` times (copy k rolled k pixels), as Parquet shards."""
    import io

    import datasets
    from PIL import Image

    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=[str(i) for i in range(10)])}
    )
    total = 0
    for split in ("train", "test"):
        images, labels = getattr(mnist, f"{split}_images"), getattr(mnist, f"{split}_labels")
        rows = [(k, i) for k in range(times) for i in range(len(images))]
        shards = [rows[s : s + shard_rows] for s in range(0, len(rows), shard_rows)]
        for n, shard in enumerate(shards):
            cells = []
            for k, i in shard:
                buf = io.BytesIO()
                Image.fromarray(np.roll(images[i], k, axis=1)).save(buf, format="PNG")
                cells.append({"bytes": buf.getvalue(), "path": None})
            ds = datasets.Dataset.from_dict(
                {"image": cells, "label": [int(labels[i]) for _, i in shard]}, features=features
            )
            ds.to_parquet(str(folder / "data" / f"{split}-{n:05d}-of-{len(shards):05d}.parquet"))
        total += len(rows)
    return total


def measure(out: Path, source: str) -> dict:
    """One build in a fresh process: its time and its own peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out), source], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--times", type=int, default=10, help="copies of MNIST in the generated dataset")
    p.add_argument("--smoke", action="store_true", help="2 copies of 1200 digits: that it runs")
    p.add_argument("--keep", type=Path, help="keep the generated dataset here and reuse it")
    args = p.parse_args()
    from ldmnist_hf.data.mnist import load_mnist

    mnist = load_mnist()
    if args.smoke:
        mnist = smoke_subset(mnist, 1000, 200)
        args.times = 2
    root = Path(tempfile.mkdtemp(prefix="ldmnist-bench-memory-"))
    data_root = args.keep or root
    os.environ["HF_DATASETS_CACHE"] = str(data_root / "hf-cache")  # the generated dataset's Arrow copy
    try:
        print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs")
        if not args.smoke:
            r = measure(root / "ld-mnist", "mnist")
            print(
                f"MNIST (70000 images, read whole, verified): {r['seconds']:.1f} s, peak RSS "
                f"{r['peak_rss_mb']:.0f} MB, of which anonymous {r['peak_anon_mb']:.0f} MB"
            )
        folder = data_root / f"copies-{args.times}"
        t0 = time.perf_counter()
        if (folder / "data").is_dir():
            n = args.times * (len(mnist.train_labels) + len(mnist.test_labels))
            print(f"reused {folder} ({n} images)")
        else:
            n = write_copies(folder, mnist, args.times)
            print(f"generated {n} images ({args.times} x MNIST) in {time.perf_counter() - t0:.0f} s")
        r = measure(root / "ld-copies", str(folder))
        latents_mb = n * 6 * 32 * 4 / 2**20
        print(
            f"generated dataset ({n} images, decoded batch by batch): {r['seconds']:.1f} s, peak RSS "
            f"{r['peak_rss_mb']:.0f} MB, of which anonymous {r['peak_anon_mb']:.0f} MB (its images as uint8: "
            f"{n * 784 / 2**20:.0f} MB, its latents {latents_mb:.0f} MB)"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
