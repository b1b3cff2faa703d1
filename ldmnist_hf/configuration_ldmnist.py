"""The old import path of the LD-MNIST configurations; each now lives in its own `configuration_<name>.py`."""

from .configuration_class_vae import ClassVAEConfig
from .configuration_image_vae import ImageVAEConfig
from .configuration_middle_layers import MiddleLayersConfig
from .configuration_utils import SAMPLINGS

__all__ = ["SAMPLINGS", "ClassVAEConfig", "ImageVAEConfig", "MiddleLayersConfig"]
