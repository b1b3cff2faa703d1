"""The shipped weights, their cards and README's figures agree with a fresh evaluation."""

import json
from pathlib import Path

import pytest

from ldmnist_hf import load_pretrained
from ldmnist_hf.evaluation import evaluate_run
from ldmnist_hf.loading import PRETRAINED, PRETRAINED_DIR
from ldmnist_hf.release import render_model_card, results_markdown
from ldmnist_hf.training import JointModels
from ldmnist_hf.training_args import MODEL_DIRS, QUALITY_BAR

ROOT = Path(__file__).resolve().parents[1]
EVALUATION = json.loads((PRETRAINED_DIR / "evaluation.json").read_text())


@pytest.fixture(scope="module")
def shipped():
    return JointModels(*(load_pretrained(n) for n in ("image-vae-32", "class-vae-32", "middle-layers-32")))


def test_shipped_models_meet_the_bars(shipped, mnist):
    m = evaluate_run(shipped, mnist)
    for key, value in EVALUATION["metrics"].items():
        assert m[key] == pytest.approx(value, abs=1e-6), key  # the recorded figures are current
    assert m["class_vae_accuracy_mean"] >= QUALITY_BAR["class_vae_accuracy_mean"]
    assert m["middle_layers_accuracy"] >= QUALITY_BAR["middle_layers_accuracy"]
    assert m["x_informative_components"] >= QUALITY_BAR["informative_components"]


def test_cards_and_readme_are_generated_from_the_evaluation(shipped):
    for kind, name in MODEL_DIRS.items():
        model = getattr(shipped, kind)
        folder = f"{name}-{model.config.latent_dim}"
        card = render_model_card(kind, model.config.to_dict(), EVALUATION["metrics"], EVALUATION["training"])
        assert (PRETRAINED_DIR / folder / "README.md").read_text() == card
        assert (ROOT / "model_cards" / f"{folder}.md").read_text() == card
    assert results_markdown(EVALUATION) in (ROOT / "README.md").read_text()


def test_metric_card_copy_is_current():
    from ldmnist_hf import METRIC_PATH

    assert (ROOT / "model_cards" / "metric-ldmnist.md").read_text() == (
        Path(METRIC_PATH) / "README.md"
    ).read_text()


def test_model_index_parses_back_to_the_evaluation():
    """The Hub reads `model-index` from the card: each figure there is the evaluation's, not a typed one."""
    from huggingface_hub import ModelCard

    m = EVALUATION["metrics"]
    expected = {
        "image-vae-32": {"bce": m["image_vae_test_bce"]},
        "class-vae-32": {
            "accuracy": m["class_vae_accuracy_mean"],
            "accuracy_std": m["class_vae_accuracy_std"],
        },
        "middle-layers-32": {"mse": m["middle_layers_test_mse"], "accuracy": m["middle_layers_accuracy"]},
    }
    assert m["class_vae_accuracy_draws"] >= 20
    for folder, metrics in expected.items():
        results = ModelCard.load(PRETRAINED_DIR / folder / "README.md").data.eval_results
        assert {r.metric_type: r.metric_value for r in results} == metrics
        assert {(r.dataset_type, r.dataset_split) for r in results} == {("ylecun/mnist", "test")}


def test_release_of_a_run_writes_folders_without_code(tmp_path, small_mnist):
    """Released folders hold weights, config and card; only `ldmnist export` adds the modeling code."""
    from ldmnist_hf.release import release
    from ldmnist_hf.trainer import train
    from ldmnist_hf.training_args import LDMNISTTrainingArguments

    train(
        LDMNISTTrainingArguments(output_dir=str(tmp_path / "run"), epochs=1, device="cpu"), mnist=small_mnist
    )
    release(tmp_path / "run", dest=tmp_path / "models", mnist=small_mnist)
    for name in ("image-vae-32", "class-vae-32", "middle-layers-32"):
        folder = tmp_path / "models" / name
        assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
        assert "auto_map" not in json.loads((folder / "config.json").read_text())
        assert type(load_pretrained(folder)) is PRETRAINED[name]
    from ldmnist_hf import ClassVAE

    assert ClassVAE._auto_class == "AutoModel"  # restored after the save


def test_release_of_a_named_set_sits_beside_the_default(tmp_path, small_mnist):
    """`--model-set reference` writes `<name>-32-reference` folders and `evaluation-reference.json`, leaves
    the default set alone, and re-evaluates the set from its own files."""
    from ldmnist_hf.release import release
    from ldmnist_hf.trainer import train
    from ldmnist_hf.training_args import LDMNISTTrainingArguments
    from ldmnist_hf.utils import LDMNISTError

    train(
        LDMNISTTrainingArguments(output_dir=str(tmp_path / "run"), epochs=1, device="cpu"), mnist=small_mnist
    )
    dest = tmp_path / "models"
    release(tmp_path / "run", dest=dest, mnist=small_mnist, model_set="reference")
    assert sorted(p.name for p in dest.iterdir()) == [
        "class-vae-32-reference",
        "evaluation-reference.json",
        "image-vae-32-reference",
        "middle-layers-32-reference",
        "training_metrics-reference.jsonl",
    ]
    recorded = json.loads((dest / "evaluation-reference.json").read_text())
    assert recorded["models"]["class_vae"]["folder"] == "class-vae-32-reference"
    again = release(dest=dest, mnist=small_mnist, model_set="reference")  # re-evaluate, weights untouched
    assert again["class_vae_accuracy_mean"] == recorded["metrics"]["class_vae_accuracy_mean"]
    for bad in ("Reference!", "../x"):
        with pytest.raises(LDMNISTError, match="short lowercase name"):
            release(tmp_path / "run", dest=dest, mnist=small_mnist, model_set=bad)


@pytest.mark.parametrize(
    "recorded, text",
    [
        (
            {"layers": "inference"},
            "in `eval` mode during training (Dropout off, BatchNorm on fixed statistics",
        ),
        ({"layers": "active"}, "in `train` mode during training (as the 2020 reference text describes)"),
        (
            {"dropout_batchnorm": "train"},
            "in `train` mode during training (as the 2020 reference text describes)",
        ),
    ],
)
def test_card_states_the_dropout_batchnorm_mode_of_old_and_new_runs(recorded, text):
    """The template names the mode the run trained with, from today's field or an older run's `layers`."""
    args = {k: v for k, v in EVALUATION["training"]["args"].items() if k != "layers"}
    summary = {**EVALUATION["training"], "args": {**args, **recorded}}
    config = json.loads((PRETRAINED_DIR / "class-vae-32" / "config.json").read_text())
    card = render_model_card("class_vae", config, EVALUATION["metrics"], summary)
    assert f"Dropout and BatchNorm {text}" in card


def test_shipped_cards_load_their_own_folder():
    """Each shipped card's snippet names its own folder (the reference set's cards once named the default's)."""
    from ldmnist_hf.loading import PRETRAINED_DIR

    cards = sorted(PRETRAINED_DIR.glob("*/README.md"))
    assert len(cards) == 6
    for card in cards:
        assert f'pretrained_path("{card.parent.name}")' in card.read_text(), card


def test_cards_from_an_older_release_keep_their_component_counts():
    """Evaluations written before the keys were renamed still give complete cards (not blank cells)."""
    import json

    from ldmnist_hf.loading import PRETRAINED_DIR
    from ldmnist_hf.release import render_model_card
    from ldmnist_hf.training_args import with_older_metrics

    evaluation = json.loads((PRETRAINED_DIR / "evaluation.json").read_text())
    old = dict(evaluation["metrics"])
    for side in ("x", "y"):
        old[f"{side}_components_std_below_0.8"] = old.pop(f"{side}_informative_components")
    del old["informative_std"]
    assert with_older_metrics(old) == evaluation["metrics"]
    config = json.loads((PRETRAINED_DIR / "image-vae-32" / "config.json").read_text())
    card = render_model_card("image_vae", config, with_older_metrics(old), evaluation["training"])
    assert "std < 0.8 over the train set (informative ones) | 10 of 32" in card
