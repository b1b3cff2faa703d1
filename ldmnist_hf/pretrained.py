"""The 32-d models shipped inside the package, loadable offline by name.

Each folder under `ldmnist_hf/pretrained/` is laid out as a Hub model repository (config.json,
model.safetensors, README.md model card), so `huggingface-cli upload` / `push_to_hub` can publish it as is.
"""

from __future__ import annotations

from pathlib import Path

from .utils import LDMNISTError

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
PRETRAINED = {
    "image-vae-32": "ImageVAE",
    "class-vae-32": "ClassVAE",
    "middle-layers-32": "MiddleLayers",
}


def pretrained_path(name: str) -> Path:
    """The folder of a shipped model, for `from_pretrained`.

    >>> from ldmnist_hf import pretrained_path
    >>> (pretrained_path("class-vae-32") / "config.json").exists()
    True
    """
    if name not in PRETRAINED:
        raise LDMNISTError(f"Unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}.")
    path = PRETRAINED_DIR / name
    if not (path / "model.safetensors").exists():
        raise LDMNISTError(f"The shipped weights of {name!r} are missing from {path}; reinstall ldmnist-hf.")
    return path


def load_pretrained(name_or_path: str | Path, kind: str | None = None):
    """Loads a shipped model by name (`"image-vae-32"`), or any saved model from a folder or Hub id.

    Args:
        name_or_path: a name in `PRETRAINED`, a local folder or a Hub repository id.
        kind (`str`, *optional*): `"ImageVAE"`, `"ClassVAE"` or `"MiddleLayers"`: check the loaded class.
    """
    from transformers import AutoModel

    from . import modeling_ldmnist

    source = pretrained_path(name_or_path) if str(name_or_path) in PRETRAINED else name_or_path
    try:
        model = AutoModel.from_pretrained(source)
    except (OSError, ValueError) as e:
        raise LDMNISTError(f"Could not load a model from {str(source)!r}: {str(e).splitlines()[0]}") from e
    if kind is not None and not isinstance(model, getattr(modeling_ldmnist, kind)):
        raise LDMNISTError(f"{str(source)!r} holds a {type(model).__name__}, expected a {kind}.")
    return model.eval()
