"""Evaluating a training run and writing its models out with model cards (the shipped 32-d models too).

`ldmnist release --run runs/fast32` evaluates the run's models on the MNIST test set, copies them into
`ldmnist_hf/pretrained/<name>-<L>/` (or `--dest`) with a `README.md` model card each, and writes the
same cards to `model_cards/`. Without `--run` it re-evaluates the models already in the destination and
rewrites their cards. Every figure in a card, its `model-index` included, comes from `evaluate_run`.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .evaluation import evaluate_run
from .loading import MODEL_CLASSES, PRETRAINED_DIR, load_pretrained
from .mnist import load_mnist
from .reference_2020 import reference_2020
from .training import JointModels
from .training_args import MODEL_DIRS, QUALITY_BAR, with_older_defaults
from .utils import LDMNISTError, atomic_dir, atomic_write_text, log, read_json, replace_block, sha256_file

MODEL_CARD_TEMPLATE = Path(__file__).parent / "cards" / "model_card.md"

# The card's `model-index` rows per model: (task, metric type, metric name, key in `evaluate_run`'s figures).
_EVAL_ROWS = {
    "image_vae": [
        ("image-feature-extraction", "bce", "reconstruction BCE (mean over pixels)", "image_vae_test_bce"),
    ],
    "class_vae": [
        (
            "feature-extraction",
            "accuracy",
            "reconstructed accuracy, mean over {draws} posterior draws",
            "class_vae_accuracy_mean",
        ),
        (
            "feature-extraction",
            "accuracy_std",
            "reconstructed accuracy, std over {draws} posterior draws",
            "class_vae_accuracy_std",
        ),
    ],
    "middle_layers": [
        ("tabular-regression", "mse", "MSE of predicted vs sampled class latents", "middle_layers_test_mse"),
        (
            "tabular-regression",
            "accuracy",
            "reconstructed accuracy (class decoder on the predictions)",
            "middle_layers_accuracy",
        ),
    ],
}


def _eval_results(kind: str, metrics: dict) -> list[EvalResult]:
    """The card's `model-index` entries (what the Hub shows as evaluation results), from `evaluate_run`."""
    draws = metrics["class_vae_accuracy_draws"]
    return [
        EvalResult(
            task_type=task,
            metric_type=mtype,
            metric_name=name.format(draws=draws),
            metric_value=metrics[key],
            dataset_type="ylecun/mnist",
            dataset_name="MNIST",
            dataset_split="test",
        )
        for task, mtype, name, key in _EVAL_ROWS[kind]
    ]


def render_model_card(
    kind: str, config: dict, metrics: dict, summary: dict, repos: dict | None = None, suffix: str = ""
) -> str:
    """A model card from `evaluate_run`'s figures, with `model-index` results (template `cards/model_card.md`).

    Args:
        kind (`str`): `"image_vae"`, `"class_vae"` or `"middle_layers"`.
        config (`dict`), metrics (`dict`), summary (`dict`): the model's config, `evaluate_run`'s figures
            and the training run's summary.
        repos (`dict`, *optional*): Hub repository ids (keys `dataset`, `metric`, `image_vae`,
            `class_vae`, `middle_layers`) for a card published on the Hub; `None` for the shipped folders.
        suffix (`str`, defaults to `""`): the shipped folder's model-set suffix (`"-reference"`), so that
            the card's snippet loads this folder.

    Returns:
        The card's text (YAML front matter + Markdown).
    """
    L = config["latent_dim"]
    shipped_name = f"{MODEL_DIRS[kind]}-{L}{suffix}"
    data = ModelCardData(
        model_name=repos[kind].split("/")[-1] if repos else f"ldmnist-{shipped_name}",
        license="mit",
        library_name="transformers",
        datasets=["ylecun/mnist", *([repos["dataset"]] if repos else [])],
        tags=["ldmnist", "vae", "mnist", "safetensors"],
        eval_results=_eval_results(kind, metrics),
    )
    ref = reference_2020()
    card = ModelCard.from_template(
        data,
        template_path=str(MODEL_CARD_TEMPLATE),
        kind=kind,
        L=L,
        config=config,
        metrics=metrics,
        ref=ref,
        pub=ref["published"],
        run=with_older_defaults(summary["args"]),
        train_seconds=summary["train_seconds_this_session"],
        first_epoch=summary.get("first_epoch_this_session", 1),  # runs before it was recorded: not resumed
        shipped_name=shipped_name,
        repos=repos,
    )
    return str(card)


@contextlib.contextmanager
def without_code(model):
    """`save_pretrained` inside writes weights and config only: no `auto_map`, no copy of the modeling code.

    The package's shipped folders load through the registered classes; `ldmnist export` is the one place
    that saves the code beside the weights (from the current sources), so no stale copy is kept here.
    """
    classes = (type(model), type(model.config))
    saved = [c.__dict__.get("_auto_class") for c in classes]
    auto_map = model.config.__dict__.pop("auto_map", None)  # read from a folder saved with code
    for c in classes:
        c._auto_class = None
    try:
        yield model
    finally:
        for c, value in zip(classes, saved):
            c._auto_class = value
        if auto_map is not None:
            model.config.auto_map = auto_map


def _read_models(run_dir: Path | None, dest: Path, suffix: str, latent_dim: int) -> tuple[dict, JointModels]:
    """The training summary and the models to release: a run's, or those already in `dest`."""
    if run_dir is not None:
        summary = read_json(
            run_dir / "summary.json",
            fix="train the run again.",
            missing=f"{run_dir} holds no finished run (no summary.json); finish it with `ldmnist train --resume`.",
        )
        return summary, JointModels.from_dir(run_dir / "models").eval()
    if not (dest / f"evaluation{suffix}.json").exists():
        raise LDMNISTError(
            f"{dest} holds no evaluation{suffix}.json: give --run, a folder written by `ldmnist train`."
        )
    summary = json.loads((dest / f"evaluation{suffix}.json").read_text())["training"]
    models = JointModels(
        *(
            load_pretrained(dest / f"{MODEL_DIRS[kind]}-{latent_dim}{suffix}", klass)
            for kind, klass in MODEL_CLASSES.items()
        )
    )
    return summary, models


def _write_models(
    models: JointModels, metrics: dict, summary: dict, dest: Path, suffix: str, with_weights: bool, cards_dir
) -> dict:
    """Writes each model's card (and weights when `with_weights`); returns which weights the figures describe."""
    weights = {}
    for kind, name in MODEL_DIRS.items():
        model = getattr(models, kind)
        folder = dest / f"{name}-{model.config.latent_dim}{suffix}"
        card = render_model_card(kind, model.config.to_dict(), metrics, summary, suffix=suffix)
        if with_weights:
            with atomic_dir(folder, overwrite=True, marker="config.json") as tmp, without_code(model):
                model.save_pretrained(tmp)
                (tmp / "README.md").write_text(card)
        else:
            atomic_write_text(folder / "README.md", card)
        if cards_dir:
            atomic_write_text(Path(cards_dir) / f"{folder.name}.md", card)
        log(f"Wrote {folder}")
        weights[kind] = {"folder": folder.name, "sha256": sha256_file(folder / "model.safetensors")}
    return weights


def release(
    run_dir: str | Path | None = None,
    dest: str | Path | None = None,
    cards_dir: str | Path | None = None,
    mnist=None,
    readme: str | Path | None = None,
    latent_dim: int = 32,
    model_set: str | None = None,
) -> dict:
    """Evaluates a run's models and writes them with model cards to `dest/<name>-<L>/`.

    Args:
        run_dir: a folder written by `ldmnist train` (holding `models/` and `summary.json`); `None`
            re-evaluates the models already in `dest` (their training summary is kept from
            `dest/evaluation.json`) and rewrites their cards, leaving the weights untouched.
        dest: where the model folders go (default: the package's `pretrained/` folder).
        cards_dir: also write the cards here as `<name>-<L>.md` (default: none).
        readme: also fill the results block of this README.md.
        latent_dim (`int`, defaults to 32): which folders of `dest` to re-evaluate when `run_dir` is `None`.
        model_set (`str`, *optional*): write a named set beside the default one: folders
            `<name>-<L>-<set>`, `evaluation-<set>.json` and `training_metrics-<set>.jsonl` (the 2020
            recipe's rerun ships as set `reference`). README's results block describes the default set
            only, so `readme` is refused with a set.

    Returns:
        The figures of `evaluate_run`.
    """
    if model_set is not None and (readme or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", model_set)):
        raise LDMNISTError(
            f"--model-set {model_set!r}: give a short lowercase name (letters, digits, '-'), without --readme "
            "(README's results describe the default set)."
        )
    suffix = f"-{model_set}" if model_set else ""
    dest = Path(dest) if dest else PRETRAINED_DIR
    run_dir = Path(run_dir) if run_dir is not None else None
    summary, models = _read_models(run_dir, dest, suffix, latent_dim)
    metrics = evaluate_run(models, mnist or load_mnist())
    weights = _write_models(models, metrics, summary, dest, suffix, run_dir is not None, cards_dir)
    evaluation = {"metrics": metrics, "training": summary, "models": weights}
    atomic_write_text(dest / f"evaluation{suffix}.json", json.dumps(evaluation, indent=2) + "\n")
    if run_dir is not None:
        shutil.copy(run_dir / "metrics.jsonl", dest / f"training_metrics{suffix}.jsonl")
    if readme:
        replace_block(readme, "results", results_markdown(evaluation))
    return metrics


def results_rows(evaluation: dict) -> list[tuple[str, str, str, str]]:
    """README's results table from `pretrained/evaluation.json`: (figure, ours, 2020 reference, bar) rows."""
    m, t = evaluation["metrics"], evaluation["training"]
    ref = reference_2020()
    pub = ref["published"]
    joint_2020 = next(r for r in pub["benchmark"] if r["key"] == "reference_middle")
    below = f"std < {m['informative_std']}"
    a = t["args"]
    return [
        (
            "class VAE: class reconstructed from a sampled latent (one draw)",
            f"{100 * m['class_vae_accuracy']:.2f} %",
            f"{100 * pub['class_vae_accuracy']:.2f} %",
            "",
        ),
        (
            f"class VAE: the same, mean +- std of {m['class_vae_accuracy_draws']} draws",
            f"{100 * m['class_vae_accuracy_mean']:.2f} % +- {100 * m['class_vae_accuracy_std']:.2f} %",
            "",
            f">= {100 * QUALITY_BAR['class_vae_accuracy_mean']:.2f} %",
        ),
        (
            "middle layers: image encoder -> middle layers -> class decoder accuracy",
            f"{m['middle_layers_accuracy']:.4f}",
            f"{pub['middle_layers_accuracy']:.4f}",
            f">= {QUALITY_BAR['middle_layers_accuracy']}",
        ),
        (
            "middle layers: MSE of its output vs sampled class latents",
            f"{m['middle_layers_test_mse']:.4f}",
            f"{joint_2020['mse']:.4f} (on its dataset)",
            "",
        ),
        (
            "image VAE: test BCE (mean over pixels) / KL term",
            f"{m['image_vae_test_bce']:.4f} / {m['image_vae_test_kl']:.4f}",
            "",
            "",
        ),
        (
            f"image latent components with {below} (train set)",
            str(m["x_informative_components"]),
            str(ref["x_informative_components"]),
            f">= {QUALITY_BAR['informative_components']}",
        ),
        (
            f"class latent components with {below} (train set)",
            str(m["y_informative_components"]),
            str(ref["y_informative_components"]),
            "",
        ),
        (
            f"training loop time ({a['epochs']} epochs at batch {a['batch_size']}, {a['device']})",
            f"{t['train_seconds_this_session']:.0f} s",
            "about 6 h",
            "",
        ),
    ]


def results_markdown(evaluation: dict) -> str:
    """The shipped models' figures for README.md (`results_rows` as a Markdown table)."""
    lines = ["| shipped 32-d models, MNIST test set | ours | 2020 reference | bar |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in results_rows(evaluation)]
    return (
        "\n".join(lines)
        + "\n\nGenerated from `ldmnist_hf/pretrained/evaluation.json` by `ldmnist release` (without `--run` it "
        "re-evaluates the shipped models)."
    )
