"""Joint training of the image VAE, the class VAE and the middle layers, as the 2020 reference did.

One step computes, on a batch of images `x` and labels `y`:

- image VAE: `BCE(x, decode(z_x)) + kl_weight * KL(q(z_x | x))` with `z_x` sampled;
- class VAE: Keras `binary_crossentropy(onehot(y), softmax(decode(z_y)))` + `kl_weight * KL`;
- classification: Keras `binary_crossentropy(onehot(y), softmax(class_decoder(middle(z_x))))`;

and sums them. The VAEs' optimizer applies the gradient of that total, classification term included,
as the reference *code* did (`classification_to_vaes=True`; the reference *text* says the middle
layers do not affect the VAEs, which is `False`). The middle layers have their own Adam optimizer.

`layers="inference"` (the default) runs Dropout and BatchNorm in inference mode during training, as
the reference code really ran them (it never passed `training=True`): dropout never acts and each
BatchNorm is a learned affine map over fixed statistics 0 and 1. `layers="active"` trains with them
active, as the reference text describes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .configuration_class_vae import ClassVAEConfig
from .configuration_image_vae import ImageVAEConfig
from .configuration_middle_layers import MiddleLayersConfig
from .modeling_class_vae import ClassVAE
from .modeling_image_vae import ImageVAE
from .modeling_middle_layers import MiddleLayers
from .training_args import (  # noqa: F401 - re-exported: the settings live in a torch-free module for the CLI
    INFORMATIVE_STD,
    LAYER_MODES,
    MAX_LEARNING_RATE,
    MODEL_DIRS,
    QUALITY_BAR,
    RECIPES,
    SCHEDULES,
    TrainingArguments,
    with_older_defaults,
)
from .utils import LDMNISTError, atomic_dir, atomic_write_text, check_output_dir, log, retain_freed_memory


class Models(torch.nn.Module):
    """The three models trained together."""

    def __init__(self, image_vae: ImageVAE, class_vae: ClassVAE, middle_layers: MiddleLayers):
        super().__init__()
        self.image_vae, self.class_vae, self.middle_layers = image_vae, class_vae, middle_layers

    @classmethod
    def new(cls, args: TrainingArguments) -> Models:
        L = args.latent_dim
        return cls(
            ImageVAE(ImageVAEConfig(latent_dim=L, sampling=args.sampling)),
            ClassVAE(ClassVAEConfig(latent_dim=L, sampling=args.sampling)),
            MiddleLayers(MiddleLayersConfig(latent_dim=L)),
        )

    @classmethod
    def from_dir(cls, path: str | Path) -> Models:
        from .pretrained import load_pretrained

        path = Path(path)
        return cls(
            *(
                load_pretrained(path / MODEL_DIRS[name], klass)  # strict: no randomly initialised weights
                for name, klass in (
                    ("image_vae", ImageVAE),
                    ("class_vae", ClassVAE),
                    ("middle_layers", MiddleLayers),
                )
            )
        )

    def save(self, path: Path) -> None:
        for name, sub in MODEL_DIRS.items():
            getattr(self, name).save_pretrained(path / sub)


def draw_noise(
    models: Models, batch_size: int, generator: torch.Generator, class_draws: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The standard normal noise of one step: `(B, L_image)` for the image latents and `(D * B, L_class)`
    for the class ones (`D = class_draws` posterior draws per label).

    Drawn outside `joint_losses`, so that the step itself is a pure function that `torch.compile` traces whole.
    """
    dev = generator.device
    return (
        torch.randn(batch_size, models.image_vae.config.latent_dim, generator=generator, device=dev),
        torch.randn(
            class_draws * batch_size, models.class_vae.config.latent_dim, generator=generator, device=dev
        ),
    )


def joint_losses(
    models: Models,
    x: torch.Tensor,
    y: torch.Tensor,
    noise: tuple[torch.Tensor, torch.Tensor],
    classification_to_vaes: bool = True,
    fold_batch_norm: bool = False,
) -> dict[str, torch.Tensor]:
    """The reference's losses on one batch.

    Args:
        x: float pixels `(B, 784)` in [0, 1]; y: int64 labels `(B,)`.
        noise: from `draw_noise`, the sampling noise of the image and the class latents. Class noise of
            `D * B` rows scores the class VAE on `D` posterior draws per label: the same loss, with less
            sampling noise in its gradient (the tiny class VAE converges faster; the cost is negligible).
        classification_to_vaes: whether the classification loss also trains the image encoder and the
            class decoder (the reference: yes).
        fold_batch_norm: inference-mode BatchNorm folded into the next Linear (see `ImageVAE.forward_loss`);
            the training loop sets it, evaluation keeps the models' exact forward.
    """
    iv, cv, ml = models.image_vae, models.class_vae, models.middle_layers
    image = iv.forward_loss(x, noise[0], fold_batch_norm)
    onehot = F.one_hot(y, cv.config.num_classes).to(x.dtype)
    draws = noise[1].shape[0] // len(y)
    label = cv.forward_loss(onehot.repeat(draws, 1), noise[1])
    # image encoder -> middle layers -> class decoder; without `classification_to_vaes` the classification
    # gradient reaches the middle layers only.
    z_x = image.latents if classification_to_vaes else image.latents.detach()
    mid_logits = cv.class_logits(
        ml.transform(z_x, fold_batch_norm), detach_decoder=not classification_to_vaes
    )
    classification = cv.reconstruction_loss(mid_logits, onehot)
    return {
        "loss": image.loss + label.loss + classification,
        "image_rec": image.reconstruction_loss,
        "image_kl": image.kl_loss,
        "class_rec": label.reconstruction_loss,
        "class_kl": label.kl_loss,
        "classification": classification,
        # class from a SAMPLED latent, averaged over the draws
        "class_correct": (label.logits.argmax(-1) == y.repeat(draws)).sum() / draws,
        "middle_correct": (mid_logits.argmax(-1) == y).sum(),
    }


# Counts in the output of `joint_losses` (the rest are batch means) and the accuracies they become.
_COUNTS = {"class_correct": "class_vae_accuracy", "middle_correct": "middle_layers_accuracy"}


def _batch_sums(losses: dict[str, torch.Tensor], batch_size: int) -> torch.Tensor:
    """Sums over the batch of each entry of `joint_losses`, stacked in its order."""
    return torch.stack([v.detach().float() * (1 if k in _COUNTS else batch_size) for k, v in losses.items()])


def _averages(keys, sums: torch.Tensor, n: int) -> dict[str, float]:
    """Per-example means of the summed entries, counts renamed to accuracies."""
    return {_COUNTS.get(k, k): v / n for k, v in zip(keys, sums.tolist())}


@torch.no_grad()
def evaluate_models(
    models: Models, images: torch.Tensor, labels: torch.Tensor, seed: int = 0, batch_size: int = 10000
) -> dict[str, float]:
    """Test figures: VAE losses, the class VAE's accuracy from SAMPLED latents, the middle layers' accuracy.

    `images` float `(N, 784)` in [0, 1], `labels` int64 `(N,)`, on the models' device. Deterministic given `seed`.
    """
    was_training = models.training
    models.eval()
    gen = torch.Generator(images.device).manual_seed(seed)
    sums = 0
    for i in range(0, len(images), batch_size):
        x, y = images[i : i + batch_size], labels[i : i + batch_size]
        losses = joint_losses(models, x, y, draw_noise(models, len(x), gen))
        sums = sums + _batch_sums(losses, len(x))
    models.train(was_training)
    return _averages(losses, sums, len(images))


@torch.no_grad()
def class_accuracy_draws(
    class_vae: ClassVAE, labels: torch.Tensor, draws: int = 20, seed: int = 0
) -> np.ndarray:
    """Accuracy of the class decoded from a SAMPLED latent of each label, for `draws` independent draws.

    One draw varies by about 0.05 points, so figures are given as the mean and sd over draws.
    `labels` int64 `(N,)` on the model's device. Returns `(draws,)` float64. Deterministic given `seed`.
    """
    was_training = class_vae.training
    class_vae.eval()
    posterior = class_vae.posterior(F.one_hot(labels, class_vae.config.num_classes).to(class_vae.dtype))
    gen = torch.Generator(labels.device).manual_seed(seed)
    accs = [
        (class_vae.class_logits(posterior.sample(gen)).argmax(-1) == labels).double().mean().item()
        for _ in range(draws)
    ]
    class_vae.train(was_training)
    return np.array(accs)


@torch.no_grad()
def latent_std(vae, inputs: torch.Tensor, seed: int = 0, batch_size: int = 10000) -> np.ndarray:
    """Per-component std of SAMPLED latents, shape `(latent_dim,)`.

    `vae` is an `ImageVAE` (inputs: float pixels `(N, 784)`) or a `ClassVAE` (inputs: labels `(N,)`).
    """
    vae.eval()
    gen = torch.Generator(inputs.device).manual_seed(seed)
    zs = [
        vae.encode(inputs[i : i + batch_size]).latent_dist.sample(gen)
        for i in range(0, len(inputs), batch_size)
    ]
    return torch.cat(zs).std(0).cpu().numpy()


def mnist_tensors(mnist, device: str, limit_train: int | None = None):
    """MNIST on the device: train pixels `(N, 784)` float in [0, 1], train labels, test pixels, test labels."""

    def flat(a):
        return torch.from_numpy(a.reshape(len(a), -1)).to(device=device, dtype=torch.float32).div_(255.0)

    n = limit_train or len(mnist.train_images)
    return (
        flat(mnist.train_images[:n]),
        torch.from_numpy(mnist.train_labels[:n]).to(device),
        flat(mnist.test_images),
        torch.from_numpy(mnist.test_labels).to(device),
    )


# ----------------------------------------------------------------------------- checkpoints (no pickle)


def _optimizer_to_files(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_from_files(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict] = {}
    for name, value in [*tensors.items(), *meta["scalars"].items()]:
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(
    path: Path, models: Models, optimizers, schedulers, epoch: int, args: TrainingArguments
) -> None:
    """Weights and optimizer moments in safetensors, the rest in JSON; written atomically."""
    with atomic_dir(path, overwrite=True, marker="trainer_state.json") as tmp:
        models.save(tmp)
        meta = {"epoch": epoch, "args": dataclasses.asdict(args), "optimizers": {}, "schedulers": {}}
        for name, opt in optimizers.items():
            tensors, opt_meta = _optimizer_to_files(opt)
            save_file(tensors, str(tmp / f"optimizer-{name}.safetensors"))
            meta["optimizers"][name] = opt_meta
            meta["schedulers"][name] = schedulers[name].state_dict()
        (tmp / "trainer_state.json").write_text(json.dumps(meta, indent=1))


def read_trainer_state(path: Path) -> dict:
    """`trainer_state.json` of a checkpoint, with a clear error when it is damaged."""
    file = Path(path) / "trainer_state.json"
    try:
        meta = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        meta = e
    if not isinstance(meta, dict) or {"epoch", "args", "optimizers", "schedulers"} - set(meta):
        raise LDMNISTError(
            f"{file} is damaged ({meta if isinstance(meta, Exception) else 'missing fields'}); this checkpoint "
            f"cannot be resumed. Start over with --overwrite, or use another --output-dir."
        )
    return meta


def load_checkpoint(path: Path, models: Models, optimizers, schedulers) -> int:
    meta = read_trainer_state(path)
    try:
        loaded = Models.from_dir(path)
        models.load_state_dict(loaded.state_dict())
        for name, opt in optimizers.items():
            _optimizer_from_files(
                opt, load_file(str(path / f"optimizer-{name}.safetensors")), meta["optimizers"][name]
            )
            schedulers[name].load_state_dict(meta["schedulers"][name])
        return int(meta["epoch"])
    except LDMNISTError as e:
        raise LDMNISTError(
            f"The checkpoint {path} cannot be resumed: {e} Start over with --overwrite."
        ) from e
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as e:
        raise LDMNISTError(
            f"The checkpoint {path} is damaged ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
            f"it cannot be resumed. Start over with --overwrite."
        ) from e


# ----------------------------------------------------------------------------- the loop


def _scheduler(opt, args: TrainingArguments, steps_per_epoch: int):
    if args.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=args.plateau_factor, patience=args.plateau_patience
        )
    if args.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)


# Settings that may change between a run and its resumption: they do not change the result.
_RESUMABLE_CHANGES = {"output_dir", "device", "checkpoint_every", "compile"}


def _check_same_run(args: TrainingArguments, saved: dict) -> None:
    now = dataclasses.asdict(args)
    # Checkpoints from before these options existed trained the class VAE at the shared rate, one draw.
    saved = with_older_defaults(saved)
    diff = [
        f"{k}: {saved.get(k)!r} -> {v!r}"
        for k, v in now.items()
        if k not in _RESUMABLE_CHANGES and saved.get(k) != v
    ]
    if diff:
        raise LDMNISTError(
            "--resume with other settings than the checkpoint's would not continue the same run ("
            + "; ".join(diff)
            + "). Resume with the original options, or start a new --output-dir."
        )


def _epoch_seed(seed: int, epoch: int, stream: int) -> int:
    # Every epoch draws from its own seeded generators, so a resumed run repeats the uninterrupted one.
    return (seed * 1_000_003 + epoch * 7919 + stream) % (2**63)


def make_optimizers(models: Models, args: TrainingArguments) -> dict[str, torch.optim.Optimizer]:
    """One Adam for both VAEs, one for the middle layers, as the reference had.

    The class VAE gets a parameter group of its own when its rate differs (one group otherwise, as in runs
    made before the option existed, so their checkpoints resume). Adam is the fused implementation: one
    kernel per step instead of a dozen elementwise passes per parameter.
    """
    iv, cv = list(models.image_vae.parameters()), list(models.class_vae.parameters())
    if args.class_vae_learning_rate == args.learning_rate:
        vae_groups = [{"params": iv + cv}]
    else:
        vae_groups = [{"params": iv}, {"params": cv, "lr": args.class_vae_learning_rate}]
    fused = args.device.split(":")[0] in ("cpu", "cuda")
    return {
        "vaes": torch.optim.Adam(vae_groups, lr=args.learning_rate, fused=fused),
        "middle": torch.optim.Adam(models.middle_layers.parameters(), lr=args.learning_rate, fused=fused),
    }


def make_schedulers(optimizers, args: TrainingArguments, n_train: int) -> dict:
    """The learning-rate schedule of each optimizer (cosine steps per batch, plateau per epoch)."""
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    return {k: _scheduler(o, args, steps_per_epoch) for k, o in optimizers.items()}


def train_epoch(
    models, optimizers, schedulers, train_x, train_y, args: TrainingArguments, epoch: int, step=None
):
    """One pass over the training data; returns the per-example means of the losses and accuracies.

    The order and the sampling noise come from generators seeded by (`args.seed`, `epoch`), so any epoch
    can be replayed. `step` is `joint_losses` or a compiled version of it.
    """
    step = step or joint_losses
    if args.device == "cpu":
        retain_freed_memory()  # large step tensors reuse memory instead of faulting in fresh pages
    n = len(train_x)
    models.train(args.layers == "active")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(_epoch_seed(args.seed, epoch, 0)))
    order = order.to(args.device)
    gen = torch.Generator(args.device).manual_seed(_epoch_seed(args.seed, epoch, 1))
    sums = 0
    # The batch is gathered into one buffer reused by every step (index_select: one pass; a new (B, 784)
    # tensor per step would cost the allocator fresh pages each time).
    x_buffer = train_x.new_empty((min(args.batch_size, n), *train_x.shape[1:]))
    for i in range(0, n, args.batch_size):
        idx = order[i : i + args.batch_size]
        noise = draw_noise(models, len(idx), gen, args.class_vae_draws)
        x = torch.index_select(train_x, 0, idx, out=x_buffer[: len(idx)])
        y = train_y.index_select(0, idx)
        losses = step(models, x, y, noise, args.classification_to_vaes, True)
        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        for opt in optimizers.values():
            opt.step()
        if args.schedule != "plateau":
            for s in schedulers.values():
                s.step()
        sums = sums + _batch_sums(losses, len(idx))
    metrics = _averages(losses, sums, n)
    if args.schedule == "plateau":
        for s in schedulers.values():
            s.step(metrics["loss"])
    return metrics


RUN_FILES = ("checkpoint", "models", "metrics.jsonl", "summary.json")  # all that a run writes


def _check_run_dir(out: Path, resume: bool, overwrite: bool, stop_after) -> list[str]:
    """Refuses to start where it would lose a run or write nowhere; returns the earlier run's files."""
    if stop_after is not None and (
        isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1
    ):
        raise LDMNISTError(f"--stop-after must be an epoch number of at least 1, got {stop_after!r}.")
    if resume and overwrite:
        raise LDMNISTError(
            "--resume continues the run in --output-dir and --overwrite starts it over: choose one."
        )
    if out.exists() and not out.is_dir():
        raise LDMNISTError(f"--output-dir {out} is a file; give a folder.")
    if not out.exists():
        check_output_dir(out)  # its parent must be writable
    elif not os.access(out, os.W_OK | os.X_OK):
        raise LDMNISTError(f"--output-dir {out} is not writable; choose another folder.")
    ckpt = out / "checkpoint"
    if resume:
        if not (ckpt / "trainer_state.json").exists():
            raise LDMNISTError(f"--resume: no checkpoint in {ckpt}; start without --resume.")
        return []
    earlier = [name for name in RUN_FILES if (out / name).exists()]
    if earlier and not overwrite:
        if (out / "summary.json").exists():
            raise LDMNISTError(
                f"{out} already holds a finished run; start it over with --overwrite, or choose another --output-dir."
            )
        where = ""
        if (ckpt / "trainer_state.json").exists():
            epoch = read_trainer_state(ckpt).get("epoch")
            where = f" (checkpoint at epoch {epoch})"
        raise LDMNISTError(
            f"{out} holds an unfinished run{where}; continue it with --resume, or start over with --overwrite."
        )
    return earlier


def _metrics_lines(path: Path, last_epoch: int) -> list[str]:
    """The lines of metrics.jsonl up to `last_epoch`; a half-written line (a killed run) is dropped."""
    kept, dropped = [], 0
    for line in path.read_text().splitlines():
        try:
            epoch = json.loads(line)["epoch"]
        except (json.JSONDecodeError, KeyError, TypeError):
            dropped += 1
            continue
        if isinstance(epoch, int) and epoch <= last_epoch:
            kept.append(line)
    if dropped:
        log(f"{path}: dropped {dropped} unreadable line(s) (a run killed while writing?).")
    return kept


def _check_finite_losses(metrics: dict, epoch: int, ckpt: Path, args: TrainingArguments) -> None:
    """Stops a diverged run before it logs, checkpoints or saves anything of the bad epoch."""
    bad = [k for k, v in metrics.items() if not math.isfinite(v)]
    if bad:
        kept = (
            f"the last good checkpoint ({ckpt}, epoch {read_trainer_state(ckpt)['epoch']}) is kept"
            if (ckpt / "trainer_state.json").exists()
            else "no checkpoint had been written yet"
        )
        raise LDMNISTError(
            f"Training diverged in epoch {epoch + 1}: {', '.join(bad[:4])} became NaN or inf "
            f"(learning rate {args.learning_rate}). Nothing of that epoch was saved; {kept}. "
            f"Start over with a lower --learning-rate and --overwrite."
        )


def train(
    args: TrainingArguments,
    mnist=None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    overwrite: bool = False,
) -> dict:
    """Trains the three models and saves them with `save_pretrained` under `args.output_dir`.

    Args:
        args (`TrainingArguments`): what to train and how.
        mnist (`MNIST`, *optional*): the data; `load_mnist()` when omitted.
        resume (`bool`, defaults to `False`): continue from `output_dir/checkpoint`.
        progress (`bool`, defaults to `True`): show a progress bar with the current losses.
        stop_after (`int`, *optional*): stop after this epoch, leaving a checkpoint to `resume` from
            (for machines with time limits); the models and summary are written only at the end.
        overwrite (`bool`, defaults to `False`): start over in an `output_dir` that holds a run (finished or
            not), replacing its checkpoint, models, metrics and summary. Without it, or `resume`, such a
            folder is refused.

    Returns:
        `dict`: the summary also written to `output_dir/summary.json` (final test metrics, time).
    """
    from tqdm.auto import tqdm

    out = Path(args.output_dir)
    ckpt = out / "checkpoint"
    earlier = _check_run_dir(out, resume, overwrite, stop_after)  # before any work
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise LDMNISTError("--device cuda was asked for but CUDA is not available here; use --device cpu.")
    if mnist is None:
        from .mnist import load_mnist

        mnist = load_mnist()

    torch.manual_seed(args.seed)  # weight initialisation
    models = Models.new(args).to(args.device)
    optimizers = make_optimizers(models, args)
    train_x, train_y, test_x, test_y = mnist_tensors(mnist, args.device)
    schedulers = make_schedulers(optimizers, args, len(train_x))
    start_epoch = 0
    if resume:
        _check_same_run(args, read_trainer_state(ckpt)["args"])
        start_epoch = load_checkpoint(ckpt, models, optimizers, schedulers)
        log(f"Resuming from epoch {start_epoch} ({ckpt})")
    if start_epoch >= args.epochs:
        log(f"The checkpoint is at epoch {start_epoch}, not before --epochs {args.epochs}: nothing to train.")

    step = joint_losses
    if args.compile:
        step = torch.compile(joint_losses, dynamic=False)
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / "metrics.jsonl"
    if not resume:  # --overwrite: only the files a run writes go; anything else in the folder stays
        for name in earlier:
            if (out / name).is_dir():
                shutil.rmtree(out / name)
            else:
                (out / name).unlink()
    # A resumed run drops the lines logged after its checkpoint, so the log matches an uninterrupted run.
    if resume and metrics_path.exists():
        kept = _metrics_lines(metrics_path, start_epoch)
        atomic_write_text(metrics_path, "".join(ln + "\n" for ln in kept))

    train_time = 0.0
    bar = tqdm(
        range(start_epoch, args.epochs),
        initial=start_epoch,
        total=args.epochs,
        disable=not progress,
        desc=f"train {args.recipe}",
        unit="epoch",
        dynamic_ncols=True,
    )
    last = {}
    for epoch in bar:
        t0 = time.perf_counter()
        train_metrics = train_epoch(models, optimizers, schedulers, train_x, train_y, args, epoch, step)
        train_time += time.perf_counter() - t0
        test_metrics = evaluate_models(models, test_x, test_y, seed=args.seed)
        _check_finite_losses(
            {**train_metrics, **{f"test/{k}": v for k, v in test_metrics.items()}}, epoch, ckpt, args
        )
        last = {
            "epoch": epoch + 1,
            "lr": optimizers["vaes"].param_groups[0]["lr"],
            "epoch_seconds": time.perf_counter() - t0,
            **{f"train/{k}": v for k, v in train_metrics.items()},
            **{f"test/{k}": v for k, v in test_metrics.items()},
        }
        with open(metrics_path, "a") as f:
            f.write(json.dumps(last, allow_nan=False) + "\n")
        bar.set_postfix(
            loss=f"{train_metrics['loss']:.4f}",
            cls_acc=f"{test_metrics['class_vae_accuracy']:.4f}",
            mid_acc=f"{test_metrics['middle_layers_accuracy']:.4f}",
        )
        stopping = stop_after is not None and epoch + 1 >= stop_after
        if (epoch + 1) % args.checkpoint_every == 0 or epoch + 1 == args.epochs or stopping:
            save_checkpoint(ckpt, models, optimizers, schedulers, epoch + 1, args)
        if stopping and epoch + 1 < args.epochs:
            bar.close()
            log(f"Stopped after epoch {epoch + 1}; continue with --resume.")
            return {"final": last, "stopped_after": epoch + 1}
    bar.close()

    stds = latent_std(models.image_vae, train_x, seed=args.seed)
    with atomic_dir(out / "models", overwrite=True, marker=tuple(MODEL_DIRS.values())) as tmp:
        models.save(tmp)
    summary = {
        "args": dataclasses.asdict(args),
        "train_seconds_this_session": round(train_time, 1),
        "final": last,
        "image_latent_std": [round(float(s), 4) for s in stds],
        "informative_components": int((stds < 0.8).sum()),
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
    log(f"Saved models to {out / 'models'} and the summary to {out / 'summary.json'}")
    return summary
