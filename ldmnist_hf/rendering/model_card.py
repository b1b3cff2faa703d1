"""The model cards, with `model-index` results from `ldmnist release`'s evaluation (`templates/model_card.md`)."""

from __future__ import annotations

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..data.reference_2020 import reference_2020
from ..registry import KINDS
from .texts import CITATION, LICENSE, TEMPLATES, source_texts

# The card's `model-index` rows per model, with metric ids of the Hub (`mse`, `accuracy`): (task, metric
# type, metric name, key in `evaluate_run`'s figures). The image VAE's BCE and the accuracy's std across draws
# have no metric id: they stay in the card's table.
_EVAL_ROWS = {
    "image_vae": [],
    "class_vae": [
        (
            "feature-extraction",
            "accuracy",
            "reconstructed accuracy, mean over {draws} posterior draws",
            "class_vae_accuracy_mean",
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


# What the Hub offers for each model: only the middle layers map a vector to a vector (a regression task); a
# VAE's `pipeline_tag` would make the Hub print a `pipeline(...)` snippet that cannot run for custom code.
_PIPELINE_TAGS = {"image_vae": None, "class_vae": None, "middle_layers": "tabular-regression"}


def model_eval_results(
    kind: str, metrics: dict, source_url: str | None = None, src: dict | None = None
) -> list[EvalResult] | None:
    """The card's `model-index` entries (what the Hub shows as evaluation results), from `evaluate_run`;
    `src` (`texts.source_texts`) names the dataset evaluated on (MNIST's test set by default)."""
    src = src or source_texts({})
    draws = metrics["class_vae_accuracy_draws"]
    rows = [
        EvalResult(
            task_type=task,
            metric_type=mtype,
            metric_name=name.format(draws=draws),
            metric_value=metrics[key],
            dataset_type=src["hub"] or src["name"],
            dataset_name=src["title"],
            dataset_split="test",
            source_name=f"ldmnist release: evaluation on the {src['title']} test set" if source_url else None,
            source_url=source_url,
        )
        for task, mtype, name, key in _EVAL_ROWS[kind]
    ]
    return rows or None


def render_model_card(
    kind: str, config: dict, metrics: dict, summary: dict, repos: dict | None = None, model_set: str = "fast"
) -> str:
    """A model card from `evaluate_run`'s figures, with `model-index` results (`templates/model_card.md`).

    Args:
        kind (`str`): `"image_vae"`, `"class_vae"` or `"middle_layers"` (a key of `registry.KINDS`).
        config (`dict`), metrics (`dict`), summary (`dict`): the model's config, `evaluate_run`'s figures
            and the training run's summary.
        repos (`dict`, *optional*): Hub repository ids (`registry.repo_ids`) for a card published on the
            Hub; `None` for the shipped folders.
        model_set (`str`, defaults to `"fast"`): the shipped folder's model set, so that the card's snippet
            loads this folder.

    Returns:
        The card's text (YAML front matter + Markdown).
    """
    L = config["latent_dim"]
    shipped_name = KINDS[kind].folder(L, model_set)
    src = source_texts(summary)
    rows = _EVAL_ROWS[kind]
    data = ModelCardData(
        # the Hub reads `model_name` as the name of the `model-index`: only a card with results has one
        model_name=(repos[kind].split("/")[-1] if repos else f"ldmnist-{shipped_name}") if rows else None,
        license=LICENSE,
        library_name="transformers",
        pipeline_tag=_PIPELINE_TAGS[kind],
        # what it was trained on (a Hub dataset); the LD dataset it makes is linked in the text
        datasets=[src["hub"]] if src["hub"] else None,
        metrics=sorted({mtype for _, mtype, _, _ in rows}) or None,
        tags=["ldmnist", "vae", *([src["tag"]] if src["tag"] else []), "safetensors", "custom_code"],
        eval_results=model_eval_results(
            kind, metrics, f"https://huggingface.co/{repos[kind]}" if repos else None, src
        ),
    )
    ref = reference_2020()
    card = ModelCard.from_template(
        data,
        template_path=str(TEMPLATES / "model_card.md"),
        kind=kind,
        L=L,
        config=config,
        metrics=metrics,
        ref=ref,
        pub=ref["published"],
        run=summary["args"],
        train_seconds=summary["train_seconds_this_session"],
        first_epoch=summary.get("first_epoch_this_session", 1),
        shipped_name=shipped_name,
        repos=repos,
        citation=CITATION,
        src=src,
    )
    return str(card)
