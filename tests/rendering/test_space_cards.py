"""The Spaces' cards (rendering/space_cards.py), as the export writes them: the Hub's Spaces reference, evaluate's
metric-card template."""

import re
from pathlib import Path

from conftest import IDS

import ldmnist_hf
from ldmnist_hf.rendering import render_metric_card

# The keys of the Hub's Spaces configuration reference (hub-docs spaces-config-reference.md).
SPACE_KEYS = {
    "title",
    "emoji",
    "colorFrom",
    "colorTo",
    "sdk",
    "python_version",
    "sdk_version",
    "suggested_hardware",
    "suggested_storage",
    "app_file",
    "app_port",
    "base_path",
    "fullWidth",
    "header",
    "short_description",
    "models",
    "datasets",
    "tags",
    "thumbnail",
    "pinned",
    "hf_oauth",
    "hf_oauth_scopes",
    "hf_oauth_expiration_minutes",
    "hf_oauth_authorized_org",
    "disable_embedding",
    "startup_duration_timeout",
    "custom_headers",
    "preload_from_hub",
    "license",
}


def _front_matter(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text().split("---\n")[1])


def test_space_cards_follow_the_spaces_reference(exported):
    from huggingface_hub import SpaceCard

    from ldmnist_hf.rendering import SPACE_PYTHON, SPACE_SDK_VERSION

    _, folders = exported
    for space, models, datasets in (
        ("metric", [IDS["class_vae"], IDS["class_vae16"]], [IDS["dataset"]]),  # every config's class VAE
        ("explorer", [IDS["image_vae"], IDS["class_vae"]], [IDS["dataset"], "ylecun/mnist"]),
    ):
        front = _front_matter(folders[space] / "README.md")
        assert set(front) <= SPACE_KEYS, set(front) - SPACE_KEYS
        data = SpaceCard.load(folders[space] / "README.md").data
        assert (data.sdk, data.sdk_version, data.app_file) == ("gradio", SPACE_SDK_VERSION, "app.py")
        assert str(front["python_version"]) == SPACE_PYTHON and front["license"] == "mit"
        assert front["models"] == models and front["datasets"] == datasets
        assert 0 < len(front["short_description"]) <= 60


def test_metric_card_follows_evaluate_template(exported):
    _, folders = exported
    text = (folders["metric"] / "README.md").read_text()
    front = _front_matter(folders["metric"] / "README.md")
    assert front["sdk"] == "gradio" and front["app_file"] == "app.py" and "evaluate" in front["tags"]
    sections = re.findall(r"^#+ (.+)$", text, flags=re.M)
    for section in (
        "Metric Description",
        "How to Use",
        "Inputs",
        "Output Values",
        "Examples",
        "Limitations and Bias",
        "Citation",
    ):
        assert section in sections
    assert "lower is better" in text and "higher is better" in text
    # the package's own copy is the same template, rendered for the package
    assert (Path(ldmnist_hf.METRIC_PATH) / "README.md").read_text() == render_metric_card()
