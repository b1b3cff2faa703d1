"""The configs of an export: each one's built folder, its three models, their weights, evaluations and
benchmark predictions (what the writers of the repositories read)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
from huggingface_hub import hf_hub_download

from ..data.read import read_build_info
from ..data.schema import BENCHMARK_FILE
from ..errors import LDMNISTError
from ..files import read_json, sha256_file
from ..pretrained.loading import load_pretrained, pretrained_path
from ..registry import (
    BASELINES,
    KINDS,
    PRETRAINED,
    model_set,
)
from .ids import check_config_name

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class _Config:
    """One dataset config of an export: its built folder (or `None`: build it) and its three models."""

    name: str
    dataset: Path | None
    sources: dict  # kind -> shipped name, folder or Hub id
    models: dict = dataclasses.field(default_factory=dict)
    weights: dict = dataclasses.field(default_factory=dict)  # kind -> the model.safetensors file
    sha256: dict = dataclasses.field(default_factory=dict)
    evaluations: dict = dataclasses.field(default_factory=dict)
    baselines: dict = dataclasses.field(default_factory=dict)  # key -> (test predictions, its benchmark row)

    @property
    def latent_dim(self) -> int:
        return self.models["image_vae"].config.latent_dim


def _weights_file(source) -> Path:
    """The `model.safetensors` behind a shipped name, a folder or a Hub id (downloaded to the cache)."""
    if str(source) in PRETRAINED:
        return pretrained_path(str(source)) / "model.safetensors"
    if Path(source).is_dir():
        return Path(source) / "model.safetensors"
    return Path(hf_hub_download(str(source), "model.safetensors"))


def _evaluation_for(weights: Path, kind: str, sha256: str) -> dict:
    """The `ldmnist release` evaluation (beside the model folder) that measured exactly these weights."""
    candidates = sorted(weights.parent.parent.glob("evaluation*.json"))
    for path in candidates:
        evaluation = read_json(path, fix="run `ldmnist release` again for those models.")
        if not isinstance(evaluation, dict) or not isinstance(evaluation.get("models"), dict):
            continue  # not a release's evaluation
        recorded = evaluation["models"].get(kind)
        if isinstance(recorded, dict) and recorded.get("sha256") == sha256:
            return evaluation
    raise LDMNISTError(
        f"No evaluation of the weights in {weights.parent} (looked in "
        f"{', '.join(map(str, candidates)) or f'{weights.parent.parent}/evaluation*.json, none found'}): "
        f"its model card needs the figures `ldmnist release` measures. Run `ldmnist release` for it first."
    )


def _middle_layers_beside(image_vae: str) -> str:
    """The middle layers released with an image VAE: the same set's shipped name, or the sibling folder."""
    if image_vae in PRETRAINED:
        name = image_vae.replace(KINDS["image_vae"].stem, KINDS["middle_layers"].stem, 1)
        return name
    folder = Path(image_vae)
    if KINDS["image_vae"].stem not in folder.name:
        raise LDMNISTError(
            f"The middle layers of a variant are looked up beside its image VAE ({folder}), in the folder named "
            f"like it with {KINDS['middle_layers'].stem} for {KINDS['image_vae'].stem}; this name has no "
            f"{KINDS['image_vae'].stem}: build the variant from the folders `ldmnist release` wrote."
        )
    return str(folder.with_name(folder.name.replace(KINDS["image_vae"].stem, KINDS["middle_layers"].stem, 1)))


def _variant(name: str, built: str | Path) -> _Config:
    """A config given as `NAME=BUILT_DIR`: its models are the ones its build record names."""
    check_config_name(name)
    info = read_build_info(built)
    image_vae, class_vae = str(info["image_vae_source"]), str(info["class_vae_source"])
    return _Config(
        name,
        Path(built),
        {"image_vae": image_vae, "class_vae": class_vae, "middle_layers": _middle_layers_beside(image_vae)},
    )


def _load_config(c: _Config) -> None:
    """Loads a config's models strictly, finds their weights files and the evaluations their cards need."""
    c.models = {key: load_pretrained(src, KINDS[key].model_class) for key, src in c.sources.items()}
    dims = {key: m.config.latent_dim for key, m in c.models.items()}
    if len(set(dims.values())) != 1:
        raise LDMNISTError(
            f"The models of config {c.name!r} have different latent sizes {dims}; export a set trained together."
        )
    c.weights = {key: _weights_file(src) for key, src in c.sources.items()}
    c.sha256 = {key: sha256_file(path) for key, path in c.weights.items()}
    c.evaluations = {key: _evaluation_for(c.weights[key], key, c.sha256[key]) for key in KINDS}
    if c.dataset is not None:
        c.baselines = _benchmarked(c.dataset)
        if not c.baselines:
            logger.warning(
                "The %r config (%s) has no benchmark predictions: its baselines get no model repositories and "
                "its leaderboard starts empty. Run `ldmnist benchmark --dataset %s` first to publish them.",
                c.name,
                c.dataset,
                c.dataset,
            )


def _benchmarked(dataset: Path) -> dict:
    """The baselines `ldmnist benchmark` kept predictions of, with their benchmark rows."""
    from ..analysis.benchmark import predictions_path

    bench = dataset / BENCHMARK_FILE
    if not bench.is_file():
        return {}
    rows = {r.get("key"): r for r in read_json(bench, fix="run `ldmnist benchmark` again.").get("rows", [])}
    out = {}
    for key in BASELINES:
        path = predictions_path(dataset, key)
        if path.is_file() and key in rows:
            out[key] = (np.load(path, allow_pickle=False), rows[key])
    return out


def shipped_set(name: str) -> dict[str, str]:
    """The shipped names of a model set (`fast`, `reference`), by kind; a clear error for another name."""
    from ..registry import MODEL_SETS

    if name not in MODEL_SETS:
        raise LDMNISTError(f"Unknown model set {name!r}; shipped sets: {', '.join(MODEL_SETS)}.")
    return model_set(name)
