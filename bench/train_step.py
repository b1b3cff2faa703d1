"""Seconds per epoch of the joint training step at batch 10000, next to the compute bound.

An epoch is what the reference recipe does each epoch: 6 training steps over the 60000 training
images at batch 10000 (forward + backward + two Adam updates), then a forward pass over the 10000
test images. The bound is the epoch's multiply-adds at this machine's float32 matmul throughput,
measured in the same run, right after each epoch.

    python bench/train_step.py [--epochs 5] [--compile] [--device cpu] [--profile] [--smoke]

`--profile` then shows where an epoch's time goes: the dense layers' matmuls alone (the same shapes,
run back to back on fresh operands, against the bound) and a `torch.profiler` table of one more epoch
(the compiled kernels by name under `--compile`). `--smoke` runs 1 epoch on 2000 training and 500 test
images at batch 500, with the matmul rate at 256^2: seconds, for the test suite, whose figures mean nothing.
"""

from __future__ import annotations

import argparse
import time

import torch
from timing import matmul_gflops, smoke_subset
from torch._inductor import config as inductor_config

from ldmnist_hf import load_mnist
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
from ldmnist_hf.training.evaluation import evaluate_models
from ldmnist_hf.training.memory import retain_freed_memory
from ldmnist_hf.training.step import (
    JointModels,
    joint_losses,
    make_optimizers,
    make_schedulers,
    mnist_tensors,
    train_epoch,
)


def epoch_flops(models: JointModels, n_train: int, n_test: int) -> float:
    """Dense-layer FLOPs of one epoch: training = forward + backward (3x forward), test = forward.

    The backward pass of a layer fed by data (the first image layer, the one-hot class heads) needs no
    input gradient, so it costs 2x forward there instead of 3x.
    """
    macs = sum(m.in_features * m.out_features for m in models.modules() if isinstance(m, torch.nn.Linear))
    # The class decoder runs twice per example (class VAE and the middle-layers path).
    macs += models.class_vae.decoder.in_features * models.class_vae.decoder.out_features
    data_fed = [models.image_vae.encoder[0][0], models.class_vae.mean_head, models.class_vae.log_var_head]
    no_input_grad = sum(m.in_features * m.out_features for m in data_fed)
    return 2 * (macs * (3 * n_train + n_test) - no_input_grad * n_train)


def matmuls_alone(models: JointModels, batch: int, repeats: int = 5) -> tuple[float, float]:
    """Seconds (median) and FLOPs of one training step's dense-layer matmuls alone, run back to back.

    Each Linear does its forward, input-gradient and weight-gradient matmul at `batch` rows, on random
    operands allocated beforehand, with a fresh output each time as in a real step; what the step adds
    beyond this (elementwise work, the gather, the noise, the optimizers) is the rest of its time.
    """
    shapes = [(m.in_features, m.out_features) for m in models.modules() if isinstance(m, torch.nn.Linear)]
    data = [(torch.randn(batch, i), torch.randn(o, i), torch.randn(batch, o)) for i, o in shapes]

    def step():
        for x, w, g in data:
            x @ w.t(), g @ w, g.t() @ x

    step()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], sum(3 * 2 * batch * i * o for i, o in shapes)


def profile_epoch(epoch, rows: int = 15) -> None:
    """A `torch.profiler` table of one epoch, by self time (compiled kernels by name: see `main`)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        epoch()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=60))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=10000)
    p.add_argument("--compile", action="store_true")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--profile", action="store_true", help="then show where an epoch's time goes (CPU)")
    p.add_argument("--smoke", action="store_true", help="1 epoch on 2000 images, batch 500: that it runs")
    args = p.parse_args()
    if args.smoke:
        args.epochs, args.batch_size = 1, min(args.batch_size, 500)
    matmul_n = 256 if args.smoke else 4096  # the matmul that measures this machine's rate
    if args.profile and args.compile:
        inductor_config.cpp.enable_kernel_profile = True  # name the compiled kernels in the profile

    retain_freed_memory()  # as `ldmnist train` does on CPU
    mnist = load_mnist()
    if args.smoke:
        mnist = smoke_subset(mnist)
    targs = LDMNISTTrainingArguments(
        output_dir="/dev/null", recipe="reference", batch_size=args.batch_size, device=args.device
    )
    torch.manual_seed(0)
    models = JointModels.new(targs).to(args.device)
    optimizers = make_optimizers(models, targs)
    train_x, train_y, test_x, test_y = mnist_tensors(mnist, args.device)
    schedulers = make_schedulers(optimizers, targs, len(train_x))
    step = torch.compile(joint_losses, dynamic=False) if args.compile else joint_losses
    done = 0

    def epoch():  # what `ldmnist train` does per epoch, without logging and checkpoints
        nonlocal done
        train_epoch(models, optimizers, schedulers, train_x, train_y, targs, done, step)
        evaluate_models(models, test_x, test_y)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        done += 1

    t0 = time.perf_counter()
    epoch()  # warm-up (and compilation)
    warmup = time.perf_counter() - t0
    flops = epoch_flops(models, len(train_x), len(test_x))
    times, rates = [], []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
        # the matmul rate right after each epoch: other load on a shared machine moves both together
        rates.append(matmul_gflops(matmul_n) if args.device == "cpu" else float("nan"))
    ratios = sorted(t * r * 1e9 / flops for t, r in zip(times, rates))
    median = sorted(times)[len(times) // 2]
    gflops = sorted(rates)[len(rates) // 2]
    print(
        f"device {args.device}, threads {torch.get_num_threads()}, batch {args.batch_size}, "
        f"compile {args.compile} (first epoch {warmup:.2f} s)"
    )
    print(f"epoch: median {median:.3f} s, best {min(times):.3f} s over {args.epochs} epochs")
    print(
        f"work: {flops / 1e9:.1f} GFLOP per epoch; float32 matmul {gflops:.0f} GFLOP/s (median of the "
        f"{len(rates)} measured after each epoch) -> bound {flops / (gflops * 1e9):.3f} s"
    )
    target = 1.5 if args.compile else 2.0
    print(
        f"ratio to bound: {ratios[len(ratios) // 2]:.2f}x, median of each epoch against the matmul rate "
        f"measured right after it (range {ratios[0]:.2f}-{ratios[-1]:.2f}x; target: within {target}x)"
    )
    if args.profile and args.device == "cpu":
        seconds, mm_flops = matmuls_alone(models, args.batch_size)
        rate = matmul_gflops(matmul_n)
        print(
            f"the training step's matmuls alone (batch {args.batch_size}, back to back, fresh outputs): "
            f"{seconds * 1e3:.1f} ms, {seconds * rate * 1e9 / mm_flops:.2f}x their bound at {rate:.0f} GFLOP/s"
        )
        profile_epoch(epoch)


if __name__ == "__main__":
    main()
