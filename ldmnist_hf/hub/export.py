"""`ldmnist export`: LD-MNIST as Hugging Face Hub repositories, one folder per repository.

For a namespace `NS`, with the names from `registry` (README, "Publishing"):

- dataset `NS/ldmnist`: every config's `data/*.parquet`, build record, figures and benchmark (the `default`
  config at the top, any other config `C` under `C/`), the card, the Hub's `.gitattributes`
  (`dataset_repo`);
- per config, the three models `NS/ldmnist-image-vae-32`, ... (`NS/ldmnist-<kind>-<L>-C` for config `C`):
  weights, config.json with `auto_map`, the configuration and modeling code, the card with `model-index`;
  and the benchmark's baselines (`model_repos`);
- the metric Space `NS/ldmnist` and the explorer `NS/ldmnist-explorer` (`space_repos`).

Another source dataset's LD version (`source="fashion-mnist"`) is a sibling family of the same repositories,
named after it (`registry.family`: `NS/ld-fashion-mnist`, `NS/ld-fashion-mnist-image-vae-32`, ...), written by
the same code from that source's builds and models.

This module composes them: it reads the configs (`configs`), plans the repositories (`manifest`), writes each
folder and the manifest that `push` (hub/push.py) checks every file against.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

from ..build.dataset import build_dataset
from ..data.read import read_build_info
from ..data.sources import source_dataset
from ..errors import LDMNISTError
from ..files.atomic import atomic_dir
from ..registry import (
    DEFAULT_CONFIG,
    KINDS,
    SOURCE_SETS,
    family,
    model_set,
)
from .configs import _Config, _load_config, _variant, middle_layers_beside
from .dataset_repo import _export_dataset, _read_leaderboard
from .ids import check_config_name, check_namespace, check_repo_ids
from .manifest import MANIFEST, Repo, config_ids, file_record, plan_repos
from .model_repos import _export_baseline, _export_model, _local_split
from .scoring import TestSplit
from .space_repos import _export_explorer, _export_metric

logger = logging.getLogger(__name__)


def _default_sources(dataset, image_vae, class_vae, middle_layers, source: str) -> dict:
    """The default config's models: the source dataset's shipped set (`registry.SOURCE_SETS`) unless given; its
    middle layers are those released with its image VAE unless given."""
    shipped = model_set(SOURCE_SETS[source])
    image_vae = shipped["image_vae"] if image_vae is None else image_vae
    class_vae = shipped["class_vae"] if class_vae is None else class_vae
    if middle_layers is None:  # never another set's
        give = "give their folder with `middle_layers`"
        middle_layers = middle_layers_beside(
            DEFAULT_CONFIG, dataset or "the dataset", str(image_vae), give=give
        )
    return {"image_vae": str(image_vae), "class_vae": str(class_vae), "middle_layers": str(middle_layers)}


def export(
    namespace: str,
    output_dir: str | Path,
    dataset: str | Path | None = None,
    image_vae: str | Path | None = None,
    class_vae: str | Path | None = None,
    middle_layers: str | Path | None = None,
    overwrite: bool = False,
    mnist_source="auto",
    variants: dict[str, str | Path] | list[tuple[str, str | Path]] | None = None,
    leaderboard: str | Path | None = None,
    variant_middle_layers: dict[str, str | Path] | None = None,
    source: str = "mnist",
) -> list[Repo]:
    """Writes one folder per Hub repository into `output_dir` (atomically) and its manifest.

    Args:
        namespace (`str`): the Hub user or organisation that will own the repositories.
        output_dir: the export folder to create.
        dataset (*optional*): a folder written by `ldmnist build` of `source` from these VAEs; default: build it.
        image_vae, class_vae, middle_layers: shipped names or folders (written by `ldmnist release`); default:
            `source`'s shipped set (`registry.SOURCE_SETS`); the middle layers: those released with `image_vae`.
        overwrite (`bool`, defaults to `False`): replace an existing `output_dir` written by an earlier export.
        mnist_source: where the source dataset comes from to build it (`load_source`'s `data_from`).
        variants (`dict`, *optional*): more configs of the one dataset repository, `{name: built folder}`
            (`reference`, `ld16`, ...; or `(name, folder)` pairs): each folder's build record names its VAEs
            (their middle layers lie beside its image VAE); each config gets its own model repositories. A
            name is a folder at the top of the dataset repository (`hub.ids.check_config_name`).
        leaderboard (*optional*): a `leaderboard.json` of `ldmnist leaderboard` for this dataset: the card's
            leaderboard block shows it and the file goes beside the card (a new push keeps the table).
        variant_middle_layers (`dict`, *optional*): `{name: folder}`, a variant's middle layers where they
            are not beside its image VAE.
        source (`str`, defaults to `"mnist"`): whose LD version this is: `"mnist"` or another of
            `registry.SOURCE_SETS` (`"fashion-mnist"`: the sibling `NS/ld-fashion-mnist`); every config builds it.

    Returns:
        The repositories, in upload order (models, dataset, Spaces).
    """
    check_namespace(namespace)
    family(source)  # a known source dataset, before anything is read
    sources = _default_sources(dataset, image_vae, class_vae, middle_layers, source)
    dataset = Path(dataset) if dataset is not None else None
    configs = _configs(dataset, sources, variants or {}, variant_middle_layers or {}, source)
    for c in configs:
        _load_config(c)
    baselines = {c.name: sorted(c.baselines) for c in configs if c.baselines}
    repos = plan_repos(namespace, {c.name: c.latent_dim for c in configs}, baselines, source)
    check_repo_ids(r.repo_id for r in repos)
    ids = config_ids(repos)
    board = _read_leaderboard(leaderboard, ids[DEFAULT_CONFIG]["dataset"], [c.name for c in configs])
    output_dir = Path(output_dir)
    with atomic_dir(output_dir, overwrite=overwrite, marker=MANIFEST) as tmp:
        _write_model_repos(tmp, repos, configs, ids)
        _write_shared_repos(tmp, repos, configs, ids, board, mnist_source, source)
        _write_manifest(tmp, namespace, source, configs, repos, baselines)
    logger.info("Exported %d repositories for %s to %s", len(repos), namespace, output_dir)
    return repos


def _write_manifest(tmp: Path, namespace: str, source: str, configs: list[_Config], repos, baselines) -> None:
    """The export's manifest: what `push` checks every repository and file against."""
    manifest = {
        "namespace": namespace,
        "source": source,
        "configs": {c.name: c.latent_dim for c in configs},
        "baselines": baselines,
        "repos": [{**dataclasses.asdict(r), "files": file_record(tmp / r.folder)} for r in repos],
        "weights_sha256": {c.name: c.sha256 for c in configs},
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n")


def _configs(
    dataset: Path | None, sources: dict, variants, middle_layers: dict, source: str
) -> list[_Config]:
    """The default config and the variants, each a distinct name (a free folder of the dataset repository)
    and a distinct build of the source dataset `source`."""
    configs = [_Config(DEFAULT_CONFIG, dataset, sources)]
    top = sorted(p.name for p in dataset.iterdir()) if dataset is not None and dataset.is_dir() else []
    pairs = list(variants.items() if isinstance(variants, dict) else variants)
    unknown = sorted(set(middle_layers) - {name for name, _ in pairs})
    if unknown:
        raise LDMNISTError(
            f"`variant_middle_layers` names {', '.join(map(repr, unknown))}, which no `variants` entry gives: "
            f"name a variant's config as in NAME=BUILT_DIR."
        )
    names = [DEFAULT_CONFIG]
    for name, _ in pairs:  # every name before any build is read
        names.append(check_config_name(name, names, top))
    configs += [_variant(name, built, middle_layers.get(name)) for name, built in pairs]
    built_by = {}
    for c in configs:
        if c.dataset is None:
            continue
        info = read_build_info(c.dataset)
        _check_source(c, info, source)
        fingerprint = info.get("fingerprint")
        if fingerprint in built_by:
            raise LDMNISTError(
                f"The configs {built_by[fingerprint]!r} and {c.name!r} are the same build ({c.dataset}, data "
                f"fingerprint {fingerprint}): give each config its own build."
            )
        built_by[fingerprint] = c.name
    return configs


def _check_source(c: _Config, info: dict, source: str) -> None:
    """A config's build must encode the export's source dataset (a build of MNIST records none)."""
    built = info.get("source", "mnist")
    if built == source:
        return
    title = source_dataset(source).title
    fix = f"give a build of {title} (`ldmnist build --source {source}`)"
    if built in SOURCE_SETS:  # a known source dataset: its own family of repositories
        other = f"{source_dataset(built).title} (source {built!r} in its build record)"
        fix = f"export it with `source={built!r}`, as its own repositories, or {fix}"
    else:
        other = f"the source dataset {built!r}, whose LD version has no Hub repositories here"
    raise LDMNISTError(
        f"The {c.name!r} config's build {c.dataset} encodes {other}, not {title}: this export publishes "
        f"{title}'s LD version ({family(source).name}). To publish it, {fix}."
    )


def _write_model_repos(tmp: Path, repos: list[Repo], configs: list[_Config], ids: dict) -> None:
    """Each config's three models, and its baselines (scored on its test split, read once for all of them)."""
    splits: dict[str, TestSplit] = {}
    for repo in repos:
        if repo.repo_type != "model":
            continue
        c = next(c for c in configs if c.name == repo.config)
        if repo.role in KINDS:
            _export_model(tmp / repo.folder, repo.role, c, ids[c.name])
        else:
            if c.name not in splits:
                splits[c.name] = _local_split(c, ids[c.name]["dataset"])
            _export_baseline(tmp / repo.folder, repo, c, splits[c.name])


def _write_shared_repos(
    tmp: Path, repos, configs: list[_Config], ids: dict, board, mnist_source, source: str
) -> None:
    """The dataset repository (building the configs that have no built folder yet) and the two Spaces."""
    for c in configs:
        if c.dataset is None:
            c.dataset = build_dataset(
                tmp / f".build-{c.name}",
                image_vae=c.sources["image_vae"],
                class_vae=c.sources["class_vae"],
                mnist_source=mnist_source,
                source=source,
            )
    by_role = {r.role: r for r in repos if r.config is None}
    (tmp / by_role["dataset"].folder).mkdir(parents=True)
    _export_dataset(configs, tmp / by_role["dataset"].folder, ids, board)
    for c in configs:
        shutil.rmtree(tmp / f".build-{c.name}", ignore_errors=True)
    (tmp / by_role["metric"].folder).mkdir(parents=True)
    _export_metric(tmp / by_role["metric"].folder, ids, {c.name: c.latent_dim for c in configs}, source)
    (tmp / by_role["explorer"].folder).mkdir(parents=True)
    _export_explorer(tmp / by_role["explorer"].folder, ids[DEFAULT_CONFIG], source)
