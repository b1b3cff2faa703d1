"""Configuration of the LD-MNIST image VAE.

Saved beside the exported weights with `configuration_utils.py` (transformers' custom-code mechanism), so it
imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_utils import (
    SAMPLINGS,
    check_batch_norm,
    check_choice,
    check_number,
    check_positive,
    check_rate,
    check_sizes,
)


class ImageVAEConfig(PretrainedConfig):
    r"""Configuration of [`ImageVAE`], the MLP VAE that maps a 28x28 MNIST digit to a latent vector.

    Args:
        latent_dim (`int`, *optional*, defaults to 32): size of the latent vector.
        image_size (`int`, *optional*, defaults to 28): height and width of the square input image.
        encoder_hidden_sizes (`list[int]`, *optional*, defaults to `[128, 64]`):
            widths of the encoder's Dense -> ReLU -> BatchNorm -> Dropout blocks.
        decoder_hidden_sizes (`list[int]`, *optional*, defaults to `[64, 128]`):
            widths of the decoder's Dropout -> Dense -> LeakyReLU -> BatchNorm blocks.
        dropout (`float`, *optional*, defaults to 0.9): dropout rate of every Dropout layer (the
            reference's value; the reference training never activated it, see the model card).
        leaky_relu_slope (`float`, *optional*, defaults to 0.3): negative slope in [0, 1) (Keras' default).
        batch_norm_eps (`float`, *optional*, defaults to 1e-3): BatchNorm epsilon (Keras' default).
        batch_norm_momentum (`float`, *optional*, defaults to 0.01): running-statistics update rate
            (Keras' momentum 0.99 in PyTorch's convention).
        kl_weight (`float`, *optional*, defaults to 0.1): weight of the KL term in the loss.
        sampling (`str`, *optional*, defaults to `"reference"`): `"reference"` samples
            `z = mean + exp(log_var) * eps` as the 2020 code did (the published data depends on it);
            `"standard"` samples `z = mean + exp(log_var / 2) * eps`.

    Example:

    >>> from ldmnist_hf import ImageVAEConfig
    >>> ImageVAEConfig(latent_dim=8).latent_dim
    8
    >>> ImageVAEConfig(sampling="gaussian")
    Traceback (most recent call last):
    ...
    ValueError: `sampling` must be one of 'reference', 'standard', got 'gaussian'.
    """

    model_type = "ldmnist-image-vae"

    def __init__(
        self,
        latent_dim: int = 32,
        image_size: int = 28,
        encoder_hidden_sizes: list[int] | tuple[int, ...] = (128, 64),
        decoder_hidden_sizes: list[int] | tuple[int, ...] = (64, 128),
        dropout: float = 0.9,
        leaky_relu_slope: float = 0.3,
        batch_norm_eps: float = 1e-3,
        batch_norm_momentum: float = 0.01,
        kl_weight: float = 0.1,
        sampling: str = "reference",
        **kwargs,
    ):
        check_positive("latent_dim", latent_dim)
        check_positive("image_size", image_size, most=1024)
        check_rate("dropout", dropout)
        check_rate("leaky_relu_slope", leaky_relu_slope)
        check_choice("sampling", sampling, SAMPLINGS)
        check_batch_norm(batch_norm_eps, batch_norm_momentum)
        check_number("kl_weight", kl_weight, 0.0, 1e6)
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.encoder_hidden_sizes = check_sizes("encoder_hidden_sizes", encoder_hidden_sizes)
        self.decoder_hidden_sizes = check_sizes("decoder_hidden_sizes", decoder_hidden_sizes)
        self.dropout = float(dropout)
        self.leaky_relu_slope = float(leaky_relu_slope)
        self.batch_norm_eps = float(batch_norm_eps)
        self.batch_norm_momentum = float(batch_norm_momentum)
        self.kl_weight = float(kl_weight)
        self.sampling = sampling
        super().__init__(**kwargs)
