"""Configurations of the LD-MNIST models: the image VAE, the class VAE and the middle layers.

Kept free of torch so that reading a config (and `ldmnist --help`) stays light.
"""

from __future__ import annotations

from transformers import PretrainedConfig

SAMPLINGS = ("reference", "standard")


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, allowed))}, got {value!r}.")


def _check_positive(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")


def _check_rate(name: str, value) -> None:
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}.")


def _check_sizes(name: str, value) -> list[int]:
    sizes = list(value)
    for s in sizes:
        _check_positive(f"{name}[i]", s)
    return sizes


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
        leaky_relu_slope (`float`, *optional*, defaults to 0.3): negative slope (Keras' default).
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
        _check_positive("latent_dim", latent_dim)
        _check_positive("image_size", image_size)
        _check_rate("dropout", dropout)
        _check_choice("sampling", sampling, SAMPLINGS)
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.encoder_hidden_sizes = _check_sizes("encoder_hidden_sizes", encoder_hidden_sizes)
        self.decoder_hidden_sizes = _check_sizes("decoder_hidden_sizes", decoder_hidden_sizes)
        self.dropout = float(dropout)
        self.leaky_relu_slope = float(leaky_relu_slope)
        self.batch_norm_eps = float(batch_norm_eps)
        self.batch_norm_momentum = float(batch_norm_momentum)
        self.kl_weight = float(kl_weight)
        self.sampling = sampling
        super().__init__(**kwargs)


class ClassVAEConfig(PretrainedConfig):
    r"""Configuration of [`ClassVAE`], the linear VAE that maps a digit class to a latent vector.

    Args:
        latent_dim (`int`, *optional*, defaults to 32): size of the latent vector.
        num_classes (`int`, *optional*, defaults to 10): number of classes.
        kl_weight (`float`, *optional*, defaults to 0.1): weight of the KL term in the loss.
        sampling (`str`, *optional*, defaults to `"reference"`): see [`ImageVAEConfig`].

    Example:

    >>> from ldmnist_hf import ClassVAEConfig
    >>> ClassVAEConfig(latent_dim=16).num_classes
    10
    """

    model_type = "ldmnist-class-vae"

    def __init__(
        self,
        latent_dim: int = 32,
        num_classes: int = 10,
        kl_weight: float = 0.1,
        sampling: str = "reference",
        **kwargs,
    ):
        _check_positive("latent_dim", latent_dim)
        _check_positive("num_classes", num_classes)
        _check_choice("sampling", sampling, SAMPLINGS)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.kl_weight = float(kl_weight)
        self.sampling = sampling
        super().__init__(**kwargs)


class MiddleLayersConfig(PretrainedConfig):
    r"""Configuration of [`MiddleLayers`], an MLP from image latents to class latents.

    The reference trained it jointly with the VAEs (dropout 0.9, classification loss); the benchmark's
    "MLP" baseline is the same shape with dropout 0.1, trained on MSE.

    Args:
        latent_dim (`int`, *optional*, defaults to 32): size of the input and output vectors.
        hidden_sizes (`list[int]`, *optional*, defaults to `[latent_dim, latent_dim]`):
            widths of the Dense -> LeakyReLU -> BatchNorm -> Dropout blocks before the output Dense.
        dropout (`float`, *optional*, defaults to 0.9): dropout rate.
        leaky_relu_slope (`float`, *optional*, defaults to 0.3): negative slope (Keras' default).
        batch_norm_eps (`float`, *optional*, defaults to 1e-3): BatchNorm epsilon.
        batch_norm_momentum (`float`, *optional*, defaults to 0.01): running-statistics update rate.

    Example:

    >>> from ldmnist_hf import MiddleLayersConfig
    >>> MiddleLayersConfig(latent_dim=16).hidden_sizes
    [16, 16]
    """

    model_type = "ldmnist-middle-layers"

    def __init__(
        self,
        latent_dim: int = 32,
        hidden_sizes: list[int] | tuple[int, ...] | None = None,
        dropout: float = 0.9,
        leaky_relu_slope: float = 0.3,
        batch_norm_eps: float = 1e-3,
        batch_norm_momentum: float = 0.01,
        **kwargs,
    ):
        _check_positive("latent_dim", latent_dim)
        _check_rate("dropout", dropout)
        self.latent_dim = latent_dim
        self.hidden_sizes = _check_sizes(
            "hidden_sizes", hidden_sizes if hidden_sizes is not None else (latent_dim, latent_dim)
        )
        self.dropout = float(dropout)
        self.leaky_relu_slope = float(leaky_relu_slope)
        self.batch_norm_eps = float(batch_norm_eps)
        self.batch_norm_momentum = float(batch_norm_momentum)
        super().__init__(**kwargs)
