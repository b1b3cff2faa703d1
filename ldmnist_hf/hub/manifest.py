"""What an export is: its repositories (`Repo`, planned from the registry), its manifest and file record.

`ldmnist export` writes `ldmnist_export.json` (the namespace, the source dataset, the configs, every repository
and the SHA-256 and size of every file in it); `ldmnist push` reads it back and uploads only what it and the registry agree on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..data.schema import BUILD_RECORD, CARD
from ..errors import LDMNISTError
from ..files.paths import sha256_file
from ..registry import (
    KINDS,
    baseline_repo,
    family,
    repo_ids,
)

MANIFEST = "ldmnist_export.json"


# What each repo must hold for `push` to accept it (beyond what the manifest lists).
REQUIRED = {
    "dataset": (CARD, ".gitattributes", BUILD_RECORD),
    "model": (CARD, "config.json", "model.safetensors"),
    "space": (CARD, "app.py", "requirements.txt", "space.json"),
}


@dataclasses.dataclass(frozen=True)
class Repo:
    """One Hub repository of an export.

    Args:
        role (`str`): `"dataset"`, `"metric"` or a model kind (`"image_vae"`, ...).
        repo_id (`str`): `"NS/name"`.
        repo_type (`str`): `"dataset"`, `"model"` or `"space"`.
        folder (`str`): its folder, relative to the export folder.
        config (`str`, *optional*): the dataset config a model repository belongs to.
    """

    role: str
    repo_id: str
    repo_type: str
    folder: str
    config: str | None = None


def plan_repos(
    namespace: str,
    configs: dict[str, int],
    baselines: dict[str, list[str]] | None = None,
    source: str = "mnist",
) -> list[Repo]:
    """Every repository of an export, in upload order (models, dataset, baselines, Spaces), from the registry.

    The baselines come after the dataset: `push` scores their predictions on the dataset revision it has just
    uploaded and records that revision in their results, as `ldmnist submit` does.

    Args:
        namespace (`str`): the Hub user or organisation.
        configs (`dict[str, int]`): the dataset's configs and their latent sizes, `default` first.
        baselines (`dict[str, list[str]]`, *optional*): per config, the benchmark baselines whose predictions
            are published (`registry.BASELINES`).
        source (`str`, defaults to `"mnist"`): the source dataset, whose `registry.family` names the repositories.

    >>> [r.repo_id for r in plan_repos("NS", {"default": 32})][:2]
    ['NS/ldmnist-image-vae-32', 'NS/ldmnist-class-vae-32']
    >>> [r.folder for r in plan_repos("NS", {"default": 32}, source="fashion-mnist")][3:]
    ['datasets/ld-fashion-mnist', 'spaces/ld-fashion-mnist', 'spaces/ld-fashion-mnist-explorer']
    """
    names = family(source)
    repos = []
    for config, latent_dim in configs.items():
        ids = repo_ids(namespace, latent_dim, config, source)
        repos += [Repo(key, ids[key], "model", f"models/{ids[key].split('/')[1]}", config) for key in KINDS]
    ids = repo_ids(namespace, source=source)
    repos.append(Repo("dataset", ids["dataset"], "dataset", f"datasets/{names.name}"))
    for config, keys in (baselines or {}).items():
        for key in keys:
            repo_id = baseline_repo(namespace, key, config, source)
            repos.append(Repo(f"baseline:{key}", repo_id, "model", f"models/{repo_id.split('/')[1]}", config))
    repos.append(Repo("metric", ids["metric"], "space", f"spaces/{names.name}"))
    repos.append(Repo("explorer", ids["explorer"], "space", f"spaces/{names.explorer}"))
    return repos


def config_ids(repos: list[Repo]) -> dict[str, dict[str, str]]:
    """Per config, the repository ids its cards and snippets name (`registry.repo_ids` for that config)."""
    shared = {r.role: r.repo_id for r in repos if r.config is None}
    out: dict[str, dict[str, str]] = {}
    for r in repos:
        if r.config is not None:
            out.setdefault(r.config, dict(shared))[r.role] = r.repo_id
    return out


def file_record(folder: Path) -> dict[str, dict]:
    """`{path in repo: {"sha256", "size"}}` of every file under `folder` (links refused)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise LDMNISTError(
                f"{path} is a symbolic link; a repository to publish holds regular files only."
            )
        if path.is_file():
            files[path.relative_to(folder).as_posix()] = {
                "sha256": sha256_file(path),
                "size": path.stat().st_size,
            }
    return files
