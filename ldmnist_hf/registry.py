"""The package's three models in one table, every name they go by, and their registration with the Auto classes.

A model kind (`image_vae`, `class_vae`, `middle_layers`) has one entry in `KINDS`: its configuration and model
classes (named, imported on first use, so this module stays free of torch and transformers), the folder name
of a shipped or released model (`image-vae-32`, `image-vae-32-reference`) and the Hub repository it is
published as (`NS/ldmnist-image-vae-32`, `NS/ldmnist-image-vae-32-reference`; in a sibling `family`, the LD
version of another source dataset: `NS/ld-fashion-mnist-image-vae-32`). Every table, command-line choice,
export and benchmark reads its names from here.

Registration: `import ldmnist_hf` calls `install()`, which registers the models with `AutoConfig` and
`AutoModel` as soon as transformers' Auto modules are imported (at once if they already are).
Why an import hook rather than calling `AutoConfig.register`/`AutoModel.register` at import: those need the
classes, so torch and transformers (3.2 s here, 2026-12-06) would load on every `import ldmnist_hf`, and
`ldmnist --help` (0.1 s) with it; registering later, on first use of a model, would break `AutoModel`
after a plain `import ldmnist_hf`. It is the one mechanism: the model modules themselves register nothing, so what `save_pretrained` writes is weights and
config alone, and `ldmnist export` is the one place that puts the modeling code beside the weights.
"""

from __future__ import annotations

import importlib
import importlib.abc
import re
import sys
import warnings
from dataclasses import dataclass

from .errors import LDMNISTError

MODELS_PACKAGE = f"{__package__}.models"
SHIPPED_LATENT_DIM = 32  # the latent size of the shipped models and of the published dataset
# What a recipe must reach (docs/training.md): class reconstruction as the mean over 20 posterior draws on
# the MNIST test set, joint accuracy on the test set, informative image components over the train set.
QUALITY_BAR = {"class_vae_accuracy_mean": 0.998, "middle_layers_accuracy": 0.972, "informative_components": 8}
QUALITY_BAR_FIGURES = {  # what each figure of the bar is, as a summary names it
    "class_vae_accuracy_mean": "class VAE accuracy from sampled class latents (mean of draws)",
    "middle_layers_accuracy": "middle layers: image -> class accuracy",
    "informative_components": "informative image latent components",
}


# Another source dataset's models (Fashion-MNIST's, any other's) meet the class VAE's bar; their joint accuracy
# and components are measured and stated (beside an MLP on the raw pixels), not held to MNIST's figures.
OTHER_SOURCE_BAR = {"class_vae_accuracy_mean": QUALITY_BAR["class_vae_accuracy_mean"]}


def quality_bar(figures: dict, source: str = "mnist") -> list[tuple[str, float, float, bool]]:
    """Each figure of the source dataset's bar (`QUALITY_BAR` for MNIST, else `OTHER_SOURCE_BAR`) found in
    `figures`: `(key, value, bar, met)`, met when `value >= bar`.

    >>> quality_bar({"middle_layers_accuracy": 0.97, "informative_components": 9})
    [('middle_layers_accuracy', 0.97, 0.972, False), ('informative_components', 9, 8, True)]
    """
    bars = QUALITY_BAR if source == "mnist" else OTHER_SOURCE_BAR
    return [(k, figures[k], bar, figures[k] >= bar) for k, bar in bars.items() if k in figures]


DEFAULT_SET = "fast"  # the shipped set whose folders carry no suffix: image-vae-32, ...
MODEL_SETS = ("fast", "reference", "fashion-mnist")  # the sets shipped in ldmnist_hf/pretrained/
# The shipped set each source dataset's LD version is built with by default (`data.sources`' names).
SOURCE_SETS = {"mnist": DEFAULT_SET, "fashion-mnist": "fashion-mnist"}
DEFAULT_CONFIG = "default"  # the dataset config (on the Hub) whose models carry no suffix
# LD-MNIST's dataset repository and metric Space (`NS/ldmnist`); its models are `NS/ldmnist-<folder name>`, its
# explorer `NS/ldmnist-explorer`. Another source dataset's LD version is a sibling family, named after it (`Family`).
DATASET_REPO = "ldmnist"
# The benchmark's baselines whose test predictions `ldmnist export` publishes as model repositories.
BASELINES = ("zero", "linear", "mlp", "middle")
SET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")  # a model set's or dataset config's name


@dataclass(frozen=True)
class ModelKind:
    """One of the three models.

    Args:
        key (`str`): its attribute name in a set of models (`JointModels.image_vae`, `evaluation.json`).
        stem (`str`): the start of its folder and repository names (`image-vae`).
        title (`str`): how text names it (`image VAE`).
        config_module, config_name, model_module, model_name (`str`): its classes in `ldmnist_hf.models`.
    """

    key: str
    stem: str
    title: str
    config_module: str
    config_name: str
    model_module: str
    model_name: str

    @property
    def config_class(self) -> type:
        return getattr(importlib.import_module(f"{MODELS_PACKAGE}.{self.config_module}"), self.config_name)

    @property
    def model_class(self) -> type:
        return getattr(importlib.import_module(f"{MODELS_PACKAGE}.{self.model_module}"), self.model_name)

    def folder(self, latent_dim: int = SHIPPED_LATENT_DIM, model_set: str = DEFAULT_SET) -> str:
        """The folder name of a released or shipped model: `image-vae-32`, `image-vae-16-ld16`, ...

        >>> KINDS["class_vae"].folder(), KINDS["class_vae"].folder(32, "reference")
        ('class-vae-32', 'class-vae-32-reference')
        """
        return f"{self.stem}-{latent_dim}{suffix(model_set)}"

    def repo_name(
        self, latent_dim: int = SHIPPED_LATENT_DIM, config: str = DEFAULT_CONFIG, source: str = "mnist"
    ) -> str:
        """The model repository's name on the Hub (without the namespace), in the source dataset's `family`.

        >>> KINDS["image_vae"].repo_name(), KINDS["image_vae"].repo_name(16, "ld16")
        ('ldmnist-image-vae-32', 'ldmnist-image-vae-16-ld16')
        >>> KINDS["class_vae"].repo_name(source="fashion-mnist")
        'ld-fashion-mnist-class-vae-32'
        """
        return family(source).prefix + self.folder(latent_dim, config)


KINDS: dict[str, ModelKind] = {
    k.key: k
    for k in (
        ModelKind(
            "image_vae",
            "image-vae",
            "image VAE",
            "configuration_image_vae",
            "ImageVAEConfig",
            "modeling_image_vae",
            "ImageVAE",
        ),
        ModelKind(
            "class_vae",
            "class-vae",
            "class VAE",
            "configuration_class_vae",
            "ClassVAEConfig",
            "modeling_class_vae",
            "ClassVAE",
        ),
        ModelKind(
            "middle_layers",
            "middle-layers",
            "middle layers",
            "configuration_middle_layers",
            "MiddleLayersConfig",
            "modeling_middle_layers",
            "MiddleLayers",
        ),
    )
}


def suffix(name: str) -> str:
    """`""` for the default set or config, `-NAME` for the others."""
    return "" if name in (DEFAULT_SET, DEFAULT_CONFIG) else f"-{name}"


def model_set(name: str = DEFAULT_SET, latent_dim: int = SHIPPED_LATENT_DIM) -> dict[str, str]:
    """The folder names of one set of models, by kind.

    >>> model_set("reference")["middle_layers"]
    'middle-layers-32-reference'
    """
    return {key: kind.folder(latent_dim, name) for key, kind in KINDS.items()}


# Every shipped model by folder name: the shipped sets x the three kinds.
PRETRAINED: dict[str, ModelKind] = {
    kind.folder(SHIPPED_LATENT_DIM, s): kind for s in MODEL_SETS for kind in KINDS.values()
}
DEFAULT_MODELS = model_set(DEFAULT_SET)  # image-vae-32, class-vae-32, middle-layers-32


def kind_of(model_type: str) -> ModelKind | None:
    """The kind whose configuration has this `model_type` (`"ldmnist-class-vae"`), else `None`."""
    return next((k for k in KINDS.values() if k.config_class.model_type == model_type), None)


def kind_of_class(klass: type) -> ModelKind | None:
    """The kind whose model class is `klass`, else `None`."""
    return next((k for k in KINDS.values() if k.model_class is klass), None)


@dataclass(frozen=True)
class Family:
    """The Hub repositories of one source dataset's LD version: LD-MNIST's, or a sibling's (LD-Fashion-MNIST).

    LD-MNIST keeps the names it was published with (`ldmnist`, `ldmnist-image-vae-32`, `ldmnist-explorer`); the
    LD version of another known source dataset `S` is named `ld-S` (`ld-fashion-mnist`, `ld-fashion-mnist-image-
    vae-32`, `ld-fashion-mnist-explorer`). Every name comes from the namespace and a name of `SOURCE_SETS`.

    Args:
        source (`str`): the source dataset's name (`data.sources`' names: `"mnist"`, `"fashion-mnist"`).
        name (`str`): the dataset repository's and metric Space's name; the start of the others'.
    """

    source: str
    name: str

    @property
    def prefix(self) -> str:
        """The start of its model repositories' names: `ldmnist-`, `ld-fashion-mnist-`."""
        return f"{self.name}-"

    @property
    def explorer(self) -> str:
        return f"{self.name}-explorer"

    @property
    def metric_script(self) -> str:
        """The metric Space's script: `evaluate.load("NS/NAME")` runs the Space's `NAME.py`."""
        return f"{self.name}.py"


def family(source: str = "mnist") -> Family:
    """The repositories' names of a known source dataset's LD version; a clear error for another source.

    >>> family().name, family("fashion-mnist").prefix, family("fashion-mnist").explorer
    ('ldmnist', 'ld-fashion-mnist-', 'ld-fashion-mnist-explorer')
    """
    if not isinstance(source, str) or source not in SOURCE_SETS:
        raise LDMNISTError(
            f"Unknown source dataset {source!r} (`source`): the LD versions published as Hub repositories are "
            f"those of {', '.join(SOURCE_SETS)}. Give one of them."
        )
    return Family(source, DATASET_REPO if source == "mnist" else f"ld-{source}")


def repo_ids(
    namespace: str, latent_dim: int = SHIPPED_LATENT_DIM, config: str = DEFAULT_CONFIG, source: str = "mnist"
) -> dict[str, str]:
    """Every Hub repository id of one dataset config, by role: the three models, `dataset`, `metric`, `explorer`
    (of the source dataset's `family`).

    >>> repo_ids("NS")["class_vae"], repo_ids("NS", 16, "ld16")["class_vae"], repo_ids("NS")["dataset"]
    ('NS/ldmnist-class-vae-32', 'NS/ldmnist-class-vae-16-ld16', 'NS/ldmnist')
    >>> ids = repo_ids("NS", source="fashion-mnist")
    >>> ids["image_vae"], ids["dataset"], ids["metric"], ids["explorer"]
    ('NS/ld-fashion-mnist-image-vae-32', 'NS/ld-fashion-mnist', 'NS/ld-fashion-mnist', 'NS/ld-fashion-mnist-explorer')
    """
    names = family(source)
    ids = {key: f"{namespace}/{kind.repo_name(latent_dim, config, source)}" for key, kind in KINDS.items()}
    ids.update(
        dataset=f"{namespace}/{names.name}",
        metric=f"{namespace}/{names.name}",
        explorer=f"{namespace}/{names.explorer}",
    )
    return ids


def config_prefix(config: str) -> str:
    """Where a dataset config's built folder lies in the dataset repository: at the top for `default`.

    >>> config_prefix("default"), config_prefix("reference")
    ('', 'reference/')
    """
    return "" if config == DEFAULT_CONFIG else f"{config}/"


def baseline_repo(namespace: str, key: str, config: str = DEFAULT_CONFIG, source: str = "mnist") -> str:
    """The model repository of one benchmark baseline's predictions.

    >>> baseline_repo("NS", "linear"), baseline_repo("NS", "mlp", "ld16")
    ('NS/ldmnist-baseline-linear', 'NS/ldmnist-baseline-mlp-ld16')
    >>> baseline_repo("NS", "zero", source="fashion-mnist")
    'NS/ld-fashion-mnist-baseline-zero'
    """
    return f"{namespace}/{family(source).prefix}baseline-{key}{suffix(config)}"


# ----------------------------------------------------------------------------- Auto classes

_CONFIG_AUTO = "transformers.models.auto.configuration_auto"
_MODEL_AUTO = "transformers.models.auto.modeling_auto"


def register_configs() -> None:
    """`AutoConfig.register` for the three configurations (imports transformers)."""
    from transformers import AutoConfig

    for kind in KINDS.values():
        AutoConfig.register(kind.config_class.model_type, kind.config_class, exist_ok=True)


def register_models() -> None:
    """`AutoConfig.register` and `AutoModel.register` for the three models (imports torch and transformers)."""
    from transformers import AutoModel

    register_configs()
    for kind in KINDS.values():
        AutoModel.register(kind.config_class, kind.model_class, exist_ok=True)


_PENDING = {_CONFIG_AUTO: register_configs, _MODEL_AUTO: register_models}


class _RegisterAfter(importlib.abc.Loader):
    """Wraps the loader of a transformers Auto module: runs it, then the registration it waits for."""

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
    """Finds nothing itself: it asks the other finders and wraps the loader of the two Auto modules."""

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
