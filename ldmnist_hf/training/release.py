"""Evaluating a training run and writing its models out with model cards (the shipped 32-d models too).

`ldmnist release --run runs/fast32` evaluates the run's models on the MNIST test set, copies them into
`ldmnist_hf/pretrained/<name>-<L>/` (or `--dest`) with a `README.md` model card each (the one source of
each shipped card; `--cards-dir` writes copies elsewhere). Without `--run` it re-evaluates the models already in the destination and
rewrites their cards. Every figure in a card, its `model-index` included, comes from `evaluate_run`;
`write_shipped_cards` re-renders the shipped cards from the recorded evaluations (`ldmnist cards`).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from ..data.mnist import load_mnist
from ..errors import LDMNISTError
from ..files import atomic_dir, atomic_write_text, read_json, sha256_file
from ..pretrained.loading import METRIC_PATH, PRETRAINED_DIR, load_pretrained
from ..registry import DEFAULT_SET, KINDS, MODEL_SETS, SET_NAME, SHIPPED_LATENT_DIM, suffix
from ..rendering import render_metric_card, render_model_card, replace_block, results_markdown
from .evaluation import evaluate_run
from .step import JointModels

logger = logging.getLogger(__name__)


def evaluation_file(model_set: str = DEFAULT_SET) -> str:
    """The name of a set's recorded evaluation: `evaluation.json`, `evaluation-reference.json`, ..."""
    return f"evaluation{suffix(model_set)}.json"


def _read_models(
    run_dir: Path | None, dest: Path, model_set: str, latent_dim: int
) -> tuple[dict, JointModels]:
    """The training summary and the models to release: a run's, or those already in `dest`."""
    if run_dir is not None:
        summary = read_json(
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
    summary = read_json(recorded, fix="release the models again from their run.")["training"]
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
            with atomic_dir(folder, overwrite=True, marker="config.json") as tmp:
                model.save_pretrained(tmp)  # weights and config only: `ldmnist export` adds the code
                (tmp / "README.md").write_text(card)
        else:
            atomic_write_text(folder / "README.md", card)
        if cards_dir:
            atomic_write_text(Path(cards_dir) / f"{folder.name}.md", card)
        logger.info("Wrote %s", folder)
        weights[key] = {"folder": folder.name, "sha256": sha256_file(folder / "model.safetensors")}
    return weights


def release(
    run_dir: str | Path | None = None,
    dest: str | Path | None = None,
    cards_dir: str | Path | None = None,
    mnist=None,
    readme: str | Path | None = None,
    latent_dim: int = SHIPPED_LATENT_DIM,
    model_set: str = DEFAULT_SET,
) -> dict:
    """Evaluates a run's models and writes them with model cards to `dest/<name>-<L>/`.

    Args:
        run_dir: a folder written by `ldmnist train` (holding `models/` and `summary.json`); `None`
            re-evaluates the models already in `dest` (their training summary is kept from
            `dest/evaluation.json`) and rewrites their cards, leaving the weights untouched.
        dest: where the model folders go (default: the package's `pretrained/` folder).
        cards_dir: also write the cards here as `<name>-<L>.md` (default: none).
        readme: also fill the results block of this Markdown file (the default set only).
        latent_dim (`int`, defaults to 32): which folders of `dest` to re-evaluate when `run_dir` is `None`.
        model_set (`str`, defaults to `"fast"`): another name writes a set beside the default one: folders
            `<name>-<L>-<set>`, `evaluation-<set>.json` and `training_metrics-<set>.jsonl` (the 2020
            recipe's rerun ships as set `reference`).

    Returns:
        The figures of `evaluate_run`.
    """
    if (
        not isinstance(model_set, str)
        or not SET_NAME.fullmatch(model_set)
        or (readme and model_set != DEFAULT_SET)
    ):
        raise LDMNISTError(
            f"`model_set` {model_set!r}: give a short lowercase name (letters, digits, '-'), without `readme` "
            "(the results block describes the default set)."
        )
    dest = Path(dest) if dest else PRETRAINED_DIR
    run_dir = Path(run_dir) if run_dir is not None else None
    summary, models = _read_models(run_dir, dest, model_set, latent_dim)
    metrics = evaluate_run(models, mnist or load_mnist())
    weights = _write_models(models, metrics, summary, dest, model_set, run_dir is not None, cards_dir)
    evaluation = {"metrics": metrics, "training": summary, "models": weights}
    atomic_write_text(
        dest / evaluation_file(model_set), json.dumps(evaluation, indent=2, allow_nan=False) + "\n"
    )
    if run_dir is not None:
        shutil.copy(run_dir / "metrics.jsonl", dest / f"training_metrics{suffix(model_set)}.jsonl")
    if readme:
        replace_block(readme, "results", results_markdown(evaluation))
    return metrics


def write_shipped_cards(cards_dir: str | Path | None = None, readme: str | Path | None = None) -> list[Path]:
    """Renders every card the package ships from what was recorded: no evaluation, no MNIST (`ldmnist cards`).

    The shipped models' cards (`pretrained/<name>/README.md`) from each set's `evaluation*.json` and config,
    the package metric's card (`metrics/ldmnist/README.md`); copies into `cards_dir` when given, and the results
    block of `readme`.

    Returns:
        The files written.
    """
    written = []
    for model_set in MODEL_SETS:
        evaluation = read_json(
            PRETRAINED_DIR / evaluation_file(model_set), fix="release the set again with `ldmnist release`."
        )
        for key, kind in KINDS.items():
            folder = PRETRAINED_DIR / kind.folder(SHIPPED_LATENT_DIM, model_set)
            config = read_json(folder / "config.json", fix="reinstall ldmnist-hf.")
            card = render_model_card(
                key, config, evaluation["metrics"], evaluation["training"], model_set=model_set
            )
            targets = [folder / "README.md", *([Path(cards_dir) / f"{folder.name}.md"] if cards_dir else [])]
            for target in targets:
                atomic_write_text(target, card)
            written += targets
        if readme and model_set == DEFAULT_SET:
            replace_block(readme, "results", results_markdown(evaluation))
            written.append(Path(readme))
    metric_card = render_metric_card()
    targets = [
        Path(METRIC_PATH) / "README.md",
        *([Path(cards_dir) / "metric-ldmnist.md"] if cards_dir else []),
    ]
    for target in targets:
        atomic_write_text(target, metric_card)
    return written + targets
