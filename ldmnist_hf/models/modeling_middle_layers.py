"""The LD-MNIST middle layers: an MLP from image latents to class latents, trained alongside the VAEs.

Saved beside the exported weights with its configuration, `modeling_utils.py` (transformers'
custom-code mechanism), so it imports nothing from `ldmnist_hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.utils import ModelOutput

from .configuration_middle_layers import MiddleLayersConfig
from .modeling_utils import LDMNISTPreTrainedModel, _Block, _check_latents


@dataclass
class MiddleLayersOutput(ModelOutput):
    """
    Args:
        outputs (`torch.FloatTensor` of shape `(batch, latent_dim)`): predicted class latents.
    """

    outputs: torch.FloatTensor | None = None


class MiddleLayers(LDMNISTPreTrainedModel):
    r"""An MLP from image latents to class latents (Dense -> LeakyReLU -> BatchNorm -> Dropout blocks, then Dense).

    Example:

    >>> import torch
    >>> from ldmnist_hf import MiddleLayers, MiddleLayersConfig
    >>> mlp = MiddleLayers(MiddleLayersConfig(latent_dim=8)).eval()
    >>> mlp(torch.zeros(2, 8)).outputs.shape
    torch.Size([2, 8])
    """

    config_class = MiddleLayersConfig
    main_input_name = "inputs"

    def __init__(self, config: MiddleLayersConfig):
        super().__init__(config)
        sizes = [config.latent_dim, *config.hidden_sizes]
        self.layers = nn.Sequential(
            *(
                _Block(a, b, nn.LeakyReLU(config.leaky_relu_slope, inplace=True), config)
                for a, b in zip(sizes, sizes[1:])
            ),
            nn.Linear(sizes[-1], config.latent_dim),
        )
        self.post_init()

    def transform(self, latents: torch.Tensor, fold_batch_norm: bool = False) -> torch.Tensor:
        """Tensor-level forward: image latents `(batch, latent_dim)`, already checked -> class latents.

        `fold_batch_norm`: in eval mode (`model.eval()`), fold each BatchNorm into the next Linear (fewer passes over the
        activations; equal up to float rounding). The training step uses it.
        """
        out, affine = self._run(self.layers, latents, fold_batch_norm)
        assert affine is None  # the layers end with a Linear
        return out

    def forward(self, inputs: torch.Tensor) -> MiddleLayersOutput:
        """Maps `(batch, latent_dim)` image latents to `(batch, latent_dim)` class latents."""
        x = _check_latents(inputs, self.config.latent_dim, self.layers[-1].weight)
        return MiddleLayersOutput(outputs=self.transform(x))
