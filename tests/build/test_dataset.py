"""`ldmnist build` (build/dataset.py): the real build's folder and rows, its errors, what it never deletes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import TRAIN_FILE, bad_input_test

from ldmnist_hf import ClassVAE, ClassVAEConfig, ImageVAE
from ldmnist_hf.build import dataset as B
from ldmnist_hf.build import datasets_builder as DB
from ldmnist_hf.data import read as R
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.pretrained.loading import PRETRAINED_DIR

LATENTS = ("x", "y", "x_mean", "x_std", "y_mean", "y_std")


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


def test_built_dataset_records_the_weights_it_was_made_from(built):
    from ldmnist_hf.data.read import read_build_info
    from ldmnist_hf.files.paths import sha256_file

    info = read_build_info(built / "ldmnist")
    for kind, name in (("image_vae", "image-vae-32"), ("class_vae", "class-vae-32")):
        assert info[f"{kind}_sha256"] == sha256_file(PRETRAINED_DIR / name / "model.safetensors")


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


def test_a_build_of_another_source_dataset_says_which(tmp_path, tiny, fashion_dir, fashion_mnist, empty_cache):
    """Fashion-MNIST with a model pair given (the tiny world's; its own are not trained yet): the record adds
    `source`, the card names Fashion-MNIST, the rows are its labels; a build of MNIST records no `source`."""
    out = B.build_dataset(tmp_path / "ld-fashion-mnist", tiny.iv, tiny.cv, source="fashion-mnist", mnist_source="debian")
    record = json.loads((out / "ldmnist_build.json").read_text())
    assert list(record)[:8] == [
        "latent_dim",
        "seed",
        "n_train",
        "n_test",
        "source",
        "classes",
        "mnist_source",
        "mnist_verified",
    ]
    assert record["classes"][9] == "Ankle boot"
    assert (record["source"], record["mnist_source"]) == ("fashion-mnist", f"debian:{fashion_dir}")
    assert record["mnist_verified"] is True and (record["n_train"], record["n_test"]) == (60000, 10000)
    card = (out / "README.md").read_text()
    assert "source_datasets:\n- zalando-datasets/fashion_mnist\n" in card
    assert "the 70000 Fashion-MNIST images ([zalando-datasets/fashion_mnist]" in card
    assert np.array_equal(R.load_latents(out, "test", ["label"])[0], fashion_mnist.test_labels)
    assert "# LD-Fashion-MNIST: Low-dimensional Fashion-MNIST" in card and "T-shirt/top" in card
    assert R.verify_dataset(out)["files"] == 2
    assert "source" not in json.loads((tiny.ds / "ldmnist_build.json").read_text())


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def encode_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # after the train split was written
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = B.encode_batches  # called once per split
    monkeypatch.setattr(B, "encode_batches", encode_then_fail)
    with pytest.raises(KeyboardInterrupt):
        B.build_dataset(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- what a build never loses


def _parquet_x(folder):
    import pyarrow.parquet as pq

    col = pq.read_table(folder / TRAIN_FILE).column("x").combine_chunks()
    return col.flatten().to_numpy().reshape(len(col), -1)


def test_load_dataset_and_load_latents_return_what_is_on_disk(tmp_path, tiny_kw):
    """Item 1: a rebuild with another seed, and another folder with the same base name, are not served stale."""
    import datasets

    cache = str(tmp_path / "hf-cache")
    path = tmp_path / "a" / "ldmnist"
    B.build_dataset(path, seed=0, **tiny_kw)
    seed0 = datasets.load_dataset(str(path), split="train", cache_dir=cache).with_format("numpy")[:]["x"]
    assert np.array_equal(seed0, R.load_latents(path)[0])

    B.build_dataset(path, seed=1, overwrite=True, **tiny_kw)
    on_disk = _parquet_x(path)
    assert not np.array_equal(on_disk, seed0)
    again = datasets.load_dataset(str(path), split="train", cache_dir=cache).with_format("numpy")[:]["x"]
    assert np.array_equal(again, on_disk)  # was the seed-0 rows from the cache
    assert np.array_equal(R.load_latents(path)[0], on_disk)

    other = tmp_path / "b" / "ldmnist"  # same base name, other parent, other content
    B.build_dataset(other, seed=2, **tiny_kw)
    got = datasets.load_dataset(str(other), split="train", cache_dir=cache).with_format("numpy")[:]["x"]
    assert np.array_equal(got, _parquet_x(other)) and not np.array_equal(got, on_disk)

    # Same content, same cache entry: a byte-identical rebuild keeps the key.
    B.build_dataset(path, seed=1, overwrite=True, **tiny_kw)
    assert np.array_equal(
        datasets.load_dataset(str(path), split="train", cache_dir=cache)["x"][:1], on_disk[:1]
    )


def test_build_overwrite_never_deletes_what_it_did_not_write(tmp_path, tiny_kw):
    """Item 3: --overwrite deleted any folder; a file at the path left a .NAME.old-PID folder; killed builds' temporaries stayed."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(LDMNISTError, match="did not write"):
        B.build_dataset(mine, overwrite=True, **tiny_kw)
    assert (mine / "thesis.txt").read_text() == "years of work"

    afile = tmp_path / "afile"
    afile.write_text("keep")
    with pytest.raises(LDMNISTError, match="is not a folder"):
        B.build_dataset(afile, overwrite=True, **tiny_kw)
    assert afile.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "mine"]

    # A killed build's temporary folder (a PID that is not running) goes; a live process's stays.
    dead = 2**22 + 12345  # above the default pid_max, so no process has it
    stale = tmp_path / f".out.tmp-{dead}-abc"
    live = tmp_path / f".out.tmp-{os.getpid()}-abc"
    stale.mkdir()
    live.mkdir()
    B.build_dataset(tmp_path / "out", **tiny_kw)
    assert not stale.exists() and live.exists()
    B.build_dataset(tmp_path / "out", overwrite=True, seed=1, **tiny_kw)  # a previous build: replaced
    assert R.read_build_info(tmp_path / "out")["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == [live.name]


def test_output_path_is_checked_before_the_work(tmp_path, tiny_kw, monkeypatch):
    """Item 3: `--output-dir .` failed only after all the encoding."""
    monkeypatch.chdir(tmp_path)
    # The models are not loadable: an error about them would mean the work started before the path check.
    with pytest.raises(LDMNISTError, match="current folder"):
        B.build_dataset(".", image_vae=str(tmp_path / "no-model"), overwrite=True)


def test_build_refuses_nan_weights_and_writes_nothing(tmp_path, tiny_kw):
    """Item 4: a build with NaN weights wrote an all-NaN dataset and exited 0."""
    iv = ImageVAE.from_pretrained(tiny_kw["image_vae"]).eval()
    with torch.no_grad():
        iv.log_var_head.weight.fill_(float("nan"))
    with pytest.raises(LDMNISTError, match="NaN or inf latents"):
        B.build_dataset(tmp_path / "out", **{**tiny_kw, "image_vae": iv})
    assert list(tmp_path.iterdir()) == []
    iv.save_pretrained(tmp_path / "nan-iv")
    with pytest.raises(LDMNISTError, match="NaN or inf values in log_var_head.weight"):
        B.build_dataset(tmp_path / "out", **{**tiny_kw, "image_vae": str(tmp_path / "nan-iv")})


def test_two_builds_into_one_new_folder_never_both_succeed(tmp_path, tiny_kw, monkeypatch):
    """A second build that finishes first wins; the first fails instead of silently replacing it."""
    real, calls = B.encode_batches, []

    def encode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # while the first build encodes, a second one runs to its end
            B.build_dataset(tmp_path / "ds", seed=7, **tiny_kw)
        return real(*args, **kwargs)

    monkeypatch.setattr(B, "encode_batches", encode)
    with pytest.raises(LDMNISTError, match="created or changed by someone else"):
        B.build_dataset(tmp_path / "ds", seed=0, **tiny_kw)
    assert R.read_build_info(tmp_path / "ds")["seed"] == 7
    assert R.verify_dataset(tmp_path / "ds")["files"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


# ----------------------------------------------------------------------------- bad input


def _build(c, out=None, **kw):
    kw = {"image_vae": c.iv, "class_vae": c.cv, "mnist_source": c.mnist, **kw}
    return B.build_dataset(c.tmp / "out" if out is None else out, **kw)


def _nan_image_vae(c):
    iv = ImageVAE.from_pretrained(c.iv).eval()
    with torch.no_grad():
        iv.mean_head.bias.fill_(float("nan"))
    return iv


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    ("build-output-is-file", lambda c: _build(c, c.file(), overwrite=True), LDMNISTError, "is not a folder"),
    (
        "build-exists-no-overwrite",
        lambda c: _build(c, c.copy("ds")),
        LDMNISTError,
        "already exists; pass `overwrite=True`",
    ),
    ("build-foreign-folder", lambda c: _build(c, c.thesis(), overwrite=True), LDMNISTError, "did not write"),
    ("build-below-a-file", lambda c: _build(c, c.file() / "ds"), LDMNISTError, "is a file, not a folder"),
    (
        "build-cwd",
        lambda c: (c.monkeypatch.chdir(c.copy("ds")), _build(c, Path("."), overwrite=True)),
        LDMNISTError,
        "is the current folder",
    ),
    (
        "build-parent-of-cwd",
        lambda c: (c.monkeypatch.chdir(c.copy("ds") / "data"), _build(c, Path(".."), overwrite=True)),
        LDMNISTError,
        "is the current folder or holds it",
    ),
    ("build-unwritable", lambda c: _build(c, Path("/sys/ldmnist-out")), LDMNISTError, "not writable"),
    ("build-seed-negative", lambda c: _build(c, seed=-1), LDMNISTError, "`seed` must be an integer"),
    ("build-seed-float", lambda c: _build(c, seed=1.5), LDMNISTError, "`seed` must be an integer"),
    (
        "build-nan-latents",
        lambda c: _build(c, image_vae=_nan_image_vae(c)),
        LDMNISTError,
        "NaN or inf latents",
    ),
    (
        "build-class-vae-as-image",
        lambda c: _build(c, image_vae=c.cv),
        LDMNISTError,
        "holds a ClassVAE, expected a ImageVAE",
    ),
    (
        "build-latent-size-mismatch",
        lambda c: (
            ClassVAE(ClassVAEConfig(latent_dim=3)).save_pretrained(c.tmp / "cv3"),
            _build(c, class_vae=str(c.tmp / "cv3")),
        ),
        LDMNISTError,
        "latent size 6 but the class VAE has 3",
    ),
    (
        "build-another-dataset-without-models",
        lambda c: B.build_dataset(c.tmp / "out", source=str(c.thesis())),
        LDMNISTError,
        "No shipped VAEs were trained on",
    ),
    (
        "build-another-dataset-with-one-model",
        lambda c: B.build_dataset(c.tmp / "out", image_vae=c.iv, source=str(c.thesis())),
        LDMNISTError,
        "give both `image_vae` and `class_vae`",
    ),
    (
        "build-images-of-another-source",
        lambda c: _build(c, source="fashion-mnist"),
        LDMNISTError,
        "The images given are mnist's but `source` is 'fashion-mnist'",
    ),
    (
        "build-on-cuda-without-cuda",
        lambda c: (
            c.monkeypatch.setattr(__import__("torch").cuda, "is_available", lambda: False),
            _build(c, device="cuda"),
        ),
        LDMNISTError,
        "`device` cuda was asked for but CUDA is not available here",
    ),
    (
        "build-source-unknown",
        lambda c: B.build_dataset(c.tmp / "out", c.iv, c.cv, source="kmnist"),
        LDMNISTError,
        "Unknown source dataset 'kmnist' (`source`): give one of mnist, fashion-mnist",
    ),
    (
        "build-name-too-long",
        lambda c: _build(c, c.tmp / ("x" * 300)),
        LDMNISTError,
        "too long for the file system",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)


def test_a_split_written_in_row_groups_reads_as_one(tmp_path, tiny_kw, monkeypatch):
    """A large split is written a row group at a time and its statistics summed per row group: with groups of
    16 rows, the tiny build has the same rows, labels and (to float rounding) statistics as in one piece. (The
    encoding batch stays: the sampling noise is drawn batch after batch, so it is part of the data.)"""
    import datasets

    from ldmnist_hf.data import statistics

    whole = B.build_dataset(tmp_path / "whole", **tiny_kw)
    monkeypatch.setattr(B, "ROW_GROUP_ROWS", 16)
    monkeypatch.setattr(statistics, "EXACT_ROWS", 10)
    parts = B.build_dataset(tmp_path / "parts", **tiny_kw)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(parts / TRAIN_FILE).num_row_groups > 1
    a, b = datasets.load_dataset(str(whole))["train"], datasets.load_dataset(str(parts))["train"]
    assert a["index"] == b["index"] == list(range(40)) and a["label"] == b["label"]
    np.testing.assert_array_equal(np.asarray(a["x"]), np.asarray(b["x"]))
    exact, summed = statistics.split_statistics(whole), statistics.split_statistics(parts)
    for side in ("x", "y"):
        np.testing.assert_allclose(summed[side]["component_std"], exact[side]["component_std"], rtol=1e-6)
        assert summed[side]["informative_components"] == exact[side]["informative_components"]
    assert R.verify_dataset(parts)["files"] == 2
