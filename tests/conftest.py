import subprocess
import sys

import numpy as np
import pytest

pytest_plugins = ["hub_stub"]  # the `hub` fixture: a local stand-in of the Hub's HTTP API


@pytest.fixture(scope="session")
def mnist():
    """Real MNIST: from the verified cache, else the Hub, else the PyPI mirror (what CI uses)."""
    from ldmnist_hf import load_mnist

    return load_mnist()


@pytest.fixture
def small_mnist():
    """A few hundred real digits as an unverified MNIST object, for quick tests."""
    from ldmnist_hf.mnist import MNIST

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40, dtype=np.int64) % 10
    return MNIST(images[:30], labels[:30], images[30:], labels[30:], source="test")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LDMNIST_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def built(tmp_path_factory, mnist):
    """`ldmnist build` run as a user runs it, in an empty directory, with the shipped weights."""
    cwd = tmp_path_factory.mktemp("cwd")
    proc = subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", "build", "--format", "numpy"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "load_dataset('ldmnist')" in proc.stdout
    return cwd
