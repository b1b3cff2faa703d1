"""`ldmnist export`: LD-MNIST as Hugging Face Hub repositories, one folder per repository.

For a namespace `NS`, with the names from `registry` (README, "Publishing"):

- dataset `NS/ldmnist`: every config's `data/*.parquet`, build record, figures and benchmark (the `default`
  config at the top, any other config `C` under `C/`), the card, the Hub's `.gitattributes`;
- per config, the three models `NS/ldmnist-image-vae-32`, ... (`NS/ldmnist-<kind>-<L>-C` for config `C`):
  weights, config.json with `auto_map`, the configuration and modeling code, the card with `model-index`;
- the metric Space `NS/ldmnist`: the metric script, `app.py`, `requirements.txt`, the metric card.

The export folder's `ldmnist_export.json` records the namespace, the configs, every repository and the
SHA-256 and size of every file in it; `push` (hub/push.py) uploads only what that record and the registry
agree on, after checking every file again.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
from huggingface_hub import hf_hub_download
from huggingface_hub.utils import HFValidationError, validate_repo_id

from ..analysis.benchmark import PREDICTIONS_DIR
from ..build.dataset import build_dataset
from ..data.read import load_latents, read_build_info, verify_dataset
from ..data.schema import BUILD_RECORD, CARD
from ..data.statistics import latent_statistics
from ..errors import LDMNISTError
from ..files import atomic_dir, read_json, sha256_file
from ..pretrained.loading import METRIC_PATH, load_pretrained, pretrained_path
from ..registry import (
    BASELINES,
    DATASET_REPO,
    DEFAULT_CONFIG,
    DEFAULT_MODELS,
    EXPLORER_SPACE,
    KINDS,
    METRIC_SPACE,
    PRETRAINED,
    SET_NAME,
    baseline_repo,
    config_prefix,
    kind_of_class,
    model_set,
    repo_ids,
)
from ..rendering.cards import (
    LEADERBOARD_STATUSES,
    TEMPLATES,
    leaderboard_markdown,
    read_block,
    render_dataset_card,
    render_explorer_card,
    render_metric_card,
    render_model_card,
)
from .scoring import TestSplit, metric_module
from .submit import check_repo_id, submission_files

logger = logging.getLogger(__name__)

MANIFEST = "ldmnist_export.json"
# What each repo must hold for `push` to accept it (beyond what the manifest lists).
REQUIRED = {
    "dataset": (CARD, ".gitattributes", BUILD_RECORD),
    "model": (CARD, "config.json", "model.safetensors"),
    "space": (CARD, "app.py", "requirements.txt", "space.json"),
}
METRIC_SCRIPT = "ldmnist.py"
_DEFAULT_LINE = "CLASS_VAES = {}\n"  # the package metric's line that the Space's copy fills in
_NAMESPACE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")


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


def plan_repos(
    namespace: str, configs: dict[str, int], baselines: dict[str, list[str]] | None = None
) -> list[Repo]:
    """Every repository of an export, in upload order (models, dataset, baselines, Spaces), from the registry.

    The baselines come after the dataset: `push` scores their predictions on the dataset revision it has just
    uploaded and records that revision in their results, as `ldmnist submit` does.

    Args:
        namespace (`str`): the Hub user or organisation.
        configs (`dict[str, int]`): the dataset's configs and their latent sizes, `default` first.
        baselines (`dict[str, list[str]]`, *optional*): per config, the benchmark baselines whose predictions
            are published (`registry.BASELINES`).

    >>> [r.repo_id for r in plan_repos("NS", {"default": 32})][:2]
    ['NS/ldmnist-image-vae-32', 'NS/ldmnist-class-vae-32']
    """
    repos = []
    for config, latent_dim in configs.items():
        ids = repo_ids(namespace, latent_dim, config)
        repos += [Repo(key, ids[key], "model", f"models/{ids[key].split('/')[1]}", config) for key in KINDS]
    ids = repo_ids(namespace)
    repos.append(Repo("dataset", ids["dataset"], "dataset", f"datasets/{DATASET_REPO}"))
    for config, keys in (baselines or {}).items():
        for key in keys:
            repo_id = baseline_repo(namespace, key, config)
            repos.append(Repo(f"baseline:{key}", repo_id, "model", f"models/{repo_id.split('/')[1]}", config))
    repos.append(Repo("metric", ids["metric"], "space", f"spaces/{METRIC_SPACE}"))
    repos.append(Repo("explorer", ids["explorer"], "space", f"spaces/{EXPLORER_SPACE}"))
    return repos


def config_ids(repos: list[Repo]) -> dict[str, dict[str, str]]:
    """Per config, the repository ids its cards and snippets name (`registry.repo_ids` for that config)."""
    shared = {r.role: r.repo_id for r in repos if r.config is None}
    out: dict[str, dict[str, str]] = {}
    for r in repos:
        if r.config is not None:
            out.setdefault(r.config, dict(shared))[r.role] = r.repo_id
    return out


# ----------------------------------------------------------------------------- what goes where


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

    bench = dataset / "benchmark.json"
    if not bench.is_file():
        return {}
    rows = {r.get("key"): r for r in read_json(bench, fix="run `ldmnist benchmark` again.").get("rows", [])}
    out = {}
    for key in BASELINES:
        path = predictions_path(dataset, key)
        if path.is_file() and key in rows:
            out[key] = (np.load(path, allow_pickle=False), rows[key])
    return out


# ----------------------------------------------------------------------------- writers


def save_with_code(model, folder: Path) -> list[str]:
    """`save_pretrained` plus what transformers' remote code needs: `auto_map` and the modeling files.

    The files are the model's and configuration's modules and their relative imports, found with
    transformers' own `get_relative_import_files` (what `trust_remote_code` will load), copied by base name.
    Done here, explicitly, instead of through `register_for_auto_class`, whose class-wide switch would also
    put the code into every later `save_pretrained` of the process.

    Returns:
        The names of the code files written.
    """
    from transformers.dynamic_module_utils import get_relative_import_files

    kind = kind_of_class(type(model))
    if kind is None:
        raise LDMNISTError(f"{type(model).__name__} is not an LD-MNIST model; nothing to export.")
    model.save_pretrained(folder)
    config = copy.deepcopy(model.config)
    config.auto_map = {
        "AutoConfig": f"{kind.config_module}.{kind.config_name}",
        "AutoModel": f"{kind.model_module}.{kind.model_name}",
    }
    config.save_pretrained(folder)
    written = []
    for module in (kind.config_class.__module__, kind.model_class.__module__):
        source = sys.modules[module].__file__
        for path in (source, *get_relative_import_files(source)):
            shutil.copyfile(path, folder / Path(path).name)
            written.append(Path(path).name)
    return sorted(set(written))


def _export_model(folder: Path, key: str, c: _Config, ids: dict) -> None:
    """A model repo: config.json with auto_map and the modeling code, the weights, the card."""
    model = c.models[key]
    save_with_code(model, folder)
    # The weights byte for byte as they were loaded: the file the dataset's build record names.
    shutil.copyfile(c.weights[key], folder / "model.safetensors")
    evaluation = c.evaluations[key]
    card = render_model_card(key, model.config.to_dict(), evaluation["metrics"], evaluation["training"], ids)
    (folder / CARD).write_text(card)


def _local_split(c: _Config, dataset: str) -> TestSplit:
    """A config's test split from its built folder and its class VAE's weights: what its baselines score on
    (`dataset`: the repository the split will be published in)."""
    y, labels = load_latents(c.dataset, "test", columns=("y", "label"), check_finite=True)
    decoder = metric_module().load_class_decoder(str(c.weights["class_vae"].parent))
    return TestSplit(
        dataset, c.name, None, np.asarray(y), np.asarray(labels), decoder, c.sources["class_vae"]
    )


def _export_baseline(folder: Path, repo: Repo, c: _Config, split: TestSplit) -> None:
    """A baseline's model repo: its test predictions, results and card, as `ldmnist submit` writes them."""
    key = repo.role.split(":", 1)[1]
    predictions, row = c.baselines[key]
    scores = split.score(predictions)
    description = (
        f"A baseline of the LD-MNIST benchmark: {row['model']}. `ldmnist benchmark` (package ldmnist-hf) trains and "
        f"scores it on the `{c.name}` config; `ldmnist export` published its test-split predictions here."
    )
    files = submission_files(
        repo.repo_id, split, predictions, scores, "https://huggingface.co", None, description
    )
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)


def _copy_tree(src: Path, dst: Path, skip: tuple[str, ...]) -> None:
    """The regular files under `src` (no links: they could point anywhere), except the top-level `skip`."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_symlink():
            raise LDMNISTError(
                f"{path} is a symbolic link; a dataset folder to publish holds regular files only."
            )
        if path.is_file() and rel.parts[0] not in skip and not rel.name.startswith(".~"):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


def _check_built_from(c: _Config, info: dict, ids: dict) -> None:
    for key in ("image_vae", "class_vae"):
        built_from = info.get(f"{key}_sha256")
        if built_from != c.sha256[key]:
            raise LDMNISTError(
                f"The dataset in {c.dataset} was built from other {KINDS[key].title} weights than the model "
                f"repository {ids[key]} holds (sha256 {str(built_from)[:12]} vs {c.sha256[key][:12]}): a "
                f"stale export. Rebuild it from these models (`ldmnist build --image-vae ... --class-vae ...`), "
                f"or export without `dataset` to build it."
            )


def _published_record(info: dict, ids: dict) -> dict:
    """The build record as published: models named by their Hub ids, no paths of the build machine."""
    record = dict(info)
    for key in ("image_vae", "class_vae"):
        record[f"{key}_source"] = record[key] = ids[key]
        record[f"{key}_card"] = f"https://huggingface.co/{ids[key]}"
    record["load_name"] = ids["dataset"]
    return record


def _copy_built(c: _Config, out: Path, ids: dict) -> dict:
    """One config's built folder into the dataset repo at `out`: its data and figures, its build record as
    published; returns that record (with `download_size`). Verified first: `ldmnist verify` must pass."""
    verify_dataset(c.dataset)  # a dataset `ldmnist verify` rejects is not published
    info = read_build_info(c.dataset)
    _check_built_from(c, info, ids)
    _copy_tree(c.dataset, out, skip=(CARD, ".gitattributes", BUILD_RECORD, PREDICTIONS_DIR))
    record = _published_record(info, ids)
    (out / BUILD_RECORD).write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    record["download_size"] = sum(p.stat().st_size for p in (out / "data").glob("*.parquet"))
    return record


def _blocks_of(c: _Config) -> dict:
    """What `ldmnist benchmark`, `report` and `fidelity` filled into a built card (links relative)."""
    text = (c.dataset / CARD).read_text()
    blocks = {name: read_block(text, name) for name in ("benchmark", "report", "fidelity")}
    return {k: v for k, v in blocks.items() if v is not None and not v.startswith("Run `ldmnist")}


def _read_leaderboard(path, dataset: str, configs: list[str]) -> dict | None:
    """A `leaderboard.json` checked to be this dataset's, of these configs; `None` without a path."""
    if path is None:
        return None
    board = read_json(Path(path), fix="write it again with `ldmnist leaderboard --json FILE`.")
    rows = board.get("rows") if isinstance(board, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "config" in r for r in rows):
        raise LDMNISTError(f"{path} is not a leaderboard of `ldmnist leaderboard --json` (no rows).")
    if board.get("dataset") != dataset:
        raise LDMNISTError(
            f"{path} is the leaderboard of {board.get('dataset')!r}, not of {dataset}; give the leaderboard of "
            f"the dataset being exported."
        )
    unknown = sorted({str(r["config"]) for r in rows} - set(configs))
    if unknown:
        raise LDMNISTError(
            f"{path} ranks configs this export does not have ({', '.join(unknown)}); export them too (--variant)."
        )
    for i, row in enumerate(rows):
        problem = _leaderboard_row_problem(row)
        if problem:
            raise LDMNISTError(
                f"{path}: row {i + 1} {problem}; it was not written by `ldmnist leaderboard --json` (or was "
                f"edited since): write it again with that command."
            )
    return board


_ROW_NUMBERS = ("mse", "reconstructed_accuracy", "reported_mse", "reported_reconstructed_accuracy")


def _leaderboard_row_problem(row: dict) -> str | None:
    """What is wrong with one row of a leaderboard file, as the dataset card would render it; `None` if nothing."""
    status = row.get("status")
    if status not in LEADERBOARD_STATUSES:
        return f"has the status {status!r}, not one of {', '.join(LEADERBOARD_STATUSES)}"
    model = row.get("model")
    if not isinstance(model, str) or not model or len(model) > 200:
        return "names no model"
    if status != "published":
        try:
            check_repo_id(model, "model")
        except LDMNISTError:
            return f"names the model {model[:80]!r}, which is not a Hub repository id"
    for key in _ROW_NUMBERS:
        value = row.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            return f"has {key} = {str(value)[:40]!r}, not a finite number"
    rank = row.get("rank")
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
        return f"has the rank {str(rank)[:40]!r}, not a positive integer"
    for key in ("source", "reason"):
        if not isinstance(row.get(key, ""), str):
            return f"has a {key} that is not text"
    return None


def _export_dataset(
    configs: list[_Config], out: Path, ids: dict[str, dict], board: dict | None = None
) -> None:
    """The dataset repo: the default config's built folder at the top, every other config's in `NAME/`, one
    card naming every config and its repositories, the Hub's `.gitattributes` (and the leaderboard)."""
    default, others = configs[0], configs[1:]
    record = _copy_built(default, out, ids[default.name])
    variants = []
    for c in others:
        sub = _copy_built(c, out / c.name, ids[c.name])
        x, y = load_latents(c.dataset, "train", check_finite=True)
        variants.append(
            {
                "name": c.name,
                "record": sub,
                "stats": latent_statistics(x, y),
                "benchmark": _blocks_of(c).get("benchmark"),
                "repos": ids[c.name],
            }
        )
    x, y = load_latents(default.dataset, "train", check_finite=True)
    blocks = _blocks_of(default)
    if board is not None:
        from .leaderboard import LEADERBOARD_FILE

        blocks["leaderboard"] = leaderboard_markdown(board)
        (out / LEADERBOARD_FILE).write_text(json.dumps(board, indent=2, allow_nan=False) + "\n")
    card = render_dataset_card(
        record,
        latent_statistics(x, y),
        blocks.get("benchmark"),
        repos=ids[default.name],
        variants=variants,
        blocks=blocks,
    )
    (out / CARD).write_text(card)
    (out / "eval.yaml").write_text(eval_yaml([c.name for c in configs]))
    shutil.copy(TEMPLATES / "gitattributes", out / ".gitattributes")


def eval_yaml(configs: list[str]) -> str:
    """The dataset's `eval.yaml` (the Hub's Benchmark format): one task per config and metric, the test split."""
    import yaml

    from .submit import METRICS, task_id

    return yaml.safe_dump(
        {
            "name": "LD-MNIST",
            "description": "Map LD-MNIST image latents x to class latents y; scored by the MSE against y and the "
            "reconstructed accuracy (the class VAE's decoder on the predictions). Lower MSE is better.",
            "evaluation_framework": "ldmnist-hf",
            "tasks": [{"id": task_id(c, m), "config": c, "split": "test"} for c in configs for m in METRICS],
        },
        sort_keys=False,
    )


def class_vaes_line(ids: dict[str, dict]) -> str:
    """The metric script's line in the Space: each config's class VAE repository."""
    return f"CLASS_VAES = {json.dumps({name: i['class_vae'] for name, i in ids.items()})}\n"


SPACES = Path(__file__).parent / "spaces"  # each Space's own files: app.py, requirements.txt, ...
SCREENSHOT = "screenshot.png"  # written by the browser tests (`make screenshots`), shown in the Space's card


def _space_files(name: str, out: Path, space: dict) -> str | None:
    """Copies a Space's own files from `hub/spaces/NAME/` and writes its `space.json`; returns the screenshot's
    name when there is one to show."""
    for path in sorted((SPACES / name).iterdir()):
        if path.is_file() and path.suffix in (".py", ".txt", ".png"):
            shutil.copyfile(path, out / path.name)
    (out / "space.json").write_text(json.dumps(space, indent=2) + "\n")
    return SCREENSHOT if (out / SCREENSHOT).is_file() else None


def _export_metric(out: Path, ids: dict[str, dict], latent_dims: dict[str, int]) -> None:
    """The metric Space: the package's metric script knowing each config's class VAE, the app, the card."""
    script = (Path(METRIC_PATH) / METRIC_SCRIPT).read_text()
    if script.count(_DEFAULT_LINE) != 1:  # the one line that differs; a test keeps it there
        raise LDMNISTError(f"{METRIC_PATH}/{METRIC_SCRIPT} has no line {_DEFAULT_LINE.strip()!r} to fill in.")
    (out / METRIC_SCRIPT).write_text(script.replace(_DEFAULT_LINE, class_vaes_line(ids)))
    default = ids[DEFAULT_CONFIG]
    configs = {name: {"latent_dim": latent_dims[name], "prefix": config_prefix(name)} for name in ids}
    screenshot = _space_files("metric", out, {"dataset": default["dataset"], "configs": configs})
    class_vaes = [i["class_vae"] for i in ids.values()]
    (out / CARD).write_text(render_metric_card(default, class_vaes, screenshot))


def _export_explorer(out: Path, ids: dict) -> None:
    """The explorer Space: the app, its numpy decoders, the repositories it reads, its card."""
    space = {
        "dataset": ids["dataset"],
        "prefix": "",
        "image_vae": ids["image_vae"],
        "class_vae": ids["class_vae"],
        "mnist": "ylecun/mnist",
    }
    screenshot = _space_files("explorer", out, space)
    (out / CARD).write_text(render_explorer_card(ids, screenshot))


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


def export(
    namespace: str,
    output_dir: str | Path,
    dataset: str | Path | None = None,
    image_vae: str | Path = DEFAULT_MODELS["image_vae"],
    class_vae: str | Path = DEFAULT_MODELS["class_vae"],
    middle_layers: str | Path = DEFAULT_MODELS["middle_layers"],
    overwrite: bool = False,
    mnist_source="auto",
    variants: dict[str, str | Path] | None = None,
    leaderboard: str | Path | None = None,
) -> list[Repo]:
    """Writes one folder per Hub repository into `output_dir` (atomically) and its manifest.

    Args:
        namespace (`str`): the Hub user or organisation that will own the repositories.
        output_dir: the export folder to create.
        dataset (*optional*): a folder written by `ldmnist build` from these VAEs; default: build it here.
        image_vae, class_vae, middle_layers: shipped names or folders (written by `ldmnist release`).
        overwrite (`bool`, defaults to `False`): replace an existing `output_dir` written by an earlier export.
        mnist_source: MNIST for the build when `dataset` is not given (see `load_mnist`).
        variants (`dict`, *optional*): more configs of the one dataset repository, `{name: built folder}`
            (`reference`, `ld16`, ...): each folder's build record names its VAEs (their middle layers lie
            beside its image VAE); each config gets its own model repositories.
        leaderboard (*optional*): a `leaderboard.json` of `ldmnist leaderboard` for this dataset: the card's
            leaderboard block shows it and the file goes beside the card (a new push keeps the table).

    Returns:
        The repositories, in upload order (models, dataset, Spaces).
    """
    check_namespace(namespace)
    sources = {"image_vae": str(image_vae), "class_vae": str(class_vae), "middle_layers": str(middle_layers)}
    configs = [_Config(DEFAULT_CONFIG, Path(dataset) if dataset is not None else None, sources)]
    for name, built in (variants or {}).items():
        if name == DEFAULT_CONFIG or name in (c.name for c in configs):
            raise LDMNISTError(
                f"Config {name!r} is given twice (or is the default's name); give each variant its own."
            )
        configs.append(_variant(name, built))
    built_by = {}
    for c in configs:
        if c.dataset is None:
            continue
        fingerprint = read_build_info(c.dataset).get("fingerprint")
        if fingerprint in built_by:
            raise LDMNISTError(
                f"The configs {built_by[fingerprint]!r} and {c.name!r} are the same build ({c.dataset}, data "
                f"fingerprint {fingerprint}): give each config its own build."
            )
        built_by[fingerprint] = c.name
    for c in configs:
        _load_config(c)
    baselines = {c.name: sorted(c.baselines) for c in configs if c.baselines}
    repos = plan_repos(namespace, {c.name: c.latent_dim for c in configs}, baselines)
    ids = config_ids(repos)
    board = _read_leaderboard(leaderboard, ids[DEFAULT_CONFIG]["dataset"], [c.name for c in configs])
    output_dir = Path(output_dir)
    splits: dict[str, TestSplit] = {}  # each config's test split, read once for all its baselines
    with atomic_dir(output_dir, overwrite=overwrite, marker=MANIFEST) as tmp:
        for repo in repos:
            if repo.repo_type == "model":
                c = next(c for c in configs if c.name == repo.config)
                if repo.role in KINDS:
                    _export_model(tmp / repo.folder, repo.role, c, ids[c.name])
                else:
                    if c.name not in splits:
                        splits[c.name] = _local_split(c, ids[c.name]["dataset"])
                    _export_baseline(tmp / repo.folder, repo, c, splits[c.name])
        for c in configs:
            if c.dataset is None:
                c.dataset = build_dataset(
                    tmp / f".build-{c.name}",
                    image_vae=c.sources["image_vae"],
                    class_vae=c.sources["class_vae"],
                    mnist_source=mnist_source,
                )
        by_role = {r.role: r for r in repos if r.config is None}
        (tmp / by_role["dataset"].folder).mkdir(parents=True)
        _export_dataset(configs, tmp / by_role["dataset"].folder, ids, board)
        for c in configs:
            shutil.rmtree(tmp / f".build-{c.name}", ignore_errors=True)
        (tmp / by_role["metric"].folder).mkdir(parents=True)
        _export_metric(tmp / by_role["metric"].folder, ids, {c.name: c.latent_dim for c in configs})
        (tmp / by_role["explorer"].folder).mkdir(parents=True)
        _export_explorer(tmp / by_role["explorer"].folder, ids[DEFAULT_CONFIG])
        manifest = {
            "namespace": namespace,
            "configs": {c.name: c.latent_dim for c in configs},
            "baselines": baselines,
            "repos": [{**dataclasses.asdict(r), "files": file_record(tmp / r.folder)} for r in repos],
            "weights_sha256": {c.name: c.sha256 for c in configs},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n")
    logger.info("Exported %d repositories for %s to %s", len(repos), namespace, output_dir)
    return repos


def shipped_set(name: str) -> dict[str, str]:
    """The shipped names of a model set (`fast`, `reference`), by kind; a clear error for another name."""
    from ..registry import MODEL_SETS

    if name not in MODEL_SETS:
        raise LDMNISTError(f"Unknown model set {name!r}; shipped sets: {', '.join(MODEL_SETS)}.")
    return model_set(name)
