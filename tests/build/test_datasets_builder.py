"""The `datasets` builder (build/datasets_builder.py) and its script form (loading_script/): the build's rows."""

import subprocess
import sys
from pathlib import Path

import numpy as np
from helpers import ROOT

from ldmnist_hf.build import dataset as B
from ldmnist_hf.build import datasets_builder as DB
from ldmnist_hf.data import read as R


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


def test_loading_script_regenerates_the_same_files(tmp_path, built):
    script = ROOT / "loading_script" / "ldmnist.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--output-dir", str(tmp_path / "ld")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    name = "data/train-00000-of-00001.parquet"
    assert (tmp_path / "ld" / name).read_bytes() == (built / "ldmnist" / name).read_bytes()
