"""Informative components and the linear baseline along a run of the reference recipe.

    python docs/along_training.py runs/snap-s1/epoch1000 runs/snap-s1/epoch1500 ... --work /tmp/along

Each folder holds `image-vae/` and `class-vae/`: copies of a run's `checkpoint/` models taken while it trained
(docs/fidelity.md says how). For each, `ldmnist build` writes the dataset those VAEs make (into --work, one
folder at a time), then this prints a Markdown row: image and class latent components with std < 0.8 (std of
the train split's sampled latents, as the fidelity table counts them) and the closed-form linear regression's
MSE and reconstructed accuracy on the test split, scored by the `ldmnist` metric with the folder's class VAE
(the benchmark's linear row).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from ldmnist_hf.analysis.benchmark import linear_regression
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.data.statistics import informative_components
from ldmnist_hf.pretrained.loading import load_metric


def figures(folder: Path, work: Path) -> dict:
    """One snapshot's components and linear row, from the dataset its VAEs build."""
    dataset = work / "ds"
    build = [
        sys.executable,
        "-m",
        "ldmnist_hf.cli",
        "build",
        "-q",
        "--overwrite",
        "--output-dir",
        str(dataset),
    ]
    build += ["--image-vae", str(folder / "image-vae"), "--class-vae", str(folder / "class-vae")]
    subprocess.run(build, check=True, stdout=subprocess.DEVNULL)
    x_tr, y_tr = load_latents(dataset, "train", check_finite=True)
    x_te, y_te, labels = load_latents(dataset, "test", columns=("x", "y", "label"), check_finite=True)
    predictions = linear_regression(x_tr, y_tr)(x_te)
    scores = load_metric(str(folder / "class-vae")).compute(
        predictions=predictions, references=y_te, labels=labels
    )
    return {
        "x_components": informative_components(np.std(x_tr, axis=0, dtype=np.float64)),
        "y_components": informative_components(np.std(y_tr, axis=0, dtype=np.float64)),
        "linear": (scores["mse"], scores["reconstructed_accuracy"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "folders", type=Path, nargs="+", help="snapshots: each with image-vae/ and class-vae/"
    )
    parser.add_argument("--work", type=Path, required=True, help="a scratch folder for the datasets")
    args = parser.parse_args()
    print(
        "| run | epoch | image / class components with std < 0.8 | linear regression: MSE / reconstructed accuracy |"
    )
    print("|---|---:|---:|---:|")
    for folder in args.folders:
        epoch = re.search(r"(\d+)$", folder.name)
        f = figures(folder, args.work)
        mse, accuracy = f["linear"]
        print(
            f"| {folder.parent.name} | {epoch.group(1) if epoch else folder.name} | "
            f"{f['x_components']} / {f['y_components']} | {mse:.4f} / {accuracy:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
