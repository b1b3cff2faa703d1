"""ldmnist-hf: the Low-dimensional MNIST dataset (LD-MNIST) on the Hugging Face stack.

Names are imported lazily, so `import ldmnist_hf` and `ldmnist --help` stay fast; torch and
transformers load on first use of a model. Touching any model name (or importing
`ldmnist_hf.modeling_ldmnist`) registers the three models with `AutoConfig`/`AutoModel`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__version__ = "0.1.0"

_LAZY = {
    "ImageVAEConfig": "configuration_ldmnist",
    "ClassVAEConfig": "configuration_ldmnist",
    "MiddleLayersConfig": "configuration_ldmnist",
    "ImageVAE": "modeling_ldmnist",
    "ClassVAE": "modeling_ldmnist",
    "MiddleLayers": "modeling_ldmnist",
    "DiagonalGaussian": "distributions",
    "load_mnist": "mnist",
    "MNIST": "mnist",
    "pretrained_path": "pretrained",
    "load_pretrained": "pretrained",
    "PRETRAINED": "pretrained",
    "train": "training",
    "TrainingArguments": "training",
    "build_dataset": "builder",
    "load_latents": "builder",
    "LDMNISTError": "utils",
}

_LIGHT = {"load_mnist", "MNIST", "LDMNISTError"}  # need no torch
METRIC_PATH = str(Path(__file__).parent / "metrics" / "ldmnist")
__all__ = [*_LAZY, "METRIC_PATH", "register"]


def register() -> None:
    """Registers the models with `AutoConfig`/`AutoModel` (done on first use of any model name)."""
    importlib.import_module(".modeling_ldmnist", __name__)


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        if name not in _LIGHT:
            register()  # so that AutoModel knows the models whichever name brought them in
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
