"""Configuration of the LD-MNIST middle layers.

Saved beside the exported weights with `configuration_utils.py` (transformers' custom-code mechanism), so it
imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_utils import check_batch_norm, check_positive, check_rate, check_sizes


class MiddleLayersConfig(PretrainedConfig):
    r"""Configuration of [`MiddleLayers`], an MLP from image latents to class latents.

    The reference trained it jointly with the VAEs (dropout 0.9, classification loss); the benchmark's
    "MLP" baseline is the same shape with dropout 0.1, trained on MSE.

    Args:
        latent_dim (`int`, *optional*, defaults to 32): size of the input and output vectors.
        hidden_sizes (`list[int]`, *optional*, defaults to `[latent_dim, latent_dim]`):
            widths of the Dense -> LeakyReLU -> BatchNorm -> Dropout blocks before the output Dense.
        dropout (`float`, *optional*, defaults to 0.9): dropout rate.
        leaky_relu_slope (`float`, *optional*, defaults to 0.3): negative slope in [0, 1) (Keras' default).
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
        check_positive("latent_dim", latent_dim)
        check_rate("dropout", dropout)
        check_rate("leaky_relu_slope", leaky_relu_slope)
        check_batch_norm(batch_norm_eps, batch_norm_momentum)
        self.latent_dim = latent_dim
        self.hidden_sizes = check_sizes(
            "hidden_sizes", hidden_sizes if hidden_sizes is not None else (latent_dim, latent_dim)
        )
        self.dropout = float(dropout)
        self.leaky_relu_slope = float(leaky_relu_slope)
        self.batch_norm_eps = float(batch_norm_eps)
        self.batch_norm_momentum = float(batch_norm_momentum)
        super().__init__(**kwargs)
