"""Any image-classification dataset as a source: a Hub dataset id or a local folder in the Hub's layout, read
through `datasets`, with one image column and one `ClassLabel` column.

Known datasets (MNIST, Fashion-MNIST: `sources.py`) are verified by their pinned checksums; any other one is
taken as it is and recorded by where it came from: the Hub id and the commit it resolved to, or the folder
and the SHA-256 of each of its files (`provenance`). Images become uint8 arrays: grey `(N, H, W)` or colour
channels-first `(N, C, H, W)` (what the image VAE takes); pixel values stay 0..255.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path

import datasets
import numpy as np
from PIL import Image

from ..errors import LDMNISTError, first_line
from .hub_layout import hub_reachable
from .mnist import MNIST, load_source
from .schema import BUILD_RECORD, label_problem
from .sources import SOURCE_DATASETS

logger = logging.getLogger(__name__)

SPLITS = ("train", "test")
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
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            sums[rel.as_posix()] = digest.hexdigest()
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


def _decode(cell, where: str) -> Image.Image:
    data = cell.get("bytes") if isinstance(cell, dict) else None
    path = cell.get("path") if isinstance(cell, dict) else None
    try:
        return Image.open(io.BytesIO(data) if data is not None else path)
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError... for broken images
        raise LDMNISTError(
            f"{where}: an image cannot be decoded ({first_line(e)}); the data is damaged."
        ) from e


def _split_images(
    split: datasets.Dataset, column: str, name: str, batch_size: int = 1000
) -> list[Image.Image]:
    raw = split.cast_column(column, datasets.Image(decode=False)).select_columns([column])
    images = []
    for start in range(0, len(raw), batch_size):
        batch = raw[start : start + batch_size][column]
        images += [_decode(cell, f"{name} ({split.split} row {start + i})") for i, cell in enumerate(batch)]
    return images


def _to_arrays(images: dict[str, list], name: str) -> dict[str, np.ndarray]:
    """Each split's images as one uint8 array: grey `(N, H, W)` unless any image is in colour, `(N, 3, H, W)`."""
    every = [(s, i, im) for s in SPLITS for i, im in enumerate(images[s])]
    if not images["train"] or not images["test"]:
        raise LDMNISTError(f"{name}: the {'train' if not images['train'] else 'test'} split has no images.")
    size = every[0][2].size
    for split, row, image in every:
        if image.size != size:
            raise LDMNISTError(
                f"{name}: images of mixed sizes ({split} row {row} is {image.size[0]}x{image.size[1]}, the "
                f"first is {size[0]}x{size[1]}, width x height); resize them to one size first (e.g. "
                f"`dataset.map` with PIL's `resize`) and save the dataset."
            )
        if image.mode not in GREY_MODES + COLOUR_MODES:
            raise LDMNISTError(
                f"{name}: {split} row {row} has PIL mode {image.mode!r}; LD datasets read 8-bit grey "
                f"({', '.join(GREY_MODES)}) or colour ({', '.join(COLOUR_MODES)}) images."
            )
    colour = any(im.mode not in GREY_MODES for _, _, im in every)
    if colour:
        logger.info("%s: colour images: every image is read as RGB (3 channels)", name)
    out = {}
    for split in SPLITS:
        if colour:
            out[split] = np.stack([np.asarray(im.convert("RGB"), np.uint8) for im in images[split]])
            out[split] = np.ascontiguousarray(out[split].transpose(0, 3, 1, 2))  # channels first
        else:
            out[split] = np.stack([np.asarray(im.convert("L"), np.uint8) for im in images[split]])
    return out


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
        `data.mnist.MNIST` with `name` the spec, `classes` the ClassLabel's names, `provenance` where it came
        from, uint8 images grey `(N, H, W)` or colour `(N, 3, H, W)` and int64 labels; `verified` is False.
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
    present = np.unique(arrays_train := _labels(ds["train"], label_column, len(classes), name))
    if len(present) < 2:
        raise LDMNISTError(
            f"{name}: every train example has the class {classes[int(present[0])]!r}; a classification task "
            f"needs examples of 2 or more classes."
        )
    images = _to_arrays({s: _split_images(ds[s], image_column, name) for s in SPLITS}, name)
    arrays = {
        "train_labels": arrays_train,
        "test_labels": _labels(ds["test"], label_column, len(classes), name),
    }
    provenance.update(image_column=image_column, label_column=label_column)
    return MNIST(
        train_images=images["train"],
        test_images=images["test"],
        **arrays,
        source=provenance.get("hub", provenance.get("folder")),
        verified=False,
        name=name,
        classes=classes,
        provenance=provenance,
    )


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

    >>> load_source_dataset("mnist").image_shape  # doctest: +SKIP
    (1, 28, 28)
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
    name = build_info.get("source", "mnist")
    if name in SOURCE_DATASETS:
        return load_source(name)
    where = build_info.get("source_provenance") or {}
    columns = {k: where.get(k) for k in ("image_column", "label_column")}
    return load_image_classification(name, revision=where.get("revision"), **columns)
