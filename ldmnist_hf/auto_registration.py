"""Registers the LD-MNIST models with transformers' `AutoConfig`/`AutoModel` without importing transformers.

`import ldmnist_hf` must stay light (`ldmnist --help` answers at once), yet after it
`AutoModel.from_pretrained(folder)` must return the package's classes without `trust_remote_code`. So
`install()` registers at once when transformers' auto modules are already imported, and otherwise puts a
finder on `sys.meta_path` that registers right after they finish importing: the configurations after
`configuration_auto`, the models after `modeling_auto`. The model modules themselves register nothing
(they are also the code saved beside the weights on the Hub).
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import warnings

# (configuration module, configuration class, modeling module, model class), all in `ldmnist_hf`.
MODELS = (
    ("configuration_image_vae", "ImageVAEConfig", "modeling_image_vae", "ImageVAE"),
    ("configuration_class_vae", "ClassVAEConfig", "modeling_class_vae", "ClassVAE"),
    ("configuration_middle_layers", "MiddleLayersConfig", "modeling_middle_layers", "MiddleLayers"),
)
_CONFIG_AUTO = "transformers.models.auto.configuration_auto"
_MODEL_AUTO = "transformers.models.auto.modeling_auto"


def _class(module: str, name: str):
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def register_configs() -> None:
    """`AutoConfig.register` for the three configurations (imports transformers)."""
    from transformers import AutoConfig

    for config_module, config_name, _, _ in MODELS:
        config = _class(config_module, config_name)
        AutoConfig.register(config.model_type, config, exist_ok=True)


def register_models() -> None:
    """`AutoConfig.register` and `AutoModel.register` for the three models (imports torch and transformers)."""
    from transformers import AutoModel

    register_configs()
    for config_module, config_name, model_module, model_name in MODELS:
        AutoModel.register(
            _class(config_module, config_name), _class(model_module, model_name), exist_ok=True
        )


_PENDING = {_CONFIG_AUTO: register_configs, _MODEL_AUTO: register_models}


class _RegisterAfter(importlib.abc.Loader):
    """Wraps the loader of a transformers auto module: runs it, then the registration it waits for."""

    def __init__(self, loader, fullname: str):
        self._loader, self._fullname = loader, fullname

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        callback = _PENDING.pop(self._fullname, None)
        if not _PENDING and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        if callback is not None:
            try:
                callback()
            except ImportError as e:  # never break the user's import of transformers over this
                warnings.warn(
                    f"ldmnist_hf could not register its models with transformers' Auto classes ({e}); "
                    f"call ldmnist_hf.register() after importing transformers.",
                    stacklevel=2,
                )

    def __getattr__(self, name):  # get_source, is_package, ...: the wrapped loader's
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it asks the other finders and wraps the loader of the two auto modules."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _PENDING:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _RegisterAfter(spec.loader, fullname)
                return spec
        return None


_FINDER = _Finder()


def install() -> None:
    """Registers now what transformers has already imported, and the rest as soon as it is imported."""
    if _MODEL_AUTO in sys.modules:
        _PENDING.clear()
        register_models()
        return
    if _CONFIG_AUTO in sys.modules and _PENDING.pop(_CONFIG_AUTO, None):
        register_configs()
    if _PENDING and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
