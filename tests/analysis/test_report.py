import json

import numpy as np
import pytest

from ldmnist_hf import ImageVAE
from ldmnist_hf.analysis.report import component_importance, count_important, make_report
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.data.statistics import latent_statistics
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.rendering import printed_form

FIGURES = [
    "hist_train_x.png",
    "hist_train_y.png",
    "importance.png",
    "manifold_1_4.png",
    "manifold_overview.png",
    "reconstructions.png",
]


@pytest.fixture
def small_dataset(tiny, copy_of):
    """A copy of the tiny world's dataset (its image VAE's decoder reads components 1 and 4 only)."""
    return copy_of(tiny.ds), tiny.mnist


def test_importance_finds_the_components_that_matter(tiny):
    iv = ImageVAE.from_pretrained(tiny.iv).eval()
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
    with pytest.raises(LDMNISTError, match="two different components in 0..5"):
        make_report(folder, tmp_path / "r", components=(1, 6), mnist=mnist)
    with pytest.raises(LDMNISTError, match="not a folder written by `ldmnist build`"):
        make_report(tmp_path, tmp_path / "r")
