"""The diagonal Gaussian posterior shared by both VAEs, and the outputs that carry it (as diffusers' `vae.py`).

Saved beside the exported VAEs' code, so it imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.utils import ModelOutput


class DiagonalGaussian:
    """Posterior `q(z | x)` over 1-D latent vectors.

    Args:
        mean (`torch.Tensor` of shape `(batch, latent_dim)`): posterior mean.
        log_var (`torch.Tensor` of shape `(batch, latent_dim)`): the encoder's "log-variance" head.
        sampling (`str`, defaults to `"reference"`): how `log_var` turns into a standard deviation.
            `"reference"`: `std = exp(log_var)`, what the 2020 code sampled with, while its KL term
            treats `log_var` as a log-variance; `"standard"`: `std = exp(log_var / 2)`.

    Example:

    >>> import torch
    >>> q = DiagonalGaussian(torch.zeros(2, 3), torch.zeros(2, 3))
    >>> q.sample(torch.Generator().manual_seed(0)).shape
    torch.Size([2, 3])
    >>> q.kl().tolist()
    [0.0, 0.0]
    """

    def __init__(self, mean: torch.Tensor, log_var: torch.Tensor, sampling: str = "reference"):
        self.mean = mean
        self.log_var = log_var
        self.sampling = sampling
        self.std = torch.exp(log_var) if sampling == "reference" else torch.exp(0.5 * log_var)

    def sample(
        self, generator: torch.Generator | None = None, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`mean + std * noise`; the noise is drawn from `generator` unless given (standard normal, same shape)."""
        if noise is None:
            noise = torch.randn(
                self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype
            )
        return self.mean + self.std * noise

    def mode(self) -> torch.Tensor:
        return self.mean

    def kl(self) -> torch.Tensor:
        """Per-example `-mean(1 + log_var - mean^2 - exp(log_var))` over components (the reference's
        term: twice the KL divergence to N(0, I) per component). Shape `(batch,)`."""
        return (self.mean.pow(2) + self.log_var.exp() - 1 - self.log_var).mean(dim=1)


@dataclass
class VAEEncoderOutput(ModelOutput):
    """
    Args:
        latent_dist (`DiagonalGaussian`): the posterior; `.mean`, `.std`, `.sample(generator)`, `.mode()`.
    """

    latent_dist: DiagonalGaussian | None = None


@dataclass
class VAEOutput(ModelOutput):
    """
    Args:
        loss (`torch.FloatTensor` of shape `()`): `reconstruction_loss + kl_weight * kl_loss`.
        reconstruction_loss (`torch.FloatTensor` of shape `()`): mean binary cross-entropy.
        kl_loss (`torch.FloatTensor` of shape `()`): the reference's KL term, averaged over the batch.
        latents (`torch.FloatTensor` of shape `(batch, latent_dim)`): the decoded latents.
        reconstruction (`torch.FloatTensor`): images `(batch, 28, 28)` or class probabilities `(batch, 10)`.
        logits (`torch.FloatTensor`): the reconstruction before its sigmoid or softmax.
        latent_dist (`DiagonalGaussian`): the posterior.
    """

    loss: torch.FloatTensor | None = None
    reconstruction_loss: torch.FloatTensor | None = None
    kl_loss: torch.FloatTensor | None = None
    latents: torch.FloatTensor | None = None
    reconstruction: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    latent_dist: DiagonalGaussian | None = None
