"""Joint training of the image VAE, the class VAE and the middle layers, as the 2020 reference did.

One step computes, on a batch of images `x` and labels `y`:

- image VAE: `BCE(x, decode(z_x)) + kl_weight * KL(q(z_x | x))` with `z_x` sampled;
- class VAE: Keras `binary_crossentropy(onehot(y), softmax(decode(z_y)))` + `kl_weight * KL`;
- classification: Keras `binary_crossentropy(onehot(y), softmax(class_decoder(middle(z_x))))`;

and sums them. The VAEs' optimizer applies the gradient of that total, classification term included,
as the reference *code* did (`classification_to_vaes=True`; the reference *text* says the middle
layers do not affect the VAEs, which is `False`). The middle layers have their own Adam optimizer.

`dropout_batchnorm="eval"` (the default) runs Dropout and BatchNorm in eval mode during training, as
the reference code really ran them (it never passed `training=True`): dropout never acts and each
BatchNorm is a learned affine map over fixed statistics 0 and 1. `dropout_batchnorm="train"` trains
with them in train mode, as the reference text describes.

This module holds the models' container, the step and one epoch; `trainer.train` runs the whole loop
(folders, resume, checkpoints from `checkpoints`, evaluation from `evaluation`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..models.configuration_class_vae import ClassVAEConfig
from ..models.configuration_image_vae import ImageVAEConfig
from ..models.configuration_middle_layers import MiddleLayersConfig
from ..models.modeling_class_vae import ClassVAE
from ..models.modeling_image_vae import ImageVAE
from ..models.modeling_middle_layers import MiddleLayers
from ..pretrained.loading import load_pretrained
from ..registry import KINDS
from .arguments import LDMNISTTrainingArguments


class JointModels(torch.nn.Module):
    """The three models trained together: `image_vae`, `class_vae` and `middle_layers`."""

    def __init__(self, image_vae: ImageVAE, class_vae: ClassVAE, middle_layers: MiddleLayers):
        super().__init__()
        self.image_vae, self.class_vae, self.middle_layers = image_vae, class_vae, middle_layers

    @classmethod
    def new(
        cls,
        args: LDMNISTTrainingArguments,
        image_shape: tuple[int, int, int] = (1, 28, 28),
        num_classes: int = 10,
        id2label: dict[int, str] | None = None,
    ) -> JointModels:
        """Freshly initialised models of the arguments' latent size and sampling, for the data's images and classes.

        Args:
            args (`LDMNISTTrainingArguments`): the run's arguments (`latent_dim`, `sampling`).
            image_shape (`tuple[int, int, int]`, *optional*, defaults to `(1, 28, 28)`): the images'
                `(channels, height, width)` (MNIST's by default). A square image is configured with
                `image_size=height`, as MNIST's models are; another with `image_size=[height, width]`.
            num_classes (`int`, *optional*, defaults to 10): the number of classes.
            id2label (`dict[int, str]`, *optional*): the class names, set in the class VAE's configuration
                only when given (MNIST's configurations have none).

        >>> from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
        >>> args = LDMNISTTrainingArguments(output_dir="unused", latent_dim=8)
        >>> JointModels.new(args, image_shape=(3, 8, 6)).image_vae.config.image_size
        [8, 6]
        """
        if not isinstance(image_shape, tuple | list) or len(image_shape) != 3:
            raise ValueError(f"`image_shape` must be (channels, height, width), got {image_shape!r}.")
        if id2label is not None and len(id2label) != num_classes:
            raise ValueError(f"`id2label` names {len(id2label)} classes; `num_classes` is {num_classes}.")
        channels, height, width = image_shape
        L, sampling = args.latent_dim, args.sampling
        image_size = height if height == width else [height, width]
        labels = {}
        if id2label is not None:
            labels = {"id2label": dict(id2label), "label2id": {name: i for i, name in id2label.items()}}
        return cls(
            ImageVAE(
                ImageVAEConfig(latent_dim=L, image_size=image_size, num_channels=channels, sampling=sampling)
            ),
            ClassVAE(ClassVAEConfig(latent_dim=L, num_classes=num_classes, sampling=sampling, **labels)),
            MiddleLayers(MiddleLayersConfig(latent_dim=L)),
        )

    @classmethod
    def from_dir(cls, path: str | Path) -> JointModels:
        """The three models saved by `save` under `path` (strict: no randomly initialised weights)."""
        path = Path(path)
        return cls(*(load_pretrained(path / kind.stem, kind.model_class) for kind in KINDS.values()))

    def save(self, path: Path) -> None:
        """Each model with `save_pretrained` in its folder under `path` (`image-vae`, ...: `ModelKind.stem`)."""
        for key, kind in KINDS.items():
            getattr(self, key).save_pretrained(path / kind.stem)


def draw_noise(
    models: JointModels, batch_size: int, generator: torch.Generator, class_draws: int = 1
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
    models: JointModels,
    x: torch.Tensor,
    y: torch.Tensor,
    noise: tuple[torch.Tensor, torch.Tensor],
    classification_to_vaes: bool = True,
    fold_batch_norm: bool = False,
) -> dict[str, torch.Tensor]:
    """The reference's losses on one batch.

    Args:
        x: float pixels `(B, C * H * W)` in [0, 1] (`(B, 784)` for MNIST); y: int64 labels `(B,)`.
        noise: from `draw_noise`, the sampling noise of the image and the class latents. Class noise of
            `D * B` rows scores the class VAE on `D` posterior draws per label: the same loss, with less
            sampling noise in its gradient (the tiny class VAE converges faster; the cost is negligible).
        classification_to_vaes: whether the classification loss also trains the image encoder and the
            class decoder (the reference: yes).
        fold_batch_norm: eval-mode BatchNorm folded into the next Linear (see `ImageVAE.forward_loss`);
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


def batch_sums(losses: dict[str, torch.Tensor], batch_size: int) -> torch.Tensor:
    """Sums over the batch of each entry of `joint_losses`, stacked in its order."""
    return torch.stack([v.detach().float() * (1 if k in _COUNTS else batch_size) for k, v in losses.items()])


def averages(keys, sums: torch.Tensor, n: int) -> dict[str, float]:
    """Per-example means of the summed entries, counts renamed to accuracies."""
    return {_COUNTS.get(k, k): v / n for k, v in zip(keys, sums.tolist())}


def mnist_tensors(mnist, device: str, limit_train: int | None = None):
    """MNIST on the device: train pixels `(N, 784)` float in [0, 1], train labels, test pixels, test labels.

    Any dataset of the same layout works: its uint8 images, grey `(N, H, W)` or channels-first `(N, C, H, W)`,
    are flattened row by row to `(N, C * H * W)` in C, H, W order, the image VAE's flat input
    (`ImageVAE.prepare_pixels`).
    """

    def flat(a):
        return torch.from_numpy(a.reshape(len(a), -1)).to(device=device, dtype=torch.float32).div_(255.0)

    n = limit_train or len(mnist.train_images)
    return (
        flat(mnist.train_images[:n]),
        torch.from_numpy(mnist.train_labels[:n]).to(device),
        flat(mnist.test_images),
        torch.from_numpy(mnist.test_labels).to(device),
    )


def _scheduler(opt, args: LDMNISTTrainingArguments, steps_per_epoch: int):
    if args.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=args.plateau_factor, patience=args.plateau_patience
        )
    if args.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)


def _epoch_seed(seed: int, epoch: int, stream: int) -> int:
    # Every epoch draws from its own seeded generators, so a resumed run repeats the uninterrupted one.
    return (seed * 1_000_003 + epoch * 7919 + stream) % (2**63)


def make_optimizers(models: JointModels, args: LDMNISTTrainingArguments) -> dict[str, torch.optim.Optimizer]:
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
        "vaes": torch.optim.Adam(vae_groups, lr=args.learning_rate, eps=args.adam_epsilon, fused=fused),
        "middle": torch.optim.Adam(
            models.middle_layers.parameters(), lr=args.learning_rate, eps=args.adam_epsilon, fused=fused
        ),
    }


def make_schedulers(optimizers, args: LDMNISTTrainingArguments, n_train: int) -> dict:
    """The learning-rate schedule of each optimizer (cosine steps per batch, plateau per epoch)."""
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    return {k: _scheduler(o, args, steps_per_epoch) for k, o in optimizers.items()}


def epoch_order(n: int, seed: int, buffer: int = 0) -> torch.Tensor:
    """The order of one epoch: a uniform permutation, or (`buffer` > 0) the order `tf.data`'s `shuffle(buffer)`
    draws: a buffer of the next `buffer` examples, from which a uniformly chosen one is taken and replaced by
    the next example of the ordered set.

    >>> epoch_order(6, 0, buffer=1).tolist()  # a buffer of one keeps the order
    [0, 1, 2, 3, 4, 5]
    >>> sorted(epoch_order(1000, 0, buffer=10).tolist()) == list(range(1000))
    True
    """
    if buffer <= 0 or buffer >= n:
        return torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    rng = np.random.default_rng(seed)
    pool, order = list(range(buffer)), np.empty(n, dtype=np.int64)
    picks = rng.random(n)
    for i in range(n):
        j = int(picks[i] * len(pool))
        order[i] = pool[j]
        if buffer + i < n:
            pool[j] = buffer + i
        else:
            pool[j] = pool[-1]
            pool.pop()
    return torch.from_numpy(order)


def train_epoch(
    models, optimizers, schedulers, train_x, train_y, args: LDMNISTTrainingArguments, epoch: int, step=None
):
    """One pass over the training data; returns the per-example means of the losses and accuracies.

    The order and the sampling noise come from generators seeded by (`args.seed`, `epoch`), so any epoch
    can be replayed. `step` is `joint_losses` or a compiled version of it.
    """
    step = step or joint_losses
    n = len(train_x)
    models.train(args.dropout_batchnorm == "train")
    order = epoch_order(n, _epoch_seed(args.seed, epoch, 0), args.shuffle_buffer).to(args.device)
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
        sums = sums + batch_sums(losses, len(idx))
    metrics = averages(losses, sums, n)
    if args.schedule == "plateau":
        for s in schedulers.values():
            s.step(metrics["loss"])
    return metrics
