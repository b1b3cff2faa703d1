"""The Spaces' cards: the metric Space (evaluate's metric-card layout) and the explorer."""

from __future__ import annotations

from huggingface_hub import SpaceCard, SpaceCardData

from ..data.reference_2020 import reference_2020
from ..data.statistics import INFORMATIVE_STD
from ..registry import DATASET_REPO
from .texts import CITATION, DATASET_CITATION, LICENSE, TEMPLATES, source_texts

SPACE_SDK_VERSION = "6.31.0"  # the Gradio the Spaces run on; their requirements.txt are pinned beside it


SPACE_PYTHON = "3.11"
SHORT_DESCRIPTION_MAX = 60  # the Hub's limit on a Space's `short_description`


def _short(text: str, fallback: str) -> str:
    """`text` when it fits the Hub's limit on a Space's short description, else `fallback` (shorter)."""
    return text if len(text) <= SHORT_DESCRIPTION_MAX else fallback[:SHORT_DESCRIPTION_MAX]


def space_card_data(title: str, short: str, models: list[str], datasets: list[str], tags) -> SpaceCardData:
    """A Space's front matter, with the keys of the Hub's Spaces configuration reference only."""
    return SpaceCardData(
        title=title,
        emoji="🔢",
        colorFrom="blue",
        colorTo="green",
        sdk="gradio",
        sdk_version=SPACE_SDK_VERSION,
        python_version=SPACE_PYTHON,
        app_file="app.py",
        pinned=False,
        license=LICENSE,
        short_description=short,
        models=models or None,
        datasets=datasets,
        tags=list(tags),
    )


def _metric_card_context(repos: dict | None) -> dict:
    """What differs between the Space's card (`repos` given: Hub ids) and the package's copy."""
    if repos is None:
        return {
            "dataset": DATASET_REPO,
            "class_vae_note": "here the shipped class VAE, through `ldmnist_hf.load_metric()`",
            "imports": "import ldmnist_hf",
            "load": "metric = ldmnist_hf.load_metric()  # class decoder: the shipped 32-d class VAE",
            "other": 'ldmnist_hf.load_metric(class_vae="path/or/hub-id")',
        }
    class_vae, metric = repos["class_vae"], repos["metric"]
    return {
        "dataset": repos["dataset"],
        "class_vae_note": f"by default the class VAE [{class_vae}](https://huggingface.co/{class_vae})",
        "imports": "import evaluate",
        "load": f'metric = evaluate.load("{metric}")  # class decoder: {class_vae}',
        "other": f'evaluate.load("{metric}", class_vae="path/or/hub-id")',
    }


def render_metric_card(
    repos: dict | None = None,
    class_vaes: list[str] | None = None,
    screenshot: str | None = None,
    src: dict | None = None,
) -> str:
    """The metric card (evaluate's metric-card layout) for the Space (`repos` given) or the package's copy.

    Args:
        repos (`dict`, *optional*): the default config's Hub ids (`registry.repo_ids`); without them, the
            card of the package's metric (`ldmnist_hf/metrics/ldmnist/README.md`).
        class_vaes (`list[str]`, *optional*): every config's class VAE repository (the Space's `models:`).
        screenshot (`str`, *optional*): the Space's screenshot, relative to the card.
        src (`dict`, *optional*): the source dataset's texts (`texts.source_texts`); default MNIST's.

    Returns:
        `str`: the card, front matter and body, rendered from `templates/metric_card.md`.
    """
    src = src or source_texts({})
    context = _metric_card_context(repos)
    tags = ("evaluate", "metric", "ldmnist", *([] if src["mnist"] or not src["tag"] else [src["tag"]]))
    data = space_card_data(
        src["ld"],
        _short(
            f"Score {src['ld']} predictions: MSE and reconstructed accuracy", f"Score {src['ld']} predictions"
        ),
        class_vaes or ([repos["class_vae"]] if repos else []),
        [context["dataset"]],
        tags,
    )
    card = SpaceCard.from_template(
        data,
        template_path=str(TEMPLATES / "metric_card.md"),
        citation=DATASET_CITATION,
        published=reference_2020()["published"]["benchmark"],
        space=repos is not None,
        screenshot=screenshot,
        src=src,
        **context,
    )
    return str(card)


def render_explorer_card(repos: dict, screenshot: str | None = None, src: dict | None = None) -> str:
    """The explorer Space's card: what it shows, where its models and data come from (`src`: the source
    dataset's texts, `texts.source_texts`; default MNIST's)."""
    src = src or source_texts({})
    what = f"What each latent component of {src['ld']} does" + (" to a digit" if src["mnist"] else "")
    data = space_card_data(
        f"{src['ld']} explorer",
        _short(what, f"{src['ld']} explorer"),
        [repos["image_vae"], repos["class_vae"]],
        [repos["dataset"], *([src["hub"]] if src["hub"] else [])],
        ("ldmnist", "vae", *([src["tag"]] if src["tag"] else []), "latent-space"),
    )
    card = SpaceCard.from_template(
        data,
        template_path=str(TEMPLATES / "explorer_card.md"),
        repos=repos,
        screenshot=screenshot,
        citation=CITATION,
        informative_std=INFORMATIVE_STD,
        src=src,
    )
    return str(card)
