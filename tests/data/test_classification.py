"""Any image-classification dataset as a source (data/classification.py): real 8x8 digits and generated RGB
images from local folders in the Hub's layout, and one clear error for each kind of bad dataset."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import bad_input_test, rgb_images, write_classification_folder, write_digits

from ldmnist_hf.data.classification import (
    dataset_id,
    load_image_classification,
    load_source_dataset,
    source_of,
)
from ldmnist_hf.errors import LDMNISTError


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    return write_digits(tmp_path_factory.mktemp("digits"))


def test_digits_load_in_their_split_order(digits_dir):
    from sklearn.datasets import load_digits

    data = load_image_classification(digits_dir)
    assert data.image_shape == (1, 8, 8)
    assert (len(data.train_labels), len(data.test_labels)) == (1347, 450)
    assert data.class_names == tuple(str(i) for i in range(10))
    assert data.train_images.dtype == np.uint8 and data.train_images.max() == 255
    # Each image is a real digit of scikit-learn's, scaled from 0..16, with its own label.
    digits = load_digits()
    scaled = np.round(digits.images * 255 / 16).astype(np.uint8).reshape(len(digits.images), -1)
    first = np.flatnonzero((scaled == data.train_images[0].reshape(-1)).all(axis=1))
    assert first.size >= 1 and digits.target[first[0]] == data.train_labels[0]
    assert not data.verified and data.name == str(digits_dir)
    # Recorded by folder and the SHA-256 of each file it read.
    files = data.provenance["files"]
    assert sorted(files) == ["data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"]
    assert all(len(v) == 64 for v in files.values())
    assert (data.provenance["image_column"], data.provenance["label_column"]) == ("image", "label")
    assert dataset_id(data) == digits_dir.name


def test_rgb_images_come_channels_first(tmp_path):
    train, test = rgb_images(30), rgb_images(9, seed=1)
    folder = write_classification_folder(tmp_path / "rgb", {"train": train, "test": test}, ["r", "g", "b"])
    data = load_source_dataset(folder)
    assert data.image_shape == (3, 6, 8)
    assert data.train_images.shape == (30, 3, 6, 8)
    np.testing.assert_array_equal(data.train_images[4], np.transpose(train[0][4], (2, 0, 1)))
    assert data.class_names == ("r", "g", "b")


def test_columns_are_found_or_named(tmp_path):
    import datasets

    folder = write_classification_folder(
        tmp_path / "named", {"train": rgb_images(6), "test": rgb_images(3)}, "abc", "picture", "kind"
    )
    data = load_image_classification(folder)
    assert data.provenance["image_column"] == "picture" and data.provenance["label_column"] == "kind"
    # A build record names the columns, so the same images are read again (the report's figures).
    again = source_of({"source": str(folder), "source_provenance": data.provenance})
    np.testing.assert_array_equal(again.test_images, data.test_images)
    assert isinstance(datasets.load_dataset(str(folder))["train"].features["kind"], datasets.ClassLabel)


def _mixed_sizes(s):
    images, labels = rgb_images(6)
    images[3] = np.zeros((7, 8, 3), np.uint8)
    return write_classification_folder(
        s.tmp / "mixed", {"train": (images, labels), "test": rgb_images(3)}, "abc"
    )


def _two(s, name, **kw):
    """A folder with two image columns or two ClassLabel columns."""
    import datasets
    from PIL import Image

    images = [Image.fromarray(a) for a in rgb_images(4)[0]]
    cols = {"image": datasets.Image(), "label": datasets.ClassLabel(names=["a", "b"]), **kw}
    data = {
        "image": images,
        "label": [0, 1, 0, 1],
        **{k: images if k.startswith("im") else [1, 0, 1, 0] for k in kw},
    }
    for split in ("train", "test"):
        ds = datasets.Dataset.from_dict(data, features=datasets.Features(cols))
        ds.to_parquet(str(s.tmp / name / "data" / f"{split}-00000-of-00001.parquet"))
    return s.tmp / name


def _folder(s, name, train=None, test=None, classes="abc"):
    splits = {"train": train or rgb_images(6), "test": test or rgb_images(3)}
    return write_classification_folder(s.tmp / name, splits, classes)


BAD_INPUT = [
    (
        "no image column",
        lambda s: load_image_classification(_folder_of_numbers(s)),
        LDMNISTError,
        "has no image column",
    ),
    (
        "no ClassLabel",
        lambda s: load_image_classification(_folder(s, "ints", classes=None)),
        LDMNISTError,
        "no ClassLabel column",
    ),
    (
        "images of mixed sizes",
        lambda s: load_image_classification(_mixed_sizes(s)),
        LDMNISTError,
        "mixed sizes",
    ),
    (
        "one class only",
        lambda s: load_image_classification(
            _folder(s, "one", train=(rgb_images(4)[0], [1, 1, 1, 1]), test=(rgb_images(2)[0], [1, 1]))
        ),
        LDMNISTError,
        "every train example has the class 'b'",
    ),
    (
        "a ClassLabel of one name",
        lambda s: load_image_classification(
            _folder(
                s, "onename", train=(rgb_images(2)[0], [0, 0]), test=(rgb_images(1)[0], [0]), classes=["a"]
            )
        ),
        LDMNISTError,
        "has 1 class",
    ),
    (
        "labels outside the ClassLabel",
        lambda s: load_image_classification(_out_of_range(s)),
        LDMNISTError,
        "is outside 0..2",
    ),
    (
        "an image whose pixels are truncated",
        lambda s: load_image_classification(_truncated_pixels(s)).train_images,
        LDMNISTError,
        "(train row 2): an image cannot be decoded",
    ),
    (
        "a Hub id offline",
        lambda s: (s.monkeypatch.setenv("HF_HUB_OFFLINE", "1"), load_source_dataset("someone/cifar-like"))[1],
        LDMNISTError,
        "cannot be loaded as a Hub dataset",
    ),
    (
        "no test split",
        lambda s: load_image_classification(
            write_classification_folder(s.tmp / "notest", {"train": rgb_images(4)}, "abc")
        ),
        LDMNISTError,
        "has no 'test' split",
    ),
    (
        "a folder without data",
        lambda s: load_image_classification(s.thesis()),
        LDMNISTError,
        "holds no data files",
    ),
    ("an LD dataset", lambda s: load_image_classification(s.ds), LDMNISTError, "is an LD dataset"),
    (
        "two image columns",
        lambda s: load_image_classification(_two(s, "twoimg", image2=__import__("datasets").Image())),
        LDMNISTError,
        "name the one to encode with --image-column",
    ),
    (
        "two ClassLabel columns",
        lambda s: load_image_classification(
            _two(s, "twolab", coarse=__import__("datasets").ClassLabel(names=["x", "y"]))
        ),
        LDMNISTError,
        "name the one to use with --label-column",
    ),
    (
        "a label column that is no ClassLabel",
        lambda s: load_image_classification(_folder(s, "lab"), label_column="image"),
        LDMNISTError,
        "--label-column 'image' is not a ClassLabel column",
    ),
    (
        "columns for a known dataset",
        lambda s: load_source_dataset("mnist", image_column="image"),
        LDMNISTError,
        "mnist is a known dataset with fixed columns",
    ),
    (
        "data_from for another dataset",
        lambda s: load_source_dataset(_folder(s, "df"), data_from="cache"),
        LDMNISTError,
        "`data_from` (cache) is for the known datasets",
    ),
]


def _folder_of_numbers(s):
    import datasets

    for split in ("train", "test"):
        ds = datasets.Dataset.from_dict(
            {"pixels": [[0, 1], [2, 3]], "label": [0, 1]},
            features=datasets.Features(
                {
                    "pixels": datasets.List(datasets.Value("int64")),
                    "label": datasets.ClassLabel(names=["a", "b"]),
                }
            ),
        )
        ds.to_parquet(str(s.tmp / "numbers" / "data" / f"{split}-00000-of-00001.parquet"))
    return s.tmp / "numbers"


def _truncated_pixels(s):
    """A folder whose third train image keeps its PNG header (the scan of sizes passes) but loses its pixels."""
    images, labels = rgb_images(6)
    cells = [{"bytes": _png(im), "path": None} for im in images]
    cells[2]["bytes"] = cells[2]["bytes"][:60]
    return write_classification_folder(
        s.tmp / "cut", {"train": (cells, labels), "test": rgb_images(3)}, "abc"
    )


def _png(image) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _out_of_range(s):
    """A ClassLabel of three names whose stored labels include 5 (`datasets` does not check them on load)."""
    import pyarrow.parquet as pq

    folder = _folder(s, "range")
    path = folder / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(path)
    labels = table.column("label").to_pylist()
    labels[2] = 5
    import pyarrow as pa

    table = table.set_column(table.schema.get_field_index("label"), "label", pa.array(labels, pa.int64()))
    pq.write_table(table, path)
    return folder


test_bad_input = bad_input_test(BAD_INPUT)


def test_a_hub_dataset_is_read_at_the_commit_it_resolved_to(hub, tmp_path, digits_dir):
    """A Hub id as the source, through the project's Hub stand-in: read through `datasets`, recorded with its
    commit; an unknown id is one clear error."""
    import json

    from helpers import run_python
    from hub_stub import FAKE_TOKEN
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    api.create_repo("ns/digits", repo_type="dataset")
    sha = api.upload_folder(folder_path=str(digits_dir), repo_id="ns/digits", repo_type="dataset").oid
    code = """
import json
from ldmnist_hf.data.classification import load_source_dataset
from ldmnist_hf.errors import LDMNISTError
data = load_source_dataset("ns/digits")
try:
    load_source_dataset("ns/none")
    error = None
except LDMNISTError as e:
    error = str(e)
print(json.dumps({"shape": data.image_shape, "n": len(data.train_labels), "where": data.provenance,
                  "first": data.test_images[0].tolist(), "error": error}))
"""
    proc = run_python(code, hub.env(tmp_path / "user", token=None), blocked=())
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["shape"] == [1, 8, 8] and got["n"] == 1347
    assert got["where"] == {
        "hub": "ns/digits",
        "revision": sha,
        "image_column": "image",
        "label_column": "label",
    }
    assert got["first"] == load_image_classification(digits_dir).test_images[0].tolist()
    assert got["error"].startswith("The Hub dataset 'ns/none' cannot be read:")
