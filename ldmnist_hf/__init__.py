"""ldmnist-hf: the Low-dimensional MNIST dataset (LD-MNIST) on the Hugging Face stack.

Sub-packages, one job each: `models` (the code saved beside the weights on the Hub), `pretrained` (the
shipped weights and strict loading), `data` (MNIST sources, building, reading built folders), `training`,
`analysis` (benchmark, statistics, figures, fidelity), `hub` (cards, export, push, Spaces, leaderboard);
`registry` names every model and repository, `cli` is the `ldmnist` command.

Names are imported lazily, so `import ldmnist_hf` and `ldmnist --help` stay fast; torch and transformers
load on first use of a model. Importing the package registers the three models with `AutoConfig`/`AutoModel`
as soon as transformers' Auto classes are imported (`registry.install`), so `AutoModel.from_pretrained(folder)`
returns the package's classes without `trust_remote_code`.
"""

from __future__ import annotations

import importlib
import logging

from . import registry
from ._version import __version__ as __version__

_LAZY = {
    "ImageVAEConfig": "models.configuration_image_vae",
    "ClassVAEConfig": "models.configuration_class_vae",
    "MiddleLayersConfig": "models.configuration_middle_layers",
    "ImageVAE": "models.modeling_image_vae",
    "ClassVAE": "models.modeling_class_vae",
    "MiddleLayers": "models.modeling_middle_layers",
    "DiagonalGaussian": "models.distributions",
    "load_mnist": "data.mnist",
    "MNIST": "data.mnist",
    "pretrained_path": "pretrained.loading",
    "load_pretrained": "pretrained.loading",
    "load_metric": "pretrained.loading",
    "METRIC_PATH": "pretrained.loading",
    "train": "training.trainer",
    "LDMNISTTrainingArguments": "training.arguments",
    "build_dataset": "build.dataset",
    "load_latents": "data.read",
    "verify_dataset": "data.read",
    "submit": "hub.submit",
    "leaderboard": "hub.leaderboard",
    "LDMNISTError": "errors",
}

PRETRAINED = registry.PRETRAINED
__all__ = [*_LAZY, "PRETRAINED", "register"]

# A library logs and leaves the handlers to the application (the `ldmnist` command sets one up).
logging.getLogger(__name__).addHandler(logging.NullHandler())


def register() -> None:
    """Registers the models with `AutoConfig`/`AutoModel` now (importing the package arranges it anyway)."""
    registry.register_models()


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


registry.install()


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
