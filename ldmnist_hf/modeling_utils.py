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
    in-place passes (`d/dl = sigmoid(l) - t`).
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(logits, target)
        flat_l, flat_t = logits.reshape(-1), target.reshape(-1)
        return (F.softplus(flat_l).sum() - torch.dot(flat_l, flat_t)) / flat_l.numel()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        logits, target = ctx.saved_tensors
        grad_logits = torch.sigmoid(logits).sub_(target).mul_(grad / logits.numel())
        return grad_logits, None


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
    """Dense -> activation -> BatchNorm -> Dropout, or Dropout -> Dense -> activation -> BatchNorm."""

    def __init__(self, n_in, n_out, activation, config, dropout_first=False):
        layers = [
            nn.Linear(n_in, n_out),
            activation,
            nn.BatchNorm1d(n_out, eps=config.batch_norm_eps, momentum=config.batch_norm_momentum),
        ]
        dropout = nn.Dropout(config.dropout)
        super().__init__(*([dropout, *layers] if dropout_first else [*layers, dropout]))


class LDMNISTPreTrainedModel(PreTrainedModel):
    """Weight initialisation as Keras does it: Glorot-uniform kernels, zero biases, BatchNorm at 1/0."""

    base_model_prefix = "ldmnist"

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
