"""The old import path of the LD-MNIST models; each now lives in its own `modeling_<name>.py`.

Registration with `AutoConfig`/`AutoModel` is done by `ldmnist_hf` itself (see `ldmnist_hf.register`).
"""

from .distributions import DiagonalGaussian, VAEEncoderOutput, VAEOutput
from .modeling_class_vae import ClassVAE, ClassVAEDecoderOutput
from .modeling_image_vae import ImageVAE, ImageVAEDecoderOutput
from .modeling_middle_layers import MiddleLayers, MiddleLayersOutput
from .modeling_utils import LDMNISTPreTrainedModel, _check_latents, keras_binary_crossentropy

__all__ = [
    "ClassVAE",
    "ClassVAEDecoderOutput",
    "DiagonalGaussian",
    "ImageVAE",
    "ImageVAEDecoderOutput",
    "LDMNISTPreTrainedModel",
    "MiddleLayers",
    "MiddleLayersOutput",
    "VAEEncoderOutput",
    "VAEOutput",
    "_check_latents",
    "keras_binary_crossentropy",
]
