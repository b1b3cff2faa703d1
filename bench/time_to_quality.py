"""Seconds of training until the default recipe reaches the quality bar, with this machine's matmul rate.

Trains exactly as `ldmnist train` does (same arguments, same `train_epoch`) and, after each epoch,
evaluates the bar on held-out data (not timed as training):

- class VAE: class reconstructed from a sampled latent, mean over 20 posterior draws, MNIST test set;
- joint: image encoder -> middle layers -> class decoder accuracy on the test set (sampled latents);
- image VAE: components whose sampled train-set latents have std < 0.8.

    python bench/time_to_quality.py                       # the default (fast) recipe
    python bench/time_to_quality.py --epochs 40 --batch-size 512 --learning-rate 3e-3
    python bench/time_to_quality.py --smoke               # seconds: that it runs (the test suite)

Takes the options of `ldmnist train` (`ldmnist train --help`), built from `LDMNISTTrainingArguments` by the
command line's own parser; `--batch_size` is read as `--batch-size`. Prints one line per epoch, then the
training seconds (and wall seconds since the start) to the bar, next to the float32 matmul rate
measured in the same run, so machines can be compared. `--smoke` trains 1 epoch on 2000 digits and
measures the matmul rate at 256^2: figures that mean nothing, from every step the full run takes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

T0 = time.perf_counter()

import torch  # noqa: E402

from ldmnist_hf import load_mnist  # noqa: E402
from ldmnist_hf.cli import build_parser  # noqa: E402
from ldmnist_hf.registry import QUALITY_BAR  # noqa: E402
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments  # noqa: E402
from ldmnist_hf.training.evaluation import (  # noqa: E402
    class_accuracy_draws,
    evaluate_models,
    informative_components,
    latent_std,
)
from ldmnist_hf.training.memory import retain_freed_memory  # noqa: E402
from ldmnist_hf.training.step import (  # noqa: E402
    JointModels,
    make_optimizers,
    make_schedulers,
    mnist_tensors,
    train_epoch,
)

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from timing import matmul_gflops, smoke_subset  # noqa: E402


def _dashed(arg: str) -> str:
    """`--batch_size` (or `--batch_size=512`) as `--batch-size`; values and other words as they are."""
    if not arg.startswith("--"):
        return arg
    name, sep, value = arg.partition("=")
    return name.replace("_", "-") + sep + value


def parse_args(argv: list[str]) -> tuple[LDMNISTTrainingArguments, bool]:
    """The training arguments as `ldmnist train` reads them from `argv`, and whether this is a smoke run.

    The options come from the command line's parser (one per field of `LDMNISTTrainingArguments`, with its
    types and choices); `--field_name` is read as `--field-name`, the spelling this script took before.
    """
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--smoke", action="store_true")
    known, rest = own.parse_known_args(argv)
    options = build_parser().parse_args(["train", "--output-dir", "/dev/null", *map(_dashed, rest)])
    fields = dataclasses.fields(LDMNISTTrainingArguments)
    args = LDMNISTTrainingArguments(**{f.name: getattr(options, f.name) for f in fields})
    if known.smoke:
        args = dataclasses.replace(args, epochs=1)
    return args, known.smoke


def main() -> None:
    args, smoke = parse_args(sys.argv[1:])
    retain_freed_memory()  # as `ldmnist train` does on CPU
    mnist = load_mnist()
    if smoke:
        mnist = smoke_subset(mnist)
    torch.manual_seed(args.seed)
    models = JointModels.new(args).to(args.device)
    optimizers = make_optimizers(models, args)
    train_x, train_y, test_x, test_y = mnist_tensors(mnist, args.device)
    schedulers = make_schedulers(optimizers, args, len(train_x))
    print(
        f"recipe {args.recipe}: {args.epochs} epochs, batch {args.batch_size}, lr {args.learning_rate} "
        f"(class VAE {args.class_vae_learning_rate}), {args.schedule}; bar: {QUALITY_BAR}"
    )
    trained, reached = 0.0, None
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        train_epoch(models, optimizers, schedulers, train_x, train_y, args, epoch)
        trained += time.perf_counter() - t0
        cls = class_accuracy_draws(models.class_vae, test_y, draws=20, seed=args.seed)
        test = evaluate_models(models, test_x, test_y, seed=args.seed)
        joint = test["middle_layers_accuracy"]
        comps = informative_components(latent_std(models.image_vae, train_x, seed=args.seed))
        ok = (
            cls.mean() >= QUALITY_BAR["class_vae_accuracy_mean"]
            and joint >= QUALITY_BAR["middle_layers_accuracy"]
            and comps >= QUALITY_BAR["informative_components"]
        )
        print(
            f"epoch {epoch + 1:3d}  train {trained:6.1f} s  class {100 * cls.mean():.3f} +- "
            f"{100 * cls.std():.3f} %  joint {joint:.4f}  components {comps:2d}  class KL {test['class_kl']:.4f} "
            f"BCE {test['class_rec']:.5f}  image BCE {test['image_rec']:.4f}  {'BAR' if ok else ''}",
            flush=True,
        )
        if ok and reached is None:
            reached = (epoch + 1, trained, time.perf_counter() - T0)
    matmul_n = 256 if smoke else 4096
    gflops = matmul_gflops(matmul_n)
    print(
        f"float32 matmul ({matmul_n}^2): {gflops:.0f} GFLOP/s ({torch.get_num_threads()} threads, {args.device})"
    )
    if reached is None:
        print(f"bar not reached in {args.epochs} epochs ({trained:.1f} s of training)")
    else:
        e, t, w = reached
        print(f"bar reached after epoch {e}: {t:.1f} s of training ({w:.1f} s wall since start)")
    print(f"all {args.epochs} epochs: {trained:.1f} s of training")


if __name__ == "__main__":
    main()
