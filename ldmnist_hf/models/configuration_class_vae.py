"""Configuration of the LD-MNIST class VAE.

Saved beside the exported weights with `configuration_utils.py` (transformers' custom-code mechanism), so it
imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from transformers import PretrainedConfig

from .configuration_utils import SAMPLINGS, check_choice, check_number, check_positive


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
        check_positive("latent_dim", latent_dim)
        check_positive("num_classes", num_classes, most=1000)
        check_choice("sampling", sampling, SAMPLINGS)
        check_number("kl_weight", kl_weight, 0.0, 1e6)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.kl_weight = float(kl_weight)
        self.sampling = sampling
        super().__init__(**kwargs)
