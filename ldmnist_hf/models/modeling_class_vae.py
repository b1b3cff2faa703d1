"""The LD-MNIST class VAE: a digit class <-> a latent vector, and the decoder that scores predictions.

Saved beside the exported weights with its configuration, `modeling_utils.py` and `distributions.py` (transformers'
custom-code mechanism), so it imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers.utils import ModelOutput

from .configuration_class_vae import ClassVAEConfig
from .distributions import DiagonalGaussian, VAEEncoderOutput, VAEOutput
from .modeling_utils import (
    LDMNISTPreTrainedModel,
    _check_batch,
    _check_finite_output,
    _check_latents,
    _draw_noise,
    keras_binary_crossentropy,
)


@dataclass
class ClassVAEDecoderOutput(ModelOutput):
    """
    Args:
        probs (`torch.FloatTensor` of shape `(batch, num_classes)`): class probabilities (softmax).
        logits (`torch.FloatTensor` of shape `(batch, num_classes)`): the same before the softmax.
    """

    probs: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None


class ClassVAE(LDMNISTPreTrainedModel):
    r"""The class VAE: a linear map from a one-hot class to a posterior, and from a latent to class logits.

    Example:

    >>> import torch
    >>> from ldmnist_hf import ClassVAE, ClassVAEConfig
    >>> vae = ClassVAE(ClassVAEConfig(latent_dim=8)).eval()
    >>> posterior = vae.encode(torch.tensor([5, 0, 4])).latent_dist
    >>> vae.decode(posterior.mode()).probs.shape
    torch.Size([3, 10])
    >>> vae.encode(torch.tensor([10]))
    Traceback (most recent call last):
    ...
    ValueError: `labels` must be class indices, integers in 0..9: row 0 holds 10, which is outside 0..9.
    """

    config_class = ClassVAEConfig
    main_input_name = "labels"

    def __init__(self, config: ClassVAEConfig):
        super().__init__(config)
        self.mean_head = nn.Linear(config.num_classes, config.latent_dim)
        self.log_var_head = nn.Linear(config.num_classes, config.latent_dim)
        self.decoder = nn.Linear(config.latent_dim, config.num_classes)
        self.post_init()

    def one_hot(self, labels) -> torch.Tensor:
        """Integer labels `(batch,)` in `0..num_classes-1` -> float one-hot `(batch, num_classes)`."""
        y = torch.as_tensor(labels)
        k = self.config.num_classes
        _check_batch("labels", y, "(batch,)")
        if y.ndim != 1:
            raise ValueError(f"`labels` has shape {tuple(y.shape)}; expected (batch,) of class indices.")
        for problem, bad in (
            ("is not an integer", y != torch.round(y) if y.is_floating_point() else None),
            (f"is outside 0..{k - 1}", (y < 0) | (y >= k) if not y.is_complex() else None),
        ):
            rows = torch.nonzero(bad).flatten() if bad is not None else []
            if len(rows):
                raise ValueError(
                    f"`labels` must be class indices, integers in 0..{k - 1}: row {int(rows[0])} holds "
                    f"{y[rows[0]].item():g}, which {problem}."
                )
        if y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
            raise ValueError(
                f"`labels` has dtype {y.dtype}; expected an integer tensor of class indices 0..{k - 1} "
                f"(e.g. `labels.long()`)."
            )
        w = self.mean_head.weight
        return F.one_hot(y.to(device=w.device, dtype=torch.long), k).to(w.dtype)

    def posterior(self, one_hot: torch.Tensor) -> DiagonalGaussian:
        """Tensor-level encoder: float one-hot `(batch, num_classes)` -> posterior."""
        return DiagonalGaussian(self.mean_head(one_hot), self.log_var_head(one_hot), self.config.sampling)

    def class_logits(self, latents: torch.Tensor, detach_decoder: bool = False) -> torch.Tensor:
        """Tensor-level decoder: latents `(batch, latent_dim)` -> class logits `(batch, num_classes)`.

        `detach_decoder=True` lets gradients reach the latents but not the decoder's weights (the middle
        layers' classification loss when it must not train the class VAE).
        """
        if detach_decoder:
            return F.linear(latents, self.decoder.weight.detach(), self.decoder.bias.detach())
        return self.decoder(latents)

    @staticmethod
    def reconstruction_loss(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        """Keras' `binary_crossentropy` between the one-hot target and the softmax (the reference's class
        loss, not categorical cross-entropy), averaged over the batch. Shape `()`."""
        return keras_binary_crossentropy(logits.softmax(-1), one_hot).mean()

    def forward_loss(self, one_hot: torch.Tensor, noise: torch.Tensor | None = None) -> VAEOutput:
        """Tensor-level loss, shared by `forward` and the joint training step.

        Args:
            one_hot (`torch.FloatTensor` of shape `(batch, num_classes)`): the targets (see `one_hot`).
            noise (`torch.FloatTensor` of shape `(batch, latent_dim)`, *optional*): standard normal noise
                for the posterior sample; `None` decodes the posterior mean.

        Returns:
            `VAEOutput` with `loss`, `reconstruction_loss`, `kl_loss`, `latents`, `logits` and
            `latent_dist`; `reconstruction` is left `None`.
        """
        posterior = self.posterior(one_hot)
        z = posterior.mode() if noise is None else posterior.sample(noise=noise)
        logits = self.class_logits(z)
        rec = self.reconstruction_loss(logits, one_hot)
        kl = posterior.kl().mean()
        return VAEOutput(
            loss=rec + self.config.kl_weight * kl,
            reconstruction_loss=rec,
            kl_loss=kl,
            latents=z,
            logits=logits,
            latent_dist=posterior,
        )

    def encode(self, labels) -> VAEEncoderOutput:
        """Encodes class indices `(batch,)` into the posterior over latents."""
        return VAEEncoderOutput(self.posterior(self.one_hot(labels)))

    def decode(self, latents: torch.Tensor) -> ClassVAEDecoderOutput:
        """Decodes latents `(batch, latent_dim)` into class logits and probabilities `(batch, num_classes)`."""
        z = _check_latents(latents, self.config.latent_dim, self.decoder.weight)
        logits = _check_finite_output(self.class_logits(z), z)
        return ClassVAEDecoderOutput(probs=logits.softmax(-1), logits=logits)

    @torch.no_grad()
    def predict(self, latents: torch.Tensor) -> torch.Tensor:
        """The most likely class of each latent, `(batch,)` int64."""
        return self.decode(latents).logits.argmax(-1)

    def forward(
        self, labels, sample_posterior: bool = False, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encodes, decodes (the posterior mean unless `sample_posterior`) and computes the VAE losses.

        The reconstruction loss is Keras' `binary_crossentropy` between the one-hot label and the softmax,
        as in the reference (not categorical cross-entropy).
        """
        target = self.one_hot(labels)
        noise = (
            _draw_noise(len(target), self.config.latent_dim, target, generator) if sample_posterior else None
        )
        out = self.forward_loss(target, noise)
        out.reconstruction = out.logits.softmax(-1)
        return out
