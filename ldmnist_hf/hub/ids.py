"""Names on the Hub: a namespace, a repository id, a dataset config's name; one check each."""

from __future__ import annotations

import re
from collections.abc import Iterable

from huggingface_hub.utils import HFValidationError, validate_repo_id

from ..data.records import LEADERBOARD_FILE
from ..data.schema import (
    BENCHMARK_FILE,
    BENCHMARK_MARKDOWN,
    BUILD_RECORD,
    CARD,
    LATENT_COLUMNS,
    PREDICTIONS_DIR,
    REPORT_DIR,
    SPLITS,
    data_file,
)
from ..errors import LDMNISTError
from ..registry import (
    DATASET_REPO,
    DEFAULT_CONFIG,
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


def check_repo_ids(ids) -> None:
    """Every repository id an export would create is one the Hub accepts (at most 96 characters...); else one
    error naming the first that is not, before anything is written or uploaded.

    >>> check_repo_ids(["ns/ldmnist", "ns/" + "a" * 100])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldmnist_hf.errors.LDMNISTError: The Hub would refuse the repository id 'ns/aaaa...' ...
    """
    for repo_id in ids:
        try:
            validate_repo_id(repo_id)
            ok = len(repo_id) <= 96
        except HFValidationError:
            ok = False
        if not ok:
            raise LDMNISTError(
                f"The Hub would refuse the repository id {repo_id!r} ({len(repo_id)} characters; at most 96, "
                f"letters, digits, '-', '_', '.'): it comes from the namespace, the source dataset and a config "
                f"name; use a shorter namespace or config name. Nothing was written."
            )


def _stem(name: str) -> str:
    """How a file or folder name could clash with a config's folder: `README.md` -> `readme`, `.gitattributes`
    -> `gitattributes` (a name differing only in case or extension is as confusing on the Hub as the same)."""
    return name.lower().lstrip(".").split(".")[0]


# What the dataset repository holds at its top level beside the configs' folders `NAME/`: the default config's
# built folder (data, record, card, figures, benchmark, `.npy` copies), the leaderboard and the Hub's files.
_NAMED = (
    data_file("train").split("/")[0],
    CARD,
    BUILD_RECORD,
    ".gitattributes",
    BENCHMARK_FILE,
    BENCHMARK_MARKDOWN,
    PREDICTIONS_DIR,
    REPORT_DIR,
    LEADERBOARD_FILE,
)
TOP_LEVEL = (*_NAMED, *(f"{split}_{column}.npy" for split in SPLITS for column in LATENT_COLUMNS))
# The config names that would be one of those: refused, whatever the folders of an export hold.
RESERVED_CONFIG_NAMES = tuple(sorted({_stem(n) for n in TOP_LEVEL if SET_NAME.fullmatch(_stem(n))}))


def check_config_name(name, configs: Iterable[str] = (), top_level: Iterable[str] = ()) -> str:
    """A dataset config's name: `default`, or a short lowercase name (letters, digits, '-') for a folder `NAME/`
    at the top of the dataset repository that collides with nothing there.

    Args:
        name: the config's name (`ldmnist export --variant NAME=BUILT_DIR`, a manifest's config).
        configs: the names of the export's other configs (`default` among them): each name once.
        top_level: what the default config's built folder holds at its top (a report written elsewhere
            than `report/`, files of the user's): they land beside the configs' folders too.

    Raises:
        `LDMNISTError`: not such a name, one of `RESERVED_CONFIG_NAMES`, another config's, or taken in
            `top_level`.
    """
    if not isinstance(name, str) or not SET_NAME.fullmatch(name):
        raise LDMNISTError(
            f"Config name {name!r} is not valid: use a short lowercase name (letters, digits, '-', at most 31), "
            f"for example reference or ld16."
        )
    if name in configs:
        why = "the default config's name" if name == DEFAULT_CONFIG else "given twice"
        raise LDMNISTError(f"Config name {name!r} is {why}: give each variant a name of its own.")
    if name != DEFAULT_CONFIG and _stem(name) in RESERVED_CONFIG_NAMES:
        raise LDMNISTError(
            f"Config name {name!r} is reserved: a config's files go into its folder {name}/ at the top of the "
            f"dataset repository, beside what the repository holds there ({', '.join(_NAMED)}, .npy copies), so "
            f"none of {', '.join(RESERVED_CONFIG_NAMES)} can be a config's name. Choose another, for example ld16."
        )
    clash = sorted(n for n in top_level if _stem(n) == name)
    if clash:
        raise LDMNISTError(
            f"Config name {name!r} is taken: the default config's built folder holds {clash[0]} at its top, "
            f"which the dataset repository holds beside the configs' folders. Choose another name for the "
            f"config, for example ld16."
        )
    return name


def check_repo_id(repo_id, what: str) -> str:
    """`repo_id` if it is a Hub repository id (`OWNER/NAME`); else an error naming the parameter `what`."""
    try:
        ok = isinstance(repo_id, str) and repo_id.count("/") == 1  # a local folder of that name is no matter
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
