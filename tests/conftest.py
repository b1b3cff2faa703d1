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
    """40 random 28x28 images (not digits) with labels 0..9 as an unverified MNIST object: for tests of
    shapes, formats and plumbing, where real digits are not needed."""
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


# Run first in a child Python: makes the named top-level packages impossible to import, as for a user
# who never installed them (a spec whose loader refuses, so `find_spec` still answers and nothing loads).
_BLOCK = """\
import importlib.abc, importlib.machinery, sys
class _Refuse(importlib.abc.Loader):
    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {{spec.name!r}} (blocked by the test)", name=spec.name)
    def exec_module(self, module):
        pass
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            return importlib.machinery.ModuleSpec(name, _Refuse())
sys.meta_path.insert(0, _Block())
"""


@pytest.fixture
def isolated_python(tmp_path):
    """`run(code, blocked=("ldmnist_hf",), env=None)`: runs `code` in a fresh Python where `blocked` cannot be
    imported, from an empty folder, with its own transformers/evaluate module caches; returns stdout."""
    import os

    def run(code: str, blocked=("ldmnist_hf",), env: dict | None = None, cwd=None) -> str:
        full_env = {
            **os.environ,
            "HF_MODULES_CACHE": str(tmp_path / "hf_modules"),
            "HF_HUB_OFFLINE": "1",
            **(env or {}),
        }
        proc = subprocess.run(
            [sys.executable, "-c", _BLOCK.format(blocked=tuple(blocked)) + code],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    return run
