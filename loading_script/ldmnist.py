"""LD-MNIST: the `datasets` builder in the form a Hub dataset repository holds beside its data.

datasets >= 4 no longer runs loading scripts from the Hub, so the repository serves the Parquet files
and card that `ldmnist build` writes; this script is how that data is (re)generated:

    python loading_script/ldmnist.py --output-dir ldmnist --seed 0

or, through `datasets` itself, `LDMNIST(cache_dir=...).download_and_prepare()`. The builder's code lives
in `ldmnist_hf.build.datasets_builder` (rows from `ldmnist_hf.build.dataset.encode_split`), so the command
line, the tests and this script share one implementation.
"""

import argparse

from ldmnist_hf.build.dataset import build_dataset
from ldmnist_hf.build.datasets_builder import LDMNIST, LDMNISTConfig
from ldmnist_hf.registry import DEFAULT_MODELS

__all__ = ["LDMNIST", "LDMNISTConfig"]

if __name__ == "__main__":
    p = argparse.ArgumentParser(description="Regenerate LD-MNIST as a Hub dataset repository folder.")
    p.add_argument("--output-dir", default="ldmnist")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--image-vae", default=DEFAULT_MODELS["image_vae"])
    p.add_argument("--class-vae", default=DEFAULT_MODELS["class_vae"])
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args()
    build_dataset(a.output_dir, a.image_vae, a.class_vae, seed=a.seed, overwrite=a.overwrite)
