"""Configuration of the LD-MNIST image VAE.

Saved beside the exported weights with `configuration_utils.py` (transformers' custom-code mechanism), so it
imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_utils import (
    MAX_CHANNELS,
    SAMPLINGS,
    check_batch_norm,
    check_choice,
    check_image_size,
    check_number,
    check_positive,
    check_rate,
    check_sizes,
)


class ImageVAEConfig(PretrainedConfig):
    r"""Configuration of [`ImageVAE`], the MLP VAE that maps an image (a 28x28 MNIST digit) to a latent vector.

    Args:
        latent_dim (`int`, *optional*, defaults to 32): size of the latent vector.
        image_size (`int` or `list[int]`, *optional*, defaults to 28): the side of a square image, or its
            `[height, width]` (as in transformers' vision configurations); each from 1 to 1024.
        num_channels (`int`, *optional*, defaults to 1): channels of the image, from 1 to 4 (1: grey, 3: RGB).
            Left out of `to_dict` (so of `config.json`) when 1: a grey model's configuration reads as it did
            before colour models existed, and a `config.json` without it is a grey model's.
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
    >>> rgb = ImageVAEConfig(image_size=[8, 6], num_channels=3)
    >>> rgb.image_hw, rgb.image_shape, rgb.flat_size, ImageVAEConfig().flat_size
    ((8, 6), (3, 8, 6), 144, 784)
    >>> ImageVAEConfig(sampling="gaussian")
    Traceback (most recent call last):
    ...
    ValueError: `sampling` must be one of 'reference', 'standard', got 'gaussian'.
    """

    model_type = "ldmnist-image-vae"

    def __init__(
        self,
        latent_dim: int = 32,
        image_size: int | list[int] | tuple[int, int] = 28,
        num_channels: int = 1,
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
        height, width = check_image_size(image_size)
        check_positive("num_channels", num_channels, most=MAX_CHANNELS)
        check_rate("dropout", dropout)
        check_rate("leaky_relu_slope", leaky_relu_slope)
        check_choice("sampling", sampling, SAMPLINGS)
        check_batch_norm(batch_norm_eps, batch_norm_momentum)
        check_number("kl_weight", kl_weight, 0.0, 1e6)
        self.latent_dim = latent_dim
        # an int stays an int (the shipped configs' `28`); a pair is stored as a list, as JSON gives it back
        self.image_size = image_size if isinstance(image_size, int) else [height, width]
        self.num_channels = num_channels
        self.encoder_hidden_sizes = check_sizes("encoder_hidden_sizes", encoder_hidden_sizes)
        self.decoder_hidden_sizes = check_sizes("decoder_hidden_sizes", decoder_hidden_sizes)
        self.dropout = float(dropout)
        self.leaky_relu_slope = float(leaky_relu_slope)
        self.batch_norm_eps = float(batch_norm_eps)
        self.batch_norm_momentum = float(batch_norm_momentum)
        self.kl_weight = float(kl_weight)
        self.sampling = sampling
        super().__init__(**kwargs)

    @property
    def image_hw(self) -> tuple[int, int]:
        """The image's `(height, width)`, from `image_size` (an `int` or a pair)."""
        return check_image_size(self.image_size)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The image's `(channels, height, width)`: `(1, 28, 28)` for MNIST."""
        return (self.num_channels, *self.image_hw)

    @property
    def flat_size(self) -> int:
        """The length of a flattened image, `num_channels * height * width` (784 for MNIST)."""
        channels, height, width = self.image_shape
        return channels * height * width

    def to_dict(self) -> dict:
        """The configuration as a dictionary (what `save_pretrained` writes), without `num_channels` when 1.

        Grey models then save the `config.json` they saved before `num_channels` existed, and the build
        record of a dataset (which holds this dictionary) stays byte-identical.
        """
        output = super().to_dict()
        if output.get("num_channels") == 1:
            del output["num_channels"]
        return output
