import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT
import torch

from ldmnist_hf.build import dataset as B
from ldmnist_hf.build import datasets_builder as DB
from ldmnist_hf.data import read as R
from ldmnist_hf.data.statistics import INFORMATIVE_STD, latent_statistics
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.rendering import DATASET_CITATION as CITATION

LATENTS = ("x", "y", "x_mean", "x_std", "y_mean", "y_std")


@pytest.fixture(scope="module")
def ds(built):
    import datasets

    with (
        pytest.MonkeyPatch.context() as mp
    ):  # module scope: no `monkeypatch` fixture; restores what was there
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.chdir(built)
        return datasets.load_dataset("ldmnist")


def test_layout_and_card(built):
    folder = built / "ldmnist"
    assert sorted(p.name for p in (folder / "data").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00001.parquet",
    ]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: default" in card and "num_examples: 60000" in card
    assert "## Statistics" in card and "| 31 |" in card and "seed 0" in card
    assert not [p for p in built.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_load_dataset_offline(ds, mnist):
    assert {k: len(v) for k, v in ds.items()} == {"train": 60000, "test": 10000}
    for col in LATENTS:
        assert ds["train"].features[col].length == 32 and ds["train"].features[col].feature.dtype == "float32"
    assert ds["train"]["label"][:10] == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.array_equal(np.asarray(ds["test"]["label"][:]), mnist.test_labels)
    assert ds["test"][:3]["index"] == [0, 1, 2]


def test_class_decoder_recovers_labels(ds):
    from ldmnist_hf import load_pretrained

    (y,) = R.load_latents(ds, "test", columns=("y",))
    pred = load_pretrained("class-vae-32").predict(torch.tensor(y)).numpy()
    assert (pred == np.asarray(ds["test"]["label"][:])).mean() >= 0.995


def test_formats_and_fast_helper(ds, built):
    train = ds["train"].with_format("numpy")[:]
    assert train["x"].shape == (60000, 32) and train["x"].dtype == np.float32
    t = ds["test"].with_format("torch")[:]
    assert t["y"].shape == (10000, 32) and t["y"].dtype == torch.float32
    x, y, label = R.load_latents(ds, columns=("x", "y", "label"))
    assert np.array_equal(x, train["x"]) and np.array_equal(y, train["y"])
    assert label.shape == (60000,) and np.array_equal(label, train["label"])
    assert np.array_equal(np.load(built / "ldmnist" / "train_x.npy"), x)  # the reference's format
    # a shuffled view goes through datasets' own indexing
    (xs,) = R.load_latents(ds["train"].select([2, 0]), columns=("x",))
    assert np.array_equal(xs, x[[2, 0]])


def test_posterior_columns_are_consistent(ds):
    x, x_mean, x_std = R.load_latents(ds, "test", columns=("x", "x_mean", "x_std"))
    assert (x_std > 0).all()
    z = (x - x_mean) / x_std  # the noise that was drawn: standard normal
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


def test_same_seed_same_bytes_other_seed_other_draws(tmp_path, built, mnist):
    a = B.build_dataset(tmp_path / "a", seed=0)
    b = B.build_dataset(tmp_path / "b", seed=1)
    for split in ("train", "test"):
        name = f"data/{split}-00000-of-00001.parquet"
        assert (a / name).read_bytes() == (built / "ldmnist" / name).read_bytes()
    import datasets

    da = datasets.load_dataset(str(a), split="test")
    db = datasets.load_dataset(str(b), split="test")
    xa, ma = R.load_latents(da, columns=("x", "x_mean"))
    xb, mb = R.load_latents(db, columns=("x", "x_mean"))
    assert not np.array_equal(xa, xb) and np.array_equal(ma, mb)


def test_builder_class_matches_build(tmp_path, ds):
    """The `datasets` builder (script form) writes the same rows as `ldmnist build`."""
    builder = DB.LDMNIST(cache_dir=str(tmp_path / "cache"))
    builder.download_and_prepare()
    test = builder.as_dataset("test")
    assert test.features == ds["test"].features
    assert np.array_equal(
        R.load_latents(test, columns=("y",))[0], R.load_latents(ds, "test", columns=("y",))[0]
    )


def test_builder_code_works_after_the_builder_class_was_used(tmp_path, built, mnist):
    """Instantiating `LDMNIST` makes datasets patch the module that defines it for streaming (its `Path`,
    `open`, `os.path`...). That module holds the class alone, so the build and the readers keep plain
    pathlib: a `PosixPath` still reads, verifies and builds."""
    DB.LDMNIST(cache_dir=str(tmp_path / "cache"))
    assert getattr(DB, "_patched_for_streaming", None)  # what makes the separate module necessary
    for module in (B, R):
        assert module.Path is Path and not getattr(module, "_patched_for_streaming", None)
    folder = Path(built / "ldmnist")
    assert R.verify_dataset(folder)["files"] == 6
    assert R.load_latents(folder, "test", columns=("x",))[0].shape == (10000, 32)
    out = B.build_dataset(tmp_path / "again", mnist_source=mnist)
    name = "data/test-00000-of-00001.parquet"
    assert (out / name).read_bytes() == (folder / name).read_bytes()


def _bibtex(text: str) -> tuple[str, dict]:
    head, *fields, end = text.strip().splitlines()
    assert end == "}"
    return head, dict(re.fullmatch(r"\s*(\w+)\s*=\s*\{(.*)\},?", f).groups() for f in fields)


def test_metric_cites_the_dataset_entry():
    """The metric file keeps its own `_CITATION` (it is uploaded alone as a Space): the dataset's entry
    without the dataset's `note`."""
    from ldmnist_hf import METRIC_PATH

    tree = ast.parse((Path(METRIC_PATH) / "ldmnist.py").read_text())
    (metric,) = [
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and [t.id for t in n.targets] == ["_CITATION"]
    ]
    head, fields = _bibtex(CITATION)
    assert fields["note"] and _bibtex(metric) == (head, {k: v for k, v in fields.items() if k != "note"})


def test_statistics_count_informative_components():
    x = np.array([[0.0, 0.0], [1.0, 2.0]])  # component std 0.5 and 1.0
    stats = latent_statistics(x, x + 1)
    assert stats["x"]["informative_components"] == 1 and stats["y"]["informative_std"] == INFORMATIVE_STD
    assert stats["x"]["component_std"] == [0.5, 1.0] and stats["y"]["mean"] == 1.75


def test_errors(tmp_path, built):
    from ldmnist_hf import ClassVAE, ClassVAEConfig

    with pytest.raises(LDMNISTError, match="already exists; pass `overwrite=True`"):
        B.build_dataset(built / "ldmnist")
    small = tmp_path / "class16"
    ClassVAE(ClassVAEConfig(latent_dim=16)).save_pretrained(small)
    with pytest.raises(LDMNISTError, match="latent size 32 but the class VAE has 16"):
        B.build_dataset(tmp_path / "out", class_vae=str(small))
    with pytest.raises(LDMNISTError, match="No model .*no such folder"):
        B.build_dataset(tmp_path / "out", image_vae=str(tmp_path / "missing"))
    with pytest.raises(LDMNISTError, match="holds a ClassVAE, expected a ImageVAE"):
        B.build_dataset(tmp_path / "out", image_vae=str(small))
    with pytest.raises(ValueError, match="BuilderConfig 'other' not found"):
        DB.LDMNIST(config_name="other", cache_dir=str(tmp_path / "c"))
    assert not (tmp_path / "out").exists()
    proc = subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", "build"], cwd=built, capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("ldmnist build: error: ldmnist already exists")


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def encode_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # after the train split was written
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = B.encode_split
    monkeypatch.setattr(B, "encode_split", encode_then_fail)
    with pytest.raises(KeyboardInterrupt):
        B.build_dataset(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_loading_script_regenerates_the_same_files(tmp_path, built):
    script = ROOT / "loading_script" / "ldmnist.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--output-dir", str(tmp_path / "ld")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    name = "data/train-00000-of-00001.parquet"
    assert (tmp_path / "ld" / name).read_bytes() == (built / "ldmnist" / name).read_bytes()
