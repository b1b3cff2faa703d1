"""Evaluating a training run and writing its models out with model cards (the shipped 32-d models too).

`ldmnist release --run runs/fast32` evaluates the run's models on the MNIST test set, copies them into
`models/<name>-<L>/` (or `--dest`) with a `README.md` model card each; maintainers replace the shipped set in
`ldmnist_hf/pretrained/` with `--into-package`, in a source checkout only (those cards are the one source of
each shipped card; `--cards-dir` writes copies elsewhere). Without `--run` it re-evaluates the models already in the destination and
rewrites their cards. Every figure in a card, its `model-index` included, comes from `evaluate_run`;
`write_shipped_cards` re-renders the shipped cards from the recorded evaluations (`ldmnist cards`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..data.classification import load_source_dataset
from ..data.sources import DEFAULT_SOURCE
from ..errors import LDMNISTError
from ..files.atomic import atomic_dir, atomic_write_text, check_output_dir
from ..files.paths import check_outside_package, read_json_object, require_source_checkout, sha256_file
from ..pretrained.loading import METRIC_PATH, PRETRAINED_DIR, load_pretrained
from ..registry import DEFAULT_SET, KINDS, MODEL_SETS, SET_NAME, SHIPPED_LATENT_DIM, suffix
from ..rendering import check_block, render_metric_card, render_model_card, replace_block, results_markdown
from .evaluation import evaluate_run
from .step import JointModels

logger = logging.getLogger(__name__)


_MODEL_FILES = ("config.json", "model.safetensors", "README.md")  # a model folder from before listings
DEFAULT_DEST = "models"  # where `release` writes the model folders unless told (a folder of the user's)


def evaluation_file(model_set: str = DEFAULT_SET) -> str:
    """The name of a set's recorded evaluation: `evaluation.json`, `evaluation-reference.json`, ..."""
    return f"evaluation{suffix(model_set)}.json"


def _read_models(
    run_dir: Path | None, dest: Path, model_set: str, latent_dim: int
) -> tuple[dict, JointModels]:
    """The training summary and the models to release: a run's, or those already in `dest`."""
    if run_dir is not None:
        summary = read_json_object(
            run_dir / "summary.json",
            fix="train the run again.",
            missing=f"{run_dir} holds no finished run (no summary.json); finish it with `ldmnist train --resume`.",
        )
        return summary, JointModels.from_dir(run_dir / "models").eval()
    recorded = dest / evaluation_file(model_set)
    if not recorded.exists():
        raise LDMNISTError(
            f"{dest} holds no {recorded.name}: give `run_dir`, a folder written by `ldmnist train`."
        )
    recorded = read_json_object(recorded, fix="release the models again from their run.")
    if not isinstance(recorded.get("training"), dict):
        raise LDMNISTError(
            f"{dest / evaluation_file(model_set)} records no training summary; release the models again from "
            "their run (`run_dir`)."
        )
    summary = recorded["training"]
    models = JointModels(
        *(
            load_pretrained(dest / kind.folder(latent_dim, model_set), kind.model_class)
            for kind in KINDS.values()
        )
    )
    return summary, models


def _write_models(
    models: JointModels,
    metrics: dict,
    summary: dict,
    dest: Path,
    model_set: str,
    with_weights: bool,
    cards_dir,
) -> dict:
    """Writes each model's card (and weights when `with_weights`); returns which weights the figures describe."""
    weights = {}
    for key, kind in KINDS.items():
        model = getattr(models, key)
        folder = dest / kind.folder(model.config.latent_dim, model_set)
        card = render_model_card(key, model.config.to_dict(), metrics, summary, model_set=model_set)
        if with_weights:
            with atomic_dir(folder, overwrite=True, marker="config.json", legacy=_MODEL_FILES) as tmp:
                model.save_pretrained(tmp)  # weights and config only: `ldmnist export` adds the code
                (tmp / "README.md").write_text(card)
        else:
            atomic_write_text(folder / "README.md", card)
        if cards_dir:
            atomic_write_text(Path(cards_dir) / f"{folder.name}.md", card)
        logger.info("Wrote %s", folder)
        weights[key] = {"folder": folder.name, "sha256": sha256_file(folder / "model.safetensors")}
    return weights


def _check_card_targets(cards_dir, readme, into_package: bool) -> None:
    """Where `release` and `cards` write cards and the results block: outside the installed package unless
    `into_package`, `cards_dir` a folder, `readme` holding the block."""
    for where, what in ((cards_dir, "the cards (`cards_dir`)"), (readme, "`readme`")):
        if where is not None and not into_package:
            check_outside_package(where, what)
    if cards_dir is not None and Path(cards_dir).exists() and not Path(cards_dir).is_dir():
        raise LDMNISTError(f"`cards_dir` {cards_dir} is a file; give a folder for the cards.")
    if readme:
        check_block(readme, "results")


def _check_release_args(run_dir, dest, cards_dir, readme, into_package: bool, model_set: str) -> Path:
    """Every argument checked before the first write (and before the evaluation); returns the destination."""
    if (
        not isinstance(model_set, str)
        or not SET_NAME.fullmatch(model_set)
        or (readme and model_set != DEFAULT_SET)
    ):
        raise LDMNISTError(
            f"`model_set` {model_set!r}: give a short lowercase name (letters, digits, '-'), without `readme` "
            "(the results block describes the default set)."
        )
    if into_package and dest is not None:
        raise LDMNISTError("Give `dest` or `into_package`, not both: `into_package` writes into the package.")
    if into_package:
        dest = require_source_checkout("the shipped models") and PRETRAINED_DIR
    else:
        dest = Path(dest) if dest is not None else Path(DEFAULT_DEST)
        check_outside_package(dest, "the model folders (`dest`)")
    if dest.exists() and not dest.is_dir():
        raise LDMNISTError(f"`dest` {dest} is a file; give a folder for the model folders.")
    _check_card_targets(cards_dir, readme, into_package)
    if run_dir is not None and not (Path(run_dir) / "metrics.jsonl").is_file():
        raise LDMNISTError(
            f"{run_dir} holds no run of `ldmnist train` (no metrics.jsonl); give the folder a run wrote."
        )
    return dest


def release(
    run_dir: str | Path | None = None,
    dest: str | Path | None = None,
    cards_dir: str | Path | None = None,
    mnist=None,
    readme: str | Path | None = None,
    latent_dim: int = SHIPPED_LATENT_DIM,
    model_set: str = DEFAULT_SET,
    into_package: bool = False,
) -> dict:
    """Evaluates a run's models and writes them with model cards to `dest/<name>-<L>/`.

    Args:
        run_dir: a folder written by `ldmnist train` (holding `models/` and `summary.json`); `None`
            re-evaluates the models already in `dest` (their training summary is kept from
            `dest/evaluation.json`) and rewrites their cards, leaving the weights untouched.
        dest: where the model folders go (default: `./models`); never inside the installed package.
        cards_dir: also write the cards here as `<name>-<L>.md` (default: none).
        readme: also fill the results block of this Markdown file (the default set only).
        latent_dim (`int`, defaults to 32): which folders of `dest` to re-evaluate when `run_dir` is `None`.
        model_set (`str`, defaults to `"fast"`): another name writes a set beside the default one: folders
            `<name>-<L>-<set>`, `evaluation-<set>.json` and `training_metrics-<set>.jsonl` (the 2020
            recipe's rerun ships as set `reference`).
        into_package (`bool`, defaults to `False`): write into the package's `pretrained/` folder instead,
            replacing the shipped set (maintainers, in a source checkout only).

    Returns:
        The figures of `evaluate_run`.
    """
    dest = _check_release_args(run_dir, dest, cards_dir, readme, into_package, model_set)
    run_dir = Path(run_dir) if run_dir is not None else None
    summary, models = _read_models(run_dir, dest, model_set, latent_dim)
    for key, kind in KINDS.items() if run_dir is not None else ():  # replaceable? before the work
        folder = dest / kind.folder(getattr(models, key).config.latent_dim, model_set)
        check_output_dir(folder, overwrite=True, marker="config.json", legacy=_MODEL_FILES)
    # A run is evaluated on the test split of the source dataset it was trained on.
    args = summary.get("args") or {}
    source = args.get("source", DEFAULT_SOURCE)
    columns = {k: args.get(k) for k in ("image_column", "label_column")}
    data = mnist or load_source_dataset(source, **columns)
    metrics = evaluate_run(models, data, pixel_baseline=source != DEFAULT_SOURCE)
    weights = _write_models(models, metrics, summary, dest, model_set, run_dir is not None, cards_dir)
    evaluation = {"metrics": metrics, "training": summary, "models": weights}
    atomic_write_text(
        dest / evaluation_file(model_set), json.dumps(evaluation, indent=2, allow_nan=False) + "\n"
    )
    if run_dir is not None:
        atomic_write_text(
            dest / f"training_metrics{suffix(model_set)}.jsonl", (run_dir / "metrics.jsonl").read_text()
        )
    if readme:
        replace_block(readme, "results", results_markdown(evaluation))
    return metrics


def write_shipped_cards(
    cards_dir: str | Path | None = None, readme: str | Path | None = None, into_package: bool = False
) -> list[Path]:
    """Renders every card the package ships from what was recorded: no evaluation, no MNIST (`ldmnist cards`).

    The shipped models' cards (`pretrained/<name>/README.md`) from each set's `evaluation*.json` and config,
    the package metric's card (`metrics/ldmnist/README.md`): into `cards_dir`, and into the package itself
    with `into_package` (maintainers, in a source checkout); the results block of `readme`.

    Returns:
        The files written.
    """
    if not (cards_dir or into_package):
        raise LDMNISTError("Give `cards_dir` (a folder for the cards), or `into_package` (maintainers).")
    if into_package:
        require_source_checkout("the shipped cards")
    _check_card_targets(cards_dir, readme, into_package)
    written = []
    for model_set in MODEL_SETS:
        evaluation = read_json_object(
            PRETRAINED_DIR / evaluation_file(model_set), fix="release the set again with `ldmnist release`."
        )
        for key, kind in KINDS.items():
            folder = PRETRAINED_DIR / kind.folder(SHIPPED_LATENT_DIM, model_set)
            config = read_json_object(folder / "config.json", fix="reinstall ldmnist-hf.")
            card = render_model_card(
                key, config, evaluation["metrics"], evaluation["training"], model_set=model_set
            )
            targets = [
                *([folder / "README.md"] if into_package else []),
                *([Path(cards_dir) / f"{folder.name}.md"] if cards_dir else []),
            ]
            for target in targets:
                atomic_write_text(target, card)
            written += targets
        if readme and model_set == DEFAULT_SET:
            replace_block(readme, "results", results_markdown(evaluation))
            written.append(Path(readme))
    metric_card = render_metric_card()
    targets = [
        *([Path(METRIC_PATH) / "README.md"] if into_package else []),
        *([Path(cards_dir) / "metric-ldmnist.md"] if cards_dir else []),
    ]
    for target in targets:
        atomic_write_text(target, metric_card)
    return written + targets
