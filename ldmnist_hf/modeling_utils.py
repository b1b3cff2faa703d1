"""Pieces shared by the LD-MNIST models: the Keras-style base class, the Dense block, input checks, the loss.

Saved beside each exported model's code (transformers copies a model's module and its relative imports), so
it imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

# Keras clips probabilities to [1e-7, 1 - 1e-7] inside binary_crossentropy.
_KERAS_EPSILON = 1e-7


def keras_binary_crossentropy(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Keras' `binary_crossentropy` on probabilities: clipped, averaged over the last axis. Shape `(batch,)`."""
    p = probs.clamp(_KERAS_EPSILON, 1 - _KERAS_EPSILON)
    return -(target * p.log() + (1 - target) * (1 - p).log()).mean(dim=-1)


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
    return z.to(device=like.device, dtype=like.dtype)
