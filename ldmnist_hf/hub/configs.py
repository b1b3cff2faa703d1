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
from ..files.paths import looks_like_repo_id, read_json, read_json_object, sha256_file
from ..pretrained.loading import load_pretrained, pretrained_path
from ..registry import (
    BASELINES,
    KINDS,
    PRETRAINED,
    model_set,
)

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


def _recorded_model(name: str, built, info: dict, key: str) -> str:
    """A variant's image or class VAE, as its build record names it: a shipped name, a folder or a Hub id."""
    source = str(info[f"{key}_source"])
    path = Path(source).expanduser()
    if source in PRETRAINED or path.is_dir() or (looks_like_repo_id(source) and not path.exists()):
        return source  # a Hub id, or a folder the loading names when missing
    relative = not path.is_absolute()
    where = f" {path.absolute()} (read from the current folder, as the build did)" if relative else ""
    raise LDMNISTError(
        f"Config {name!r}: the build record of {built} names the {KINDS[key].title} {source}, and there is no "
        f"such folder{where}. Run the export from the folder the build ran in, or rebuild {built} from the "
        f"models' folders (`ldmnist build --image-vae DIR --class-vae DIR`)."
    )


def middle_layers_beside(name: str, built, image_vae: str, give: str | None = None) -> str:
    """The middle layers released with a variant's image VAE: the same set's shipped name, or the folder
    `ldmnist release` wrote beside it (named like it, `middle-layers` for `image-vae`)."""
    image, middle = KINDS["image_vae"].stem, KINDS["middle_layers"].stem
    if image_vae in PRETRAINED:
        return image_vae.replace(image, middle, 1)
    folder = Path(image_vae)
    give = give or f"give their folder with `variant_middle_layers` {name}=DIR"
    if image not in folder.name:
        raise LDMNISTError(
            f"Config {name!r} needs the middle layers released with its image VAE {image_vae} (which the build "
            f"record of {built} names); they are looked up beside it, in the folder named like it with "
            f"{middle} for {image}, but this name has no {image}: {give}."
        )
    beside = folder.with_name(folder.name.replace(image, middle, 1))
    if folder.expanduser().is_dir() and not beside.expanduser().is_dir():
        raise LDMNISTError(
            f"Config {name!r} needs the middle layers released with its image VAE {image_vae} (which the build "
            f"record of {built} names); they were looked for beside it, in {beside.expanduser().absolute()}, "
            f"and there is no such folder: {give}, or put there the folder `ldmnist release` wrote."
        )
    return str(beside)  # beside a Hub id: the Hub repository named like it


def _variant(name: str, built: str | Path, middle_layers=None) -> _Config:
    """A config given as `NAME=BUILT_DIR` (its name checked: `check_config_name`): its models are the ones its
    build record names (the middle layers: `middle_layers`, else those beside its image VAE)."""
    info = read_build_info(built)
    image_vae, class_vae = (_recorded_model(name, built, info, key) for key in ("image_vae", "class_vae"))
    if middle_layers is None:
        middle_layers = middle_layers_beside(name, built, image_vae)
    sources = {"image_vae": image_vae, "class_vae": class_vae, "middle_layers": str(middle_layers)}
    return _Config(name, Path(built), sources)


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
    rows = read_json_object(bench, fix="run `ldmnist benchmark` again.").get("rows")
    rows = {r.get("key"): r for r in rows if isinstance(r, dict)} if isinstance(rows, list) else {}
    out = {}
    for key in BASELINES:
        path = predictions_path(dataset, key)
        if path.is_file() and key in rows:
            try:
                out[key] = (np.load(path, allow_pickle=False), rows[key])
            except (OSError, ValueError, EOFError) as e:  # numpy's text would advise unpickling
                raise LDMNISTError(
                    f"{path} is damaged: not the array of numbers `ldmnist benchmark` writes (unreadable, "
                    f"truncated, or holding Python objects, which are never unpickled). Run `ldmnist benchmark "
                    f"--dataset {dataset}` again."
                ) from e
    return out


def shipped_set(name: str) -> dict[str, str]:
    """The shipped names of a model set (`fast`, `reference`), by kind; a clear error for another name."""
    from ..registry import MODEL_SETS

    if name not in MODEL_SETS:
        raise LDMNISTError(f"Unknown model set {name!r}; shipped sets: {', '.join(MODEL_SETS)}.")
    return model_set(name)
