import json

import numpy as np
import pytest
import torch

from ldmnist_hf import ClassVAE, ClassVAEConfig, ImageVAE, ImageVAEConfig
from ldmnist_hf.builder import build_dataset, latent_statistics
from ldmnist_hf.readers import load_latents
from ldmnist_hf.report import component_importance, count_important, make_report, printed_form
from ldmnist_hf.utils import LDMNISTError

FIGURES = [
    "hist_train_x.png",
    "hist_train_y.png",
    "importance.png",
    "manifold_1_4.png",
    "manifold_overview.png",
    "reconstructions.png",
]


@pytest.fixture(scope="module")
def small_models(tmp_path_factory):
    """A 6-d pair whose decoder only reads components 1 and 4."""
    torch.manual_seed(0)
    iv = ImageVAE(
        ImageVAEConfig(latent_dim=6, encoder_hidden_sizes=[16, 8], decoder_hidden_sizes=[8, 16])
    ).eval()
    with torch.no_grad():
        first = iv.decoder[0].dense  # the first Dense of the decoder
        mask = torch.zeros(6)
        mask[[1, 4]] = 1
        first.weight.mul_(mask)  # (out, in): only inputs 1 and 4 reach the image
    cv = ClassVAE(ClassVAEConfig(latent_dim=6)).eval()
    folder = tmp_path_factory.mktemp("models")
    iv.save_pretrained(folder / "iv")
    cv.save_pretrained(folder / "cv")
    return folder


@pytest.fixture(scope="module")
def small_dataset(small_models, tmp_path_factory):
    from ldmnist_hf.mnist import MNIST

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    labels = np.arange(60) % 10
    mnist = MNIST(images[:40], labels[:40], images[40:], labels[40:], source="test")
    out = tmp_path_factory.mktemp("ds") / "small"
    build_dataset(out, str(small_models / "iv"), str(small_models / "cv"), mnist_source=mnist)
    return out, mnist


def test_importance_finds_the_components_that_matter(small_models):
    iv = ImageVAE.from_pretrained(small_models / "iv").eval()
    imp = component_importance(iv, np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32))
    n, threshold = count_important(imp)
    assert n == 2 and set(np.flatnonzero(imp >= threshold)) == {1, 4}
    assert imp[[0, 2, 3, 5]].max() == 0


def test_report_files_and_numbers(small_dataset, tmp_path):
    folder, mnist = small_dataset
    result = make_report(folder, tmp_path / "rep", components=(1, 4), mnist=mnist, n_importance=20)
    assert (
        "Run `ldmnist report" in (folder / "README.md").read_text()
    )  # figures outside the folder: not linked
    names = sorted(p.name for p in (tmp_path / "rep").iterdir())
    for f in FIGURES + ["statistics.json", "statistics.md", "importance.json", "report.md"]:
        assert f in names, f
    for f in FIGURES:
        assert (tmp_path / "rep" / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import datasets

    x, y = load_latents(datasets.load_dataset(str(folder), split="train"))
    stats = json.loads((tmp_path / "rep" / "statistics.json").read_text())["ours"]
    assert stats["x"]["mean"] == pytest.approx(float(x.astype(np.float64).mean()))
    assert stats["y"]["std"] == pytest.approx(float(y.astype(np.float64).std()))
    assert np.allclose(stats["x"]["component_std"], x.astype(np.float64).std(0))
    assert np.allclose(stats["y"]["component_mean"], y.astype(np.float64).mean(0))
    assert result["importance"]["important_components"] == 2
    # the threshold is stored beside the count that used it, not baked into the key
    saved = json.loads((tmp_path / "rep" / "importance.json").read_text())
    assert saved["informative_std"] == 0.8 and "important_and_informative" in saved
    assert 0 <= saved["important_and_informative"] <= 2
    make_report(folder, components=(1, 4), mnist=mnist, n_importance=20)
    card = (folder / "README.md").read_text()
    assert "![importance](report/importance.png)" in card and (folder / "report" / "importance.png").exists()
    assert "Run `ldmnist report" not in card


def test_printed_form_matches_the_reference_layout():
    stats = latent_statistics(np.zeros((4, 2)) + [[1.0, 2.0]], np.ones((4, 2)))
    text = printed_form(stats).splitlines()
    assert text[0] == "train_x mean and std: 1.5 0.5"
    assert text[2] == "train_x mean and std of 0-th component: 1 0"
    assert text[3] == "train_y mean and std of 0-th component: 1 0"


def test_bad_components(small_dataset, tmp_path):
    folder, mnist = small_dataset
    with pytest.raises(LDMNISTError, match="must be in 0..5"):
        make_report(folder, tmp_path / "r", components=(1, 6), mnist=mnist)
    with pytest.raises(LDMNISTError, match="not a folder written by `ldmnist build`"):
        make_report(tmp_path, tmp_path / "r")
