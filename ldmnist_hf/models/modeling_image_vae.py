"""The LD-MNIST image VAE: an image (a 28x28 digit) <-> a latent vector (the 2020 reference's MLP VAE, in PyTorch).

Saved beside the exported weights with its configuration, `modeling_utils.py` and `distributions.py` (transformers'
custom-code mechanism), so it imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.utils import ModelOutput

from .configuration_image_vae import ImageVAEConfig
from .distributions import DiagonalGaussian, VAEEncoderOutput, VAEOutput
from .modeling_utils import (
    LDMNISTPreTrainedModel,
    _Block,
    _check_batch,
    _check_finite_output,
    _check_latents,
    _dense,
    _draw_noise,
    bce_with_logits_mean,
)


@dataclass
class ImageVAEDecoderOutput(ModelOutput):
    """
    Args:
        sample (`torch.FloatTensor` of shape `(batch, height, width)`, or `(batch, channels, height, width)`
            when `config.num_channels > 1`): pixel probabilities in [0, 1] (`(batch, 28, 28)` for MNIST).
        logits (`torch.FloatTensor` of the same shape): the same before the sigmoid.
    """

    sample: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None


class ImageVAE(LDMNISTPreTrainedModel):
    r"""The image VAE: an image of `config.image_shape` (a 28x28 digit) <-> a latent vector of
    `config.latent_dim` components.

    It takes `pixel_values` as uint8 in 0..255 or float in [0, 1], of shape `(batch, channels, height, width)`
    (channels first, as transformers' vision models), flat `(batch, channels * height * width)` in that order,
    or, for grey images, `(batch, height, width)`. It decodes to `(batch, height, width)` for grey images and
    `(batch, channels, height, width)` otherwise.

    Example:

    >>> import torch
    >>> from ldmnist_hf import ImageVAE, ImageVAEConfig
    >>> vae = ImageVAE(ImageVAEConfig(latent_dim=8)).eval()
    >>> images = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    >>> posterior = vae.encode(images).latent_dist
    >>> z = posterior.sample(torch.Generator().manual_seed(0))
    >>> z.shape, vae.decode(z).sample.shape
    (torch.Size([4, 8]), torch.Size([4, 28, 28]))
    >>> vae(images).loss.ndim
    0
    >>> rgb = ImageVAE(ImageVAEConfig(latent_dim=8, image_size=[8, 6], num_channels=3)).eval()
    >>> rgb.decode(rgb.encode(torch.rand(2, 3, 8, 6)).latent_dist.mode()).sample.shape
    torch.Size([2, 3, 8, 6])
    """

    config_class = ImageVAEConfig
    main_input_name = "pixel_values"

    def __init__(self, config: ImageVAEConfig):
        super().__init__(config)
        n_pixels = config.flat_size  # channels x height x width: 784 for MNIST
        sizes = [n_pixels, *config.encoder_hidden_sizes]
        self.encoder = nn.Sequential(*(_Block(a, b, nn.ReLU(), config) for a, b in zip(sizes, sizes[1:])))
        self.mean_head = nn.Linear(sizes[-1], config.latent_dim)
        self.log_var_head = nn.Linear(sizes[-1], config.latent_dim)
        sizes = [config.latent_dim, *config.decoder_hidden_sizes]
        self.decoder = nn.Sequential(
            *(
                _Block(a, b, nn.LeakyReLU(config.leaky_relu_slope, inplace=True), config, dropout_first=True)
                for a, b in zip(sizes, sizes[1:])
            ),
            nn.Dropout(config.dropout),
            nn.Linear(sizes[-1], n_pixels),
        )
        self.post_init()

    def prepare_pixels(self, pixel_values) -> torch.Tensor:
        """Checked pixels as the encoder reads them: float `(batch, channels * height * width)` in [0, 1].

        Args:
            pixel_values: uint8 in 0..255 or float in [0, 1], of shape `(batch, channels, height, width)`,
                `(batch, channels * height * width)` (flattened in that order) or, when `num_channels` is 1,
                `(batch, height, width)`: for MNIST `(batch, 28, 28)`, `(batch, 1, 28, 28)` or `(batch, 784)`.
        """
        x = torch.as_tensor(pixel_values)
        expected = self._expected_shapes()
        _check_batch("pixel_values", x, expected)
        channels, height, width = shape = self.config.image_shape
        allowed = [shape, (self.config.flat_size,), *([(height, width)] if channels == 1 else [])]
        if tuple(x.shape[1:]) not in allowed:
            hint = ""
            if channels > 1 and tuple(x.shape[1:]) == (height, width, channels):
                hint = " (channels last: `pixel_values.permute(0, 3, 1, 2)` puts the channels first)"
            raise ValueError(f"`pixel_values` has shape {tuple(x.shape)}; expected {expected}{hint}.")
        if x.dtype == torch.uint8:
            x = x.to(torch.float32) / 255.0
        elif x.is_floating_point():
            if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
                raise ValueError("float `pixel_values` must be finite and in [0, 1]; pass uint8 for 0..255.")
        else:
            raise ValueError(
                f"`pixel_values` has dtype {x.dtype}; expected uint8 (0..255) or float in [0, 1]."
            )
        param = self.mean_head.weight
        return x.reshape(x.shape[0], self.config.flat_size).to(device=param.device, dtype=param.dtype)

    def _expected_shapes(self) -> str:
        """The accepted shapes of `pixel_values`, in words (MNIST: `(batch, 28, 28), (batch, 1, 28, 28) or
        (batch, 784)`)."""
        channels, height, width = self.config.image_shape
        full = f"(batch, {channels}, {height}, {width})"
        flat = f"(batch, {self.config.flat_size})"
        if channels == 1:
            return f"(batch, {height}, {width}), {full} or {flat}"
        return f"{full} (channels first) or {flat}"

    def _unflatten(self, flat: torch.Tensor) -> torch.Tensor:
        """Decoder outputs `(batch, channels * height * width)` as images: `(batch, height, width)` for grey
        ones, `(batch, channels, height, width)` otherwise."""
        channels, height, width = self.config.image_shape
        return flat.reshape(-1, height, width) if channels == 1 else flat.reshape(-1, channels, height, width)

    def posterior(self, pixels: torch.Tensor, fold_batch_norm: bool = False) -> DiagonalGaussian:
        """Tensor-level encoder: float pixels `(batch, config.flat_size)` in [0, 1], already checked -> posterior.

        `fold_batch_norm`: see `forward_loss`.
        """
        # (B, hidden), and the last BatchNorm's affine map when it is folded into the heads
        h, affine = self._run(self.encoder, pixels, fold_batch_norm)
        mean, log_var = _dense(self.mean_head, h, affine), _dense(self.log_var_head, h, affine)
        return DiagonalGaussian(mean, log_var, self.config.sampling)

    def forward_loss(
        self, pixels: torch.Tensor, noise: torch.Tensor | None = None, fold_batch_norm: bool = False
    ) -> VAEOutput:
        """Tensor-level loss, shared by `forward` and the joint training step.

        Args:
            pixels (`torch.FloatTensor` of shape `(batch, config.flat_size)`): checked pixels in [0, 1]
                (see `prepare_pixels`).
            noise (`torch.FloatTensor` of shape `(batch, latent_dim)`, *optional*): standard normal noise
                for the posterior sample; `None` decodes the posterior mean.
            fold_batch_norm (`bool`, defaults to `False`): in eval mode (`model.eval()`), fold each BatchNorm into the next
                Linear (fewer passes over the activations; equal up to float rounding). The training step
                uses it.

        Returns:
            `VAEOutput` with `loss`, `reconstruction_loss`, `kl_loss`, `latents`, `latent_dist` and the flat
            `logits` `(batch, config.flat_size)`; `reconstruction` is left `None` (no sigmoid pass in training).
        """
        posterior = self.posterior(pixels, fold_batch_norm)
        z = posterior.mode() if noise is None else posterior.sample(noise=noise)
        logits, affine = self._run(self.decoder, z, fold_batch_norm)  # (B, C*H*W)
        assert affine is None  # the decoder ends with a Linear
        # Mean binary cross-entropy over pixels, computed from logits (stable, few passes over (B, C*H*W)).
        rec = bce_with_logits_mean(logits, pixels)
        kl = posterior.kl().mean()
        return VAEOutput(
            loss=rec + self.config.kl_weight * kl,
            reconstruction_loss=rec,
            kl_loss=kl,
            latents=z,
            logits=logits,
            latent_dist=posterior,
        )

    def encode(self, pixel_values) -> VAEEncoderOutput:
        """Encodes images into the posterior over latents.

        Args:
            pixel_values: uint8 in 0..255 or float in [0, 1], `(batch, channels, height, width)`, flat
                `(batch, channels * height * width)` or, for grey images, `(batch, height, width)` (see
                `prepare_pixels`; MNIST: `(batch, 28, 28)`).
        """
        return VAEEncoderOutput(self.posterior(self.prepare_pixels(pixel_values)))

    def decode(self, latents: torch.Tensor) -> ImageVAEDecoderOutput:
        """Decodes latents `(batch, latent_dim)` into pixel probabilities `(batch, height, width)` for grey images
        (`(batch, 28, 28)` for MNIST), `(batch, channels, height, width)` otherwise."""
        latents = _check_latents(latents, self.config.latent_dim, self.mean_head.weight)
        logits = self._unflatten(_check_finite_output(self.decoder(latents), latents))
        return ImageVAEDecoderOutput(sample=torch.sigmoid(logits), logits=logits)

    def forward(
        self, pixel_values, sample_posterior: bool = False, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encodes, decodes (the posterior mean unless `sample_posterior`) and computes the VAE losses.

        `reconstruction` and `logits` have the decoder's image shape (see `decode`).
        """
        x = self.prepare_pixels(pixel_values)
        noise = _draw_noise(len(x), self.config.latent_dim, x, generator) if sample_posterior else None
        out = self.forward_loss(x, noise)
        out.logits = self._unflatten(out.logits)
        out.reconstruction = torch.sigmoid(out.logits)
        return out
