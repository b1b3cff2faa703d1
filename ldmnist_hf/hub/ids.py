"""Names on the Hub: a namespace, a repository id, a dataset config's name; one check each."""

from __future__ import annotations

import re
from pathlib import Path

from huggingface_hub.utils import HFValidationError, validate_repo_id

from ..errors import LDMNISTError
from ..registry import (
    DATASET_REPO,
    SET_NAME,
)

_NAMESPACE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")


def check_namespace(namespace: str) -> str:
    """The namespace, if it can own Hub repositories (a user or organisation name); else a clear error."""
    ok = isinstance(namespace, str) and bool(_NAMESPACE.match(namespace)) and "--" not in namespace
    if ok:
        try:
            validate_repo_id(f"{namespace}/{DATASET_REPO}")
        except HFValidationError:
            ok = False
    if not ok or ".." in namespace:
        raise LDMNISTError(
            f"`namespace` {namespace!r} is not a Hub user or organisation name: use letters, digits, '-', "
            f"'_' or '.', starting and ending with a letter or digit (for example: your Hub user name)."
        )
    return namespace


def check_config_name(name) -> str:
    """A dataset config's name: `default`, or a short lowercase name (letters, digits, '-')."""
    if not isinstance(name, str) or not SET_NAME.fullmatch(name):
        raise LDMNISTError(
            f"Config name {name!r} is not valid: use a short lowercase name (letters, digits, '-', at most 31), "
            f"for example `reference` or `ld16`."
        )
    return name


def check_repo_id(repo_id, what: str) -> str:
    """`repo_id` if it is a Hub repository id (`OWNER/NAME`); else an error naming the parameter `what`."""
    try:
        ok = isinstance(repo_id, str) and repo_id.count("/") == 1 and not Path(repo_id).exists()
        if ok:
            validate_repo_id(repo_id)
    except HFValidationError:
        ok = False
    if not ok:
        raise LDMNISTError(
            f"`{what}` {repo_id!r} is not a Hub repository id: give OWNER/NAME, for example you/my-model."
        )
    return repo_id


def is_repo_id(text) -> bool:
    """Whether `text` is a valid Hub repository id (`OWNER/NAME`)."""
    try:
        check_repo_id(text, "repo_id")
    except LDMNISTError:
        return False
    return True
