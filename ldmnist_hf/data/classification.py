"""Any image-classification dataset as a source: a Hub dataset id or a local folder in the Hub's layout, read
through `datasets`, with one image column and one `ClassLabel` column.

Known datasets (MNIST, Fashion-MNIST: `sources.py`) are verified by their pinned checksums; any other one is
taken as it is and recorded by where it came from: the Hub id and the commit it resolved to, or the folder
and the SHA-256 of each of its files (`provenance`). Images become uint8 arrays: grey `(N, H, W)` or colour
channels-first `(N, C, H, W)` (what the image VAE takes); pixel values stay 0..255.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import datasets
import numpy as np

from ..errors import LDMNISTError, first_line
from ..files.paths import sha256_file
from .hub_layout import hub_reachable, open_image
from .mnist import MNIST, load_source
from .schema import BUILD_RECORD, SPLITS, label_problem
from .sources import SOURCE_DATASETS

logger = logging.getLogger(__name__)

GREY_MODES = ("L", "1")  # PIL modes read as one channel; the others are converted to RGB
COLOUR_MODES = ("RGB", "RGBA", "P", "LA", "CMYK", "YCbCr")
_HASHED_SUFFIXES = (".parquet", ".arrow", ".csv", ".json", ".jsonl", ".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _load(spec: str, revision: str | None) -> tuple[datasets.DatasetDict, dict]:
    """The dataset's splits and where they came from (`provenance`)."""
    folder = Path(spec)
    if folder.is_dir():
        if (folder / BUILD_RECORD).exists():
            raise LDMNISTError(
                f"{spec} is an LD dataset written by `ldmnist build` (latents), not an image-classification "
                f"dataset: give the images' dataset (a Hub id or a folder in the Hub's layout)."
            )
        provenance = {"folder": str(folder.resolve()), "files": _file_checksums(folder)}
        if not provenance["files"]:
            raise LDMNISTError(
                f"{spec} holds no data files (Parquet, Arrow, CSV, JSON or images): give a folder in the Hub's "
                f"layout, e.g. data/train-*.parquet and data/test-*.parquet with an image and a label column."
            )
        return _load_dataset(spec, None, spec), provenance
    if not hub_reachable():
        raise LDMNISTError(
            f"{spec!r} is not a local folder, and the Hugging Face Hub cannot be reached from here (or "
            f"HF_HUB_OFFLINE is set), so it cannot be loaded as a Hub dataset. Download it where the Hub is "
            f"reachable (`huggingface-cli download --repo-type dataset {spec} --local-dir DIR`) and give DIR."
        )
    from huggingface_hub import HfApi

    try:
        sha = HfApi().dataset_info(spec, revision=revision).sha
    except Exception as e:  # noqa: BLE001 - any Hub error (unknown repo, gated, malformed id) is one message
        raise LDMNISTError(f"The Hub dataset {spec!r} cannot be read: {first_line(e)}") from e
    return _load_dataset(spec, sha, spec), {"hub": spec, "revision": sha}


def _file_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of each data file under `folder` (hidden folders such as `.cache` left out), by relative path."""
    sums = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and path.suffix.lower() in _HASHED_SUFFIXES and not rel.parts[0].startswith("."):
            sums[rel.as_posix()] = sha256_file(path)
    return sums


def _load_dataset(spec: str, revision: str | None, name: str) -> datasets.DatasetDict:
    try:
        ds = datasets.load_dataset(spec, revision=revision)
    except (OSError, ValueError, ImportError, TypeError) as e:
        raise LDMNISTError(f"{name}: `datasets` cannot load it ({first_line(e)}).") from e
    missing = [s for s in SPLITS if s not in ds]
    if missing:
        raise LDMNISTError(
            f"{name}: has no {' or '.join(repr(s) for s in missing)} split (it has {', '.join(ds) or 'none'}); "
            f"an LD dataset needs a train and a test split (in the Hub's layout: data/train-*.parquet and "
            f"data/test-*.parquet)."
        )
    return ds


def find_columns(features: datasets.Features, name: str, image_column=None, label_column=None) -> tuple:
    """The image column and the `ClassLabel` column: the ones named, else the only one of each type.

    >>> f = datasets.Features({"img": datasets.Image(), "fine": datasets.ClassLabel(names=["a", "b"])})
    >>> find_columns(f, "demo")
    ('img', 'fine')
    """
    images = [c for c, t in features.items() if isinstance(t, datasets.Image)]
    labels = [c for c, t in features.items() if isinstance(t, datasets.ClassLabel)]
    columns = ", ".join(f"{c} ({type(t).__name__})" for c, t in features.items())
    if image_column is None:
        if len(images) != 1:
            what = "no image column" if not images else f"image columns {', '.join(images)}"
            raise LDMNISTError(
                f"{name}: has {what} (columns: {columns}); "
                + ("name the one to encode with --image-column." if images else "an Image column is needed.")
            )
        image_column = images[0]
    elif image_column not in images:
        raise LDMNISTError(
            f"{name}: --image-column {image_column!r} is not an image column (columns: {columns})."
        )
    if label_column is None:
        if len(labels) != 1:
            what = "no ClassLabel column" if not labels else f"ClassLabel columns {', '.join(labels)}"
            raise LDMNISTError(
                f"{name}: has {what} (columns: {columns}); "
                + (
                    "name the one to use with --label-column."
                    if labels
                    else "cast the label column to ClassLabel (`dataset.class_encode_column(...)`) and save it."
                )
            )
        label_column = labels[0]
    elif label_column not in labels:
        raise LDMNISTError(
            f"{name}: --label-column {label_column!r} is not a ClassLabel column (columns: {columns})."
        )
    return image_column, label_column


def _cells(split: datasets.Dataset, column: str, batch_size: int):
    """`(first row, raw image cells)` of one split, `batch_size` rows at a time, undecoded (Arrow is memory-mapped,
    so only a batch of encoded images is in memory)."""
    raw = split.cast_column(column, datasets.Image(decode=False)).select_columns([column])
    for start in range(0, len(raw), batch_size):
        yield start, raw[start : start + batch_size][column]


def _scan(splits: dict, column: str, name: str) -> tuple[tuple[int, int, int], bool]:
    """Checks every image's header (size and mode; no pixels decoded): `(C, H, W)` and whether it is in colour.

    Images must share one size; grey modes give 1 channel, and any colour image makes every image RGB.
    """
    size, colour = None, False
    for split in SPLITS:
        if len(splits[split]) == 0:
            raise LDMNISTError(f"{name}: the {split} split has no images.")
        for start, cells in _cells(splits[split], column, 4096):
            for i, cell in enumerate(cells):
                image = open_image(cell, f"{name} ({split} row {start + i})")
                size = size or (split, start + i, image.size)
                if image.size != size[2]:
                    w, h = size[2]
                    raise LDMNISTError(
                        f"{name}: images of mixed sizes ({split} row {start + i} is {image.size[0]}x"
                        f"{image.size[1]}, the first is {w}x{h}, width x height); resize them to one size "
                        f"first (e.g. `dataset.map` with PIL's `resize`) and save the dataset."
                    )
                if image.mode not in GREY_MODES + COLOUR_MODES:
                    raise LDMNISTError(
                        f"{name}: {split} row {start + i} has PIL mode {image.mode!r}; LD datasets read 8-bit "
                        f"grey ({', '.join(GREY_MODES)}) or colour ({', '.join(COLOUR_MODES)}) images."
                    )
                colour = colour or image.mode not in GREY_MODES
    w, h = size[2]
    if colour:
        logger.info("%s: colour images: every image is read as RGB (3 channels)", name)
    return (3 if colour else 1, h, w), colour


class ImageClassificationData:
    """An image-classification dataset as a source: its labels in memory, its images decoded batch by batch.

    It offers what `data.mnist.MNIST` offers (`name`, `class_names`, `image_shape`, `train_labels`,
    `test_labels`, `source`, `verified`, `provenance`, `batches`), and `train_images`/`test_images`, which
    decode a whole split (training needs it); `ldmnist build` reads `batches` only, so encoding a dataset
    needs memory for one batch of images, not for the dataset.
    """

    def __init__(self, name, splits, column, classes, labels, provenance, shape, colour):
        self.name, self.classes, self.provenance = name, classes, provenance
        self.source, self.verified = provenance.get("hub", provenance.get("folder")), False
        self.train_labels, self.test_labels = labels["train"], labels["test"]
        self.image_shape = shape
        self._splits, self._column, self._colour = splits, column, colour
        self._decoded = {}

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.classes

    def batches(self, split: str, batch_size: int = 10000):
        """The split's images in order, uint8 `(n, H, W)` (grey) or `(n, 3, H, W)` (colour), `batch_size` at a time."""
        mode = "RGB" if self._colour else "L"
        for start, cells in _cells(self._splits[split], self._column, batch_size):
            images = np.stack(
                [open_image(c, f"{self.name} ({split} row {start + i})", mode) for i, c in enumerate(cells)]
            )
            yield (
                np.ascontiguousarray(images.transpose(0, 3, 1, 2)) if self._colour else images
            )  # channels first

    def _images(self, split: str) -> np.ndarray:
        if split not in self._decoded:
            self._decoded[split] = np.concatenate(list(self.batches(split)))
        return self._decoded[split]

    @property
    def train_images(self) -> np.ndarray:
        return self._images("train")

    @property
    def test_images(self) -> np.ndarray:
        return self._images("test")


def _labels(split: datasets.Dataset, column: str, num_classes: int, name: str) -> np.ndarray:
    labels = np.asarray(split.with_format("numpy")[column])
    problem = label_problem(labels, num_classes)
    if problem:
        raise LDMNISTError(
            f"{name}: the {split.split} split's {column} labels are not the ClassLabel's classes "
            f"0..{num_classes - 1}: {problem}."
        )
    return labels.astype(np.int64)


def load_image_classification(
    spec: str | os.PathLike,
    image_column: str | None = None,
    label_column: str | None = None,
    revision: str | None = None,
):
    """Loads an image-classification dataset's train and test splits as a source for an LD dataset.

    Args:
        spec (`str` or path): a local folder in the Hub's layout (anything `datasets.load_dataset` reads) or
            a Hub dataset id (needs the Hub; recorded with the commit it resolved to).
        image_column (`str`, *optional*): the column of images; default: the only `Image` column.
        label_column (`str`, *optional*): the `ClassLabel` column; default: the only one.
        revision (`str`, *optional*): a branch, tag or commit of a Hub dataset.

    Returns:
        `ImageClassificationData` with `name` the spec, `classes` the ClassLabel's names, `provenance` where it
        came from, int64 labels, and uint8 images grey `(N, H, W)` or colour `(N, 3, H, W)`, decoded batch by
        batch (`batches`) or whole (`train_images`); `verified` is False. Every image's header is checked here
        (one size, a grey or colour mode); pixels are decoded when read.
    """
    name = os.fspath(spec)
    ds, provenance = _load(name, revision)
    features = ds["train"].features
    image_column, label_column = find_columns(features, name, image_column, label_column)
    if ds["test"].features[label_column] != features[label_column]:
        raise LDMNISTError(
            f"{name}: the train and test splits' {label_column} columns have different classes."
        )
    classes = tuple(features[label_column].names)
    if len(classes) < 2:
        raise LDMNISTError(
            f"{name}: its ClassLabel {label_column!r} has {len(classes)} class; a classification task needs 2 "
            f"or more."
        )
    labels = {s: _labels(ds[s], label_column, len(classes), name) for s in SPLITS}
    present = np.unique(labels["train"])
    if len(present) < 2:
        raise LDMNISTError(
            f"{name}: every train example has the class {classes[int(present[0])]!r}; a classification task "
            f"needs examples of 2 or more classes."
        )
    shape, colour = _scan(ds, image_column, name)
    provenance.update(image_column=image_column, label_column=label_column)
    return ImageClassificationData(name, ds, image_column, classes, labels, provenance, shape, colour)


def dataset_id(data: MNIST) -> str:
    """How configs and cards name the source dataset: a known one's name (`fashion-mnist`), a Hub dataset's
    `owner/name@commit`, a folder's name.

    >>> dataset_id(MNIST(*[np.zeros((1,))] * 4, name="fashion-mnist"))
    'fashion-mnist'
    """
    where = data.provenance or {}
    if "hub" in where:
        return f"{where['hub']}@{where['revision']}"
    return Path(where["folder"]).name if "folder" in where else data.name


def load_source_dataset(
    source: str | os.PathLike,
    data_from: str | os.PathLike = "auto",
    image_column: str | None = None,
    label_column: str | None = None,
    revision: str | None = None,
) -> MNIST:
    """The images and labels of any source dataset: a known one (`sources.SOURCE_DATASETS`, verified by checksum,
    from `data_from`) or another image-classification dataset (a folder or Hub id: `load_image_classification`).
    """
    name = os.fspath(source)
    if name in SOURCE_DATASETS:
        if image_column or label_column or revision:
            raise LDMNISTError(
                f"{name} is a known dataset with fixed columns and data: image_column, label_column and "
                f"revision are for other image-classification datasets."
            )
        return load_source(name, data_from)
    if os.fspath(data_from) != "auto":
        raise LDMNISTError(
            f"`data_from` ({os.fspath(data_from)}) is for the known datasets ({', '.join(SOURCE_DATASETS)}); "
            f"another dataset is read from where `source` ({name}) says."
        )
    return load_image_classification(name, image_column, label_column, revision)


def source_of(build_info: dict) -> MNIST:
    """The source dataset a build record says its latents were encoded from (known: verified again; another
    dataset: read again from its folder or Hub commit, with the same columns)."""
    where = build_info.get("source_provenance") or {}  # absent for a known dataset
    columns = {k: where.get(k) for k in ("image_column", "label_column", "revision")}
    return load_source_dataset(build_info.get("source", "mnist"), **columns)
