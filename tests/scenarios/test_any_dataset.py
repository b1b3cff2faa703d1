"""The LD version of any image-classification dataset, end to end, from a local folder in the Hub's layout:
scikit-learn's real 8x8 digits (train, release, build, metric, load_dataset, report) and small RGB images."""

from __future__ import annotations

import json

import datasets
import evaluate
import numpy as np
import pytest
from helpers import rgb_images, write_classification_folder, write_digits

import ldmnist_hf
from ldmnist_hf.build.dataset import build_dataset
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
from ldmnist_hf.training.release import release
from ldmnist_hf.training.trainer import train


def _train_and_release(source, root, epochs=30):
    args = LDMNISTTrainingArguments(
        output_dir=str(root / "run"),
        source=str(source),
        latent_dim=8,
        epochs=epochs,
        batch_size=64,
        device="cpu",
        checkpoint_every=epochs,
    )
    train(args, progress=False)
    metrics = release(root / "run", dest=root / "models")
    return metrics, root / "models"


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    root = tmp_path_factory.mktemp("ld-digits")
    source = write_digits(root / "digits")
    metrics, models = _train_and_release(source, root)
    out = build_dataset(
        root / "ld-digits",
        image_vae=str(models / "image-vae-8"),
        class_vae=str(models / "class-vae-8"),
        source=str(source),
    )
    return source, metrics, models, out


def test_digits_models_fit_the_images_and_name_the_dataset(digits):
    source, metrics, models, _ = digits
    config = json.loads((models / "image-vae-8" / "config.json").read_text())
    assert config["image_size"] == 8 and config.get("num_channels", 1) == 1
    assert config["source_dataset"] == source.name
    cv = json.loads((models / "class-vae-8" / "config.json").read_text())
    assert cv["num_classes"] == 10 and cv["id2label"]["9"] == "9"
    # a local folder is no Hub dataset: the cards name none in `datasets:` (a Hub source's id would be there)
    card = (models / "image-vae-8" / "README.md").read_text()
    assert "\ndatasets:" not in card.split("\n---", 1)[0] and "# LD-digits image VAE" in card
    # A short run on 1347 real digits still learns the task (chance is 0.1).
    assert metrics["middle_layers_accuracy"] > 0.6
    assert 0 < metrics["pixel_mlp_accuracy"] <= 1


def test_digits_build_loads_and_scores(digits):
    source, _, models, out = digits
    record = json.loads((out / "ldmnist_build.json").read_text())
    assert record["source"] == str(source) and record["n_train"] == 1347 and record["n_test"] == 450
    assert sorted(record["source_provenance"]["files"]) == [
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
    ]
    ds = datasets.load_dataset(str(out))
    assert ds["test"].num_rows == 450 and len(ds["test"][0]["x"]) == 8
    assert ds["test"].features["label"].names == [str(i) for i in range(10)]
    # The labels are the source's, in its order.
    src = datasets.load_dataset(str(source))
    assert ds["test"]["label"] == src["test"]["label"]
    # The metric with this dataset's class decoder: the true class latents reconstruct the true classes.
    metric = evaluate.load(ldmnist_hf.METRIC_PATH, class_vae=str(models / "class-vae-8"))
    y_mean = np.asarray(ds["test"]["y_mean"])
    scores = metric.compute(
        predictions=y_mean, references=np.asarray(ds["test"]["y"]), labels=ds["test"]["label"]
    )
    assert scores["reconstructed_accuracy"] > 0.99 and scores["mse"] > 0


def test_rgb_images_train_and_build(tmp_path):
    splits = {"train": rgb_images(120), "test": rgb_images(30, seed=1)}
    source = write_classification_folder(tmp_path / "rgb", splits, ["red", "green", "blue"])
    metrics, models = _train_and_release(source, tmp_path, epochs=20)
    config = json.loads((models / "image-vae-8" / "config.json").read_text())
    assert config["num_channels"] == 3 and config["image_size"] == [6, 8]
    out = build_dataset(
        tmp_path / "ld-rgb", str(models / "image-vae-8"), str(models / "class-vae-8"), source=str(source)
    )
    ds = datasets.load_dataset(str(out))
    assert ds["train"].features["label"].names == ["red", "green", "blue"]
    assert ds["train"].num_rows == 120
    # The report's figures show colour images: the source's test images beside their decoded latents.
    from PIL import Image

    from ldmnist_hf.analysis.report import make_report

    make_report(out, components=(0, 1), n_importance=50)
    figure = Image.open(out / "report" / "reconstructions.png").convert("RGB")
    pixels = np.asarray(figure, np.int16)
    assert (np.abs(pixels[..., 0] - pixels[..., 1]) > 60).any()  # colour, not grey


def test_digits_report_draws_8x8_images(digits):
    from ldmnist_hf.analysis.report import make_report

    _, _, _, out = digits
    result = make_report(out, components=(0, 1), n_importance=50)
    assert (out / "report" / "manifold_overview.png").is_file()
    assert (out / "report" / "reconstructions.png").is_file()
    assert result["importance"]["threshold"] > 0


def test_vaes_of_another_dataset_are_refused(digits, tmp_path):
    source, _, models, _ = digits
    with pytest.raises(LDMNISTError, match="takes 1x8x8 images, mnist's are 1x28x28"):
        build_dataset(
            tmp_path / "x", str(models / "image-vae-8"), str(models / "class-vae-8"), source="mnist"
        )
    with pytest.raises(LDMNISTError, match="No shipped VAEs were trained on"):
        build_dataset(tmp_path / "y", source=str(source))
