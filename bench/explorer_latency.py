"""Time of the explorer Space's slider handler (one decode of a moved latent, as a PNG) and of its start.

Runs the Space's own `explorer.py` (numpy decoders, no gradio) on local folders: the built dataset's test
split (`make dataset` writes ./ldmnist) and the shipped models. Prints, beside this machine's float32 matmul
rate: the Explorer's start (read the split, rank the components), the handler without and with the PNG
encoding the browser receives [target: 50 ms], and the package decoder (torch) on the same latent.

    python bench/explorer_latency.py [--repeats 50] [--dataset ldmnist] [--smoke]

`--smoke` times each once, with the matmul rate at 256^2: seconds, for the test suite.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from timing import matmul_gflops, timed, verdict

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--dataset", default="ldmnist")
    p.add_argument("--smoke", action="store_true", help="each timed once, a small matmul: that it runs")
    args = p.parse_args()
    if args.smoke:
        args.repeats = 1
    matmul_n = 256 if args.smoke else 4096  # the matmul that measures this machine's rate
    if not Path(args.dataset, "ldmnist_build.json").is_file():
        sys.exit(f"{args.dataset} is not a built dataset: run `make dataset` first (or pass --dataset DIR).")
    sys.path.insert(0, str(ROOT / "ldmnist_hf" / "hub" / "spaces" / "explorer"))
    import torch

    from ldmnist_hf import load_pretrained, pretrained_path
    from ldmnist_hf.data.schema import data_file
    from ldmnist_hf.registry import DEFAULT_MODELS

    from explorer import Explorer, to_image

    gflops = matmul_gflops(matmul_n)
    space = {
        "dataset": args.dataset,
        "image_vae": str(pretrained_path(DEFAULT_MODELS["image_vae"])),
        "class_vae": str(pretrained_path(DEFAULT_MODELS["class_vae"])),
        "mnist": None,
        "files": {"test_split": data_file("test")},
    }
    t0 = time.perf_counter()
    ex = Explorer(space)
    start = time.perf_counter() - t0
    values = [2.5] * len(ex.components)

    def handler():
        return to_image(ex.decode(ex.latent(0, values))[0])

    def handler_png():
        buf = io.BytesIO()
        handler().save(buf, format="PNG")
        return buf

    vae = load_pretrained(DEFAULT_MODELS["image_vae"])
    z = torch.from_numpy(ex.latent(0, values)[None])

    def package():
        with torch.no_grad():
            return vae.decode(z).sample

    print(f"explorer Space handlers on {args.dataset}; {time.strftime('%Y-%m-%d')}")
    print(f"float32 matmul ({matmul_n}^2): {gflops:.0f} GFLOP/s")
    print(f"Explorer start (read the test split, rank {len(ex.components)} components): {start:.2f} s")
    for name, fn, target in (
        ("slider handler: decode + 224x224 image", handler, None),
        ("slider handler + PNG encoding", handler_png, 0.050),
        ("the package decoder (torch) on the same latent", package, None),
    ):
        median, best = timed(fn, args.repeats)
        print(f"{name:<48} median {median * 1e3:6.2f} ms, best {best * 1e3:6.2f} ms{verdict(median, target)}")


if __name__ == "__main__":
    main()
