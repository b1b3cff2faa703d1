"""Per-epoch figures of the 2020 code under TensorFlow beside this package's port, at the same epochs.

    python docs/compare_tf_port.py runs/tf2020-600/metrics.jsonl runs/reference-s0/metrics.jsonl

The first file is what `docs/tf_2020_code.py` writes (the 2020 code's TensorBoard scalars), the second a
`metrics.jsonl` of `ldmnist train` (here: `--recipe reference`, the same recipe). Prints a Markdown table of
the test-split figures at a few epochs, each as TensorFlow / port. The KL terms are shown weighted by 0.1 as
the 2020 code logged them (the port logs them unweighted).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# (heading, TensorFlow's scalar, the port's key, factor on the port's value)
FIGURES = [
    ("image BCE", "val/image_vae/reconstruction_loss", "test/image_rec", 1.0),
    ("image KL x 0.1", "val/image_vae/internal_loss", "test/image_kl", 0.1),
    ("class BCE", "val/class_vae/reconstruction_loss", "test/class_rec", 1.0),
    ("class KL x 0.1", "val/class_vae/internal_loss", "test/class_kl", 0.1),
    ("classification BCE", "val/class/loss", "test/classification", 1.0),
    ("class VAE accuracy", "val/class_vae/reconstruction_accuracy", "test/class_vae_accuracy", 1.0),
    ("joint accuracy", "val/class/accuracy", "test/middle_layers_accuracy", 1.0),
]


def _by_epoch(path: Path) -> dict[int, dict]:
    return {(d := json.loads(line))["epoch"]: d for line in path.read_text().splitlines() if line.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tf_metrics", type=Path)
    parser.add_argument("port_metrics", type=Path)
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 10, 50, 100, 200, 300, 400, 500, 600])
    args = parser.parse_args()
    tf, port = _by_epoch(args.tf_metrics), _by_epoch(args.port_metrics)
    epochs = [e for e in args.epochs if e in tf and e in port]
    print("| epoch | " + " | ".join(name for name, *_ in FIGURES) + " |")
    print("|---:|" + "---:|" * len(FIGURES))
    for e in epochs:
        cells = [f"{tf[e][t]:.4f} / {factor * port[e][p]:.4f}" for _, t, p, factor in FIGURES]
        print(f"| {e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
