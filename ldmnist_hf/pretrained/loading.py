"""Loading LD-MNIST models strictly: the shipped ones (offline, by name), saved folders and Hub repositories.

Strict: safetensors only, every weight from the file, all finite, the class its config names. Each folder
under `ldmnist_hf/pretrained/` is laid out as a Hub model repository (config.json, model.safetensors,
README.md model card); which folders exist is the registry's `PRETRAINED`.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from safetensors import SafetensorError, safe_open

from ..errors import LDMNISTError, first_line
from ..files.paths import looks_like_repo_id, read_json_object
from ..registry import DEFAULT_MODELS, KINDS, PRETRAINED, kind_of, kind_of_class

PRETRAINED_DIR = Path(__file__).parent
# The `evaluate` metric script shipped with the package (copied, with its class VAEs filled in, to the Space).
METRIC_PATH = str(PRETRAINED_DIR.parent / "metrics" / "ldmnist")


def pretrained_path(name: str) -> Path:
    """The folder of a shipped model, for `from_pretrained`.

    >>> from ldmnist_hf import pretrained_path
    >>> (pretrained_path("class-vae-32") / "config.json").exists()
    True
    """
    if not isinstance(name, str) or name not in PRETRAINED:
        raise LDMNISTError(f"Unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}.")
    path = PRETRAINED_DIR / name
    if not (path / "model.safetensors").exists():
        raise LDMNISTError(f"The shipped weights of {name!r} are missing from {path}; reinstall ldmnist-hf.")
    return path


def _resolve_source(name_or_path) -> Path:
    """The local folder to load: a shipped model, an existing folder, or a download of a Hub repository."""
    text = os.fspath(name_or_path)
    if text in PRETRAINED:
        return pretrained_path(text)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise LDMNISTError(
                f"{text} is a file; give the model's folder (with config.json and model.safetensors)."
            )
        return path
    shipped = ", ".join(PRETRAINED)
    if not looks_like_repo_id(text):
        raise LDMNISTError(
            f"No model {text!r}: not a shipped name ({shipped}) and no such folder ({path.absolute()}). "
            f"Give a shipped name, a folder written by `save_pretrained`/`ldmnist release`, or a Hub id owner/name."
        )
    try:
        return Path(snapshot_download(text, allow_patterns=["config.json", "model.safetensors", "*.md"]))
    except Exception as e:  # noqa: BLE001 - network, authentication or missing repository: all end here
        raise LDMNISTError(
            f"No model {text!r}: not a shipped name ({shipped}) and no such local folder ({path.absolute()}), "
            f"so it was taken for a Hub repository id, and the download failed ({first_line(e)}). For a Hub "
            f"repository, check its name or the network (HF_HUB_OFFLINE); for a folder, check its path "
            f"(./{text} is always read as a folder)."
        ) from e


_FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
_INT_DTYPES = {"I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64"}


def _check_weights(folder: Path, klass, config) -> None:
    """Refuses a weights file that is damaged, or whose tensors do not fit the model its config describes."""
    file = folder / "model.safetensors"
    if not file.is_file():
        other = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt*")]
        raise LDMNISTError(
            f"{folder} holds no model.safetensors"
            + (
                f" (found {', '.join(other)}: weights load from safetensors only, never from pickles)"
                if other
                else ""
            )
            + "; give a folder written by `save_pretrained`."
        )
    try:
        with safe_open(str(file), "pt") as f:
            slices = {k: f.get_slice(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not iterable
            shapes = {k: tuple(v.get_shape()) for k, v in slices.items()}
            dtypes = {k: v.get_dtype() for k, v in slices.items()}
    except (SafetensorError, OSError, ValueError) as e:
        raise LDMNISTError(f"{file} is damaged or truncated ({e}); save or download the model again.") from e
    with torch.device("meta"):  # the shapes the config implies, without allocating the model
        reference = klass(config).state_dict()
    expected = {k: tuple(v.shape) for k, v in reference.items()}
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    mismatched = [
        f"{k} {shapes[k]} (config.json needs {expected[k]})"
        for k in sorted(set(shapes) & set(expected))
        if shapes[k] != expected[k]
    ]
    # floats where the model has floats (no int or bool weights cast silently), integers for counters
    wrong_dtype = [
        f"{k} {dtypes[k]}"
        for k in sorted(set(dtypes) & set(expected))
        if (dtypes[k] in _FLOAT_DTYPES) != reference[k].is_floating_point()
        or (not reference[k].is_floating_point() and dtypes[k] not in _INT_DTYPES)
    ]
    problems = [
        f"{label}: {', '.join(keys)}"
        for label, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("wrong shape", mismatched),
            ("wrong dtype", wrong_dtype),
        )
        if keys
    ]
    if problems:
        raise LDMNISTError(
            f"{file} does not fit the {klass.__name__} that {folder / 'config.json'} describes ("
            + "; ".join(problems)
            + "). The weights and config.json must come from the same `save_pretrained`."
        )


def _check_finite(model, folder: Path) -> None:
    """Refuses a model with NaN or inf weights (what a diverged run saves), or a negative BatchNorm variance."""
    state = model.state_dict()
    bad = [name for name, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise LDMNISTError(
            f"{folder / 'model.safetensors'} holds NaN or inf values in {', '.join(bad)}: the model is broken "
            f"(a diverged training run?). Use other weights."
        )
    negative = [name for name, t in state.items() if name.endswith("running_var") and (t < 0).any()]
    if negative:
        raise LDMNISTError(
            f"{folder / 'model.safetensors'} holds negative BatchNorm variances in {', '.join(negative)}: a "
            f"variance cannot be negative, so the file is damaged. Use other weights."
        )


def _check_float32(config_file: Path, dtypes) -> None:
    """Refuses a model that would compute in another float type: a float16 encoder quantises every latent."""
    other = sorted({str(t).removeprefix("torch.") for t in dtypes if t is not None} - {"float32"})
    if other:
        raise LDMNISTError(
            f"{config_file} makes the model load in {', '.join(other)}; LD-MNIST models compute in float32 "
            f"(their latents are float32): remove `dtype` (or `torch_dtype`) from it, or set it to float32."
        )


def _read_config(folder: Path, name_or_path) -> dict:
    """A model folder's config.json, an object of its settings; a folder named like a Hub id that lacks one
    says that the folder was read, not the Hub repository."""
    text = os.fspath(name_or_path)
    taken = ""
    if Path(text).expanduser().exists() and looks_like_repo_id(text):
        taken = f" ({text} was read as this local folder, not as the Hub repository of that name)"
    return read_json_object(
        folder / "config.json",
        fix="save or download the model again (a model's config.json is an object of its settings).",
        missing=f"{folder} holds no config.json{taken}; give a folder written by `save_pretrained`.",
    )


def load_pretrained(name_or_path: str | Path, kind: type | None = None):
    """Loads a shipped model by name (`"image-vae-32"`), or any saved LD-MNIST model from a folder or Hub id.

    Loading is strict: the result is always an `ImageVAE`, `ClassVAE` or `MiddleLayers` whose every weight
    comes from the file (no randomly initialised leftovers), read from safetensors only, and finite.

    Args:
        name_or_path: a name in `PRETRAINED`, a local folder or a Hub repository id (`owner/name`).
        kind (`type`, *optional*): `ImageVAE`, `ClassVAE` or `MiddleLayers`: the class to require.

    Returns:
        The model, in eval mode.

    Raises:
        `LDMNISTError`: no such model, not an LD-MNIST model, not the `kind` asked for, or weights that are
            damaged, missing, unexpected, mis-shaped or not finite.

    >>> from ldmnist_hf import ClassVAE, load_pretrained
    >>> type(load_pretrained("class-vae-32", ClassVAE)).__name__
    'ClassVAE'
    """
    if kind is not None and kind_of_class(kind) is None:
        names = ", ".join(k.model_name for k in KINDS.values())
        raise LDMNISTError(f"Unknown model kind {kind!r}; pass one of the classes {names} (not its name).")
    folder = _resolve_source(name_or_path)
    config_file = folder / "config.json"
    config_dict = _read_config(folder, name_or_path)
    model_type = config_dict.get("model_type")
    found = kind_of(model_type) if isinstance(model_type, str) else None
    if found is None:
        types = ", ".join(k.config_class.model_type for k in KINDS.values())
        raise LDMNISTError(
            f"{folder} holds a {model_type!r} model, not an LD-MNIST one (model_type one of {types})."
        )
    klass = found.model_class
    if kind is not None and klass is not kind:
        raise LDMNISTError(f"{str(name_or_path)!r} holds a {klass.__name__}, expected a {kind.__name__}.")
    try:
        config = klass.config_class.from_pretrained(folder)
    except (ValueError, TypeError, OSError) as e:
        raise LDMNISTError(f"{config_file} holds an invalid configuration: {str(e).splitlines()[0]}") from e
    # `dtype` (`torch_dtype` before transformers 5) casts the model on load in some versions: refused before
    # loading, and whatever the version did, checked after it
    _check_float32(
        config_file, [getattr(config, a) for a in ("dtype", "torch_dtype") if a in config.__dict__]
    )
    _check_weights(folder, klass, config)
    model, info = klass.from_pretrained(folder, output_loading_info=True, use_safetensors=True)
    left = {k: sorted(v) for k, v in info.items() if k != "error_msgs" and v}
    if left:  # _check_weights should have caught these; never return a partly random model
        raise LDMNISTError(f"{folder}: weights did not load cleanly: {left}.")
    _check_finite(model, folder)
    _check_float32(config_file, [t.dtype for t in model.state_dict().values() if t.is_floating_point()])
    return model.eval()


def load_metric(class_vae: str = DEFAULT_MODELS["class_vae"], **kwargs):
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

    source = str(pretrained_path(class_vae)) if class_vae in PRETRAINED else str(class_vae)
    return evaluate.load(METRIC_PATH, class_vae=source, **kwargs)
