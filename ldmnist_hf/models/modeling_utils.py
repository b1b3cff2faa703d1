"""Pieces shared by the LD-MNIST models: the Keras-style base class, the Dense block, input checks, the loss.

Saved beside each exported model's code (transformers copies a model's module and its relative imports), so
it imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel

# Keras clips probabilities to [1e-7, 1 - 1e-7] inside binary_crossentropy.
_KERAS_EPSILON = 1e-7


def keras_binary_crossentropy(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Keras' `binary_crossentropy` on probabilities: clipped, averaged over the last axis. Shape `(batch,)`."""
    p = probs.clamp(_KERAS_EPSILON, 1 - _KERAS_EPSILON)
    return -(target * p.log() + (1 - target) * (1 - p).log()).mean(dim=-1)


class _BCEWithLogitsMean(torch.autograd.Function):
    """Mean binary cross-entropy of `sigmoid(logits)` against `target`, in fewer passes than PyTorch's.

    `F.binary_cross_entropy_with_logits` makes about nine elementwise passes over its inputs (log-sigmoid
    with a buffer, `1 - target`, products, the mean, then sigmoid, subtraction and scaling backward). On the
    image VAE's `(batch, 784)` output at batch 10000 those passes cost about as much as the matmuls. Here:
    forward = softplus + sum + one dot product (`BCE = softplus(l) - t * l`), backward = sigmoid + two
    in-place passes (`d/dl = sigmoid(l) - t`), each over blocks of rows small enough to stay in the CPU's
    cache, into one reused buffer: memory is read once per direction and no large temporary is allocated.
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits, target)
        rows = _row_blocks(logits)
        if len(logits) <= rows:  # one block (a small batch): no buffer, no loop
            flat_l, flat_t = logits.reshape(-1), target.reshape(-1)
            return (F.softplus(flat_l).sum() - torch.dot(flat_l, flat_t)) / flat_l.numel()
        buffer = logits.new_empty((rows, *logits.shape[1:]))
        parts = []
        for lg, tg in zip(logits.split(rows), target.split(rows)):
            # F.softplus(lg) into the buffer (its out= form, torch>=2.4)
            softplus = torch._C._nn.softplus(lg, 1, 20, out=buffer[: len(lg)])
            parts.append(softplus.sum() - torch.dot(lg.reshape(-1), tg.reshape(-1)))
        return torch.stack(parts).sum() / logits.numel()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        logits, target = ctx.saved_tensors
        scale = grad / logits.numel()
        rows = _row_blocks(logits)
        if len(logits) <= rows:
            return torch.sigmoid(logits).sub_(target).mul_(scale), None
        grad_logits = torch.empty_like(logits)
        for lg, tg, g in zip(logits.split(rows), target.split(rows), grad_logits.split(rows)):
            torch.sigmoid(lg, out=g).sub_(tg).mul_(scale)
        return grad_logits, None


def _row_blocks(x: torch.Tensor, block_bytes: int = 1 << 22) -> int:
    """Rows of `x` per block of about 4 MiB (blocks of 1000-2000 rows of 784 floats measured fastest)."""
    row_bytes = max(1, x[0].numel() * x.element_size()) if len(x) else 1
    return max(1, block_bytes // row_bytes)


def bce_with_logits_mean(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy_with_logits(logits, target)` (mean reduction) with a cheaper backward pass.

    The gradient reaches `logits` only (targets are data). Under `torch.compile` the library op is used,
    since the compiler fuses it anyway.

    >>> import torch, torch.nn.functional as F
    >>> l, t = torch.randn(4, 6), torch.rand(4, 6)
    >>> torch.allclose(bce_with_logits_mean(l, t), F.binary_cross_entropy_with_logits(l, t))
    True
    """
    if torch.compiler.is_compiling():
        return F.binary_cross_entropy_with_logits(logits, target)
    return _BCEWithLogitsMean.apply(logits, target)


def _check_batch(name: str, tensor: torch.Tensor, expected: str) -> None:
    if tensor.ndim == 0 or tensor.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; expected shape {expected}.")


class _Block(nn.Sequential):
    """Dense -> activation -> BatchNorm -> Dropout, or Dropout -> Dense -> activation -> BatchNorm.

    A `Sequential` (the state-dict keys are `<block>.<position>.*`, as in the shipped weights); the
    properties name its layers. The models pass LeakyReLU with `inplace=True`: it then acts on the fresh
    output of its Dense, and its backward reads that output (kept anyway for the next layer) instead of
    the input; under `torch.compile` the out-of-place version saves a bool mask of the input, which
    inductor's CPU kernels store about 30x slower than floats.
    """

    def __init__(self, n_in, n_out, activation, config, dropout_first=False):
        layers = [
            nn.Linear(n_in, n_out),
            activation,
            nn.BatchNorm1d(n_out, eps=config.batch_norm_eps, momentum=config.batch_norm_momentum),
        ]
        dropout = nn.Dropout(config.dropout)
        super().__init__(*([dropout, *layers] if dropout_first else [*layers, dropout]))

    def _layer(self, kind: type) -> nn.Module:
        return next(m for m in self if isinstance(m, kind))

    dense = property(lambda self: self._layer(nn.Linear))
    norm = property(lambda self: self._layer(nn.BatchNorm1d))
    dropout = property(lambda self: self._layer(nn.Dropout))
    # the one layer that is none of the others
    activation = property(lambda self: next(m for m in self if not isinstance(m, _Block._NAMED)))
    _NAMED = (nn.Linear, nn.BatchNorm1d, nn.Dropout)


# An eval-mode BatchNorm (running statistics) is the affine map `x * scale + shift`, carried forward
# until the next Linear.
_Affine = tuple[torch.Tensor, torch.Tensor]


def _dense(linear: nn.Linear, x: torch.Tensor, affine: _Affine | None = None) -> torch.Tensor:
    """`linear(x * scale + shift)` as one Linear: the affine map folded into the (small) weight and bias."""
    if affine is None:
        return linear(x)
    scale, shift = affine
    return F.linear(x, linear.weight * scale, torch.addmv(linear.bias, linear.weight, shift))


def _run_folded(layers: nn.Sequential, x: torch.Tensor) -> tuple[torch.Tensor, _Affine | None]:
    """`layers(x)` in eval mode with every BatchNorm folded into the Linear after it.

    The same function as the modules' own forward, without the BatchNorm's passes over the `(batch, width)`
    activations (forward and backward): it only rescales the next Linear's weights. Returns the output and
    the affine map of a trailing BatchNorm, which the caller folds into its heads (`_dense`).
    """
    affine = None
    for layer in (m for block in layers for m in (block if isinstance(block, _Block) else (block,))):
        if isinstance(layer, nn.BatchNorm1d):
            scale = layer.weight * torch.rsqrt(layer.running_var + layer.eps)
            affine = (scale, layer.bias - layer.running_mean * scale)
        elif isinstance(layer, nn.Linear):
            x, affine = _dense(layer, x, affine), None
        elif not isinstance(layer, nn.Dropout):  # an activation (Dropout is the identity here)
            if affine is not None:  # a BatchNorm not followed by a Linear: apply it here
                x, affine = torch.addcmul(affine[1], x, affine[0]), None
            x = layer(x)
    return x, affine


class LDMNISTPreTrainedModel(PreTrainedModel):
    """Weight initialisation as Keras does it: Glorot-uniform kernels, zero biases, BatchNorm at 1/0."""

    base_model_prefix = "ldmnist"

    def _run(
        self, layers: nn.Sequential, x: torch.Tensor, fold_batch_norm: bool = False
    ) -> tuple[torch.Tensor, _Affine | None]:
        """`layers(x)`, and the affine map of a trailing BatchNorm still to apply (see `_dense`).

        With `fold_batch_norm` and the layers in eval mode, each BatchNorm is folded into the next
        Linear: the same function with fewer passes over the activations (the joint training step's default,
        `--dropout-batchnorm eval`), equal to the modules' own forward up to float rounding. Otherwise the modules
        run as they are (bit-exact, whatever the weights' memory alignment).
        """
        if self.training or not fold_batch_norm:
            return layers(x), None
        return _run_folded(layers, x)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
            module.running_mean.zero_()
            module.running_var.fill_(1.0)


def _draw_noise(batch: int, latent_dim: int, like: torch.Tensor, generator) -> torch.Tensor:
    """Standard normal noise `(batch, latent_dim)` on `like`'s device and dtype."""
    return torch.randn(batch, latent_dim, generator=generator, device=like.device, dtype=like.dtype)


def _check_latents(latents, latent_dim: int, like: torch.Tensor) -> torch.Tensor:
    z = torch.as_tensor(latents)
    expected = f"(batch, {latent_dim})"
    _check_batch("latents", z, expected)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"`latents` has shape {tuple(z.shape)}; expected {expected}.")
    if not z.is_floating_point():
        raise ValueError(f"`latents` has dtype {z.dtype}; expected a floating-point tensor.")
    z = z.to(device=like.device, dtype=like.dtype)
    # argmax of NaN logits is class 0: a wrong answer, not an error, unless refused here
    if not torch.isfinite(z).all():
        bad = int((~torch.isfinite(z)).any(-1).sum())
        raise ValueError(
            f"`latents` holds NaN or inf values in {bad} of {len(z)} rows; expected finite values."
        )
    return z


def _check_finite_output(logits: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
    """Refuses latents so large (finite, yet near float32's limit) that the decoder's outputs overflow.

    An argmax over inf or NaN logits would answer a class anyway: a wrong answer instead of an error.
    """
    if not torch.isfinite(logits).all():
        biggest = float(latents.abs().max())
        raise ValueError(
            f"`latents` with values up to {biggest:.3g} make the decoder's outputs overflow to inf or NaN; "
            f"expected latents of the dataset's scale (roughly standard normal)."
        )
    return logits
