"""Where things are and what they hold: Hub ids vs paths, the installed package, the cache, checksums, JSON."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..errors import LDMNISTError

# A Hub repository id, `owner/name` (what a path argument is taken for when no such local folder exists).
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


def looks_like_repo_id(text: str) -> bool:
    """Whether `text` can be a Hub repository id (`owner/name`) rather than a local path."""
    return bool(REPO_ID.fullmatch(text)) and ".." not in text and not text.startswith((".", "/", "~"))


PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the installed package: read-only to its commands


def source_checkout() -> Path | None:
    """The source checkout this package runs from (a git clone, installed with `pip install -e .`), or `None`."""
    root = PACKAGE_DIR.parent
    return root if (root / ".git").exists() and (root / "setup.cfg").is_file() else None


def check_outside_package(path: str | Path, what: str) -> None:
    """Refuses `path` inside the installed package: its commands write there only when asked in so many
    words (`into_package`, `require_source_checkout`)."""
    if Path(path).expanduser().resolve().is_relative_to(PACKAGE_DIR):
        raise LDMNISTError(
            f"{path} is inside the installed package ({PACKAGE_DIR}), which ldmnist's commands do not change "
            f"unless asked to (`--into-package`, for maintainers); give a folder of your own for {what}."
        )


def require_source_checkout(what: str) -> Path:
    """The package folder, to write `what` into: only in a source checkout, where its files are the repository's."""
    if source_checkout() is None:
        raise LDMNISTError(
            f"Writing {what} into the package is for maintainers, in a source checkout (git clone, then "
            f"`pip install -e .`); this package is installed at {PACKAGE_DIR}. Give a folder of your own instead."
        )
    return PACKAGE_DIR


def cache_dir() -> Path:
    """Where verified downloads live: ``$LDMNIST_CACHE``, else ``$XDG_CACHE_HOME/ldmnist``, else ``~/.cache/ldmnist``."""
    if os.environ.get("LDMNIST_CACHE"):
        return Path(os.environ["LDMNIST_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ldmnist"


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_json(path: str | Path, fix: str, missing: str | None = None):
    """A JSON file we wrote, or one `LDMNISTError` that names it and says what to do.

    Args:
        path: the file.
        fix (`str`): what the user should do when the file is damaged (unreadable or not JSON).
        missing (`str`, *optional*): the whole message when the file does not exist; `None` treats a
            missing file as damaged.

    Returns:
        The parsed JSON value (callers check its shape).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise LDMNISTError(missing or f"{path} is missing; {fix}") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LDMNISTError(f"{path} is damaged ({e}); {fix}") from e


_JSON_KINDS = {list: "an array ([...])", str: "a string", bool: "true or false", type(None): "null"}


def read_json_object(path: str | Path, fix: str, missing: str | None = None) -> dict:
    """`read_json` for a file that must hold a JSON object (`{...}`: settings, a record): a list, a number or
    a string there is one `LDMNISTError` saying so, never a confusing error later."""
    value = read_json(path, fix, missing)
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "a number")
        raise LDMNISTError(f"{path} holds {kind}, not a JSON object ({{...}}); {fix}")
    return value
