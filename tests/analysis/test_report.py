"""`ldmnist report` (analysis/report.py): the figures, the statistics and the component importance."""

import json

import numpy as np
import pytest
from helpers import TRAIN_FILE, bad_input_test, nan_in

from ldmnist_hf import ImageVAE
from ldmnist_hf.analysis.report import component_importance, count_important, make_report
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.errors import LDMNISTError

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


def test_bad_components(small_dataset, tmp_path):
    folder, mnist = small_dataset
    with pytest.raises(LDMNISTError, match="two different components in 0..5"):
        make_report(folder, tmp_path / "r", components=(1, 6), mnist=mnist)
    with pytest.raises(LDMNISTError, match="not a folder written by `ldmnist build`"):
        make_report(tmp_path, tmp_path / "r")


# ----------------------------------------------------------------------------- bad input


def _readme(c, text):
    path = c.tmp / "README.md"
    path.write_text(text)
    return path


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "report-flipped-byte",
        lambda c: make_report(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1], mnist=c.mnist),
        LDMNISTError,
        "has changed since the build",
    ),
    (
        "report-out-is-file",
        lambda c: make_report(c.ds, c.file(), components=(1, 2), mnist=c.mnist),
        LDMNISTError,
        "is not a folder",
    ),
    (
        "report-out-foreign",
        lambda c: make_report(c.ds, c.thesis(), components=(1, 2), mnist=c.mnist),
        LDMNISTError,
        "did not write",
    ),
    (
        "report-out-is-dataset",
        lambda c: make_report(c.ds, c.ds, components=(1, 2), mnist=c.mnist),
        LDMNISTError,
        "did not write",
    ),
    (
        "report-readme-missing",
        lambda c: make_report(c.ds, components=(1, 2), readme=c.tmp / "README.md"),
        LDMNISTError,
        "README.md does not exist",
    ),
    (
        "report-readme-no-block",
        lambda c: make_report(c.ds, components=(1, 2), readme=_readme(c, "# hi\n")),
        LDMNISTError,
        "has no <!-- report:start -->",
    ),
    (
        "report-nan-in-x",
        lambda c: make_report(c.resigned(nan_in("x")), c.tmp / "rep", components=(1, 4), mnist=c.mnist),
        LDMNISTError,
        "column 'x' holds NaN or infinite values",
    ),
    (
        "report-same-component-twice",
        lambda c: make_report(c.ds, c.tmp / "rep", components=(1, 1), mnist=c.mnist),
        LDMNISTError,
        "give two different components in 0..5",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
