"""ldmnist-hf: the Low-dimensional MNIST dataset (LD-MNIST) on the Hugging Face stack.

Names are imported lazily, so `import ldmnist_hf` and `ldmnist --help` stay fast; torch and
transformers load on first use of a model. Importing the package registers the three models with
`AutoConfig`/`AutoModel` as soon as transformers' Auto classes are imported (see `auto_registration`), so
`AutoModel.from_pretrained(folder)` returns the package's classes without `trust_remote_code`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from . import auto_registration

__version__ = "0.1.0"

_LAZY = {
    "ImageVAEConfig": "configuration_image_vae",
    "ClassVAEConfig": "configuration_class_vae",
    "MiddleLayersConfig": "configuration_middle_layers",
    "ImageVAE": "modeling_image_vae",
    "ClassVAE": "modeling_class_vae",
    "MiddleLayers": "modeling_middle_layers",
    "DiagonalGaussian": "distributions",
    "load_mnist": "mnist",
    "MNIST": "mnist",
    "pretrained_path": "loading",
    "load_pretrained": "loading",
    "PRETRAINED": "loading",
    "train": "trainer",
    "LDMNISTTrainingArguments": "training_args",
    "build_dataset": "builder",
    "load_latents": "readers",
    "LDMNISTError": "utils",
}

METRIC_PATH = str(Path(__file__).parent / "metrics" / "ldmnist")
__all__ = [*_LAZY, "METRIC_PATH", "load_metric", "register"]


def register() -> None:
    """Registers the models with `AutoConfig`/`AutoModel` now (importing the package arranges it anyway)."""
    auto_registration.register_models()


def load_metric(class_vae: str = "class-vae-32", **kwargs):
    """The `ldmnist` evaluate metric (`METRIC_PATH`), its class decoder taken from a shipped class VAE.

    Args:
        class_vae (`str`, defaults to `"class-vae-32"`): a shipped model name, a folder or a Hub model id.
        kwargs: passed to `evaluate.load`.

    >>> import ldmnist_hf
    >>> metric = ldmnist_hf.load_metric()
    >>> metric.compute(predictions=[[0.0] * 32], references=[[1.0] * 32])
    {'mse': 1.0}
    """
    import evaluate

    from .loading import PRETRAINED, pretrained_path

    source = str(pretrained_path(class_vae)) if class_vae in PRETRAINED else str(class_vae)
    return evaluate.load(METRIC_PATH, class_vae=source, **kwargs)


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


auto_registration.install()


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
