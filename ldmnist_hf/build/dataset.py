"""Building LD-MNIST: MNIST encoded by a pair of VAEs, written as a Hub dataset repository folder.

`encode_split` is the pure function that makes the data. `build_dataset` writes its rows through
`datasets` as Parquet and lays them out as a Hub dataset repository (`data/*.parquet` + `README.md` card,
rendered by `hub.cards`), so `load_dataset(folder)` works offline. The `datasets` builder around
`encode_split` is in `datasets_builder.py`; reading a built folder is in `read.py`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from .._version import __version__
from ..errors import LDMNISTError
from ..files.atomic import atomic_dir, check_output_dir
from ..files.paths import sha256_file
from ..rendering import TEMPLATES, render_dataset_card
from ..rendering.texts import record_source_texts
from ..pretrained.loading import load_pretrained, pretrained_path
from ..registry import KINDS, PRETRAINED, SOURCE_SETS, model_set
from ..data.classification import load_source_dataset
from ..data.statistics import split_statistics
from ..data.mnist import MNIST
from ..data.sources import DEFAULT_SOURCE, check_source
from ..data.schema import (
    BUILD_RECORD,
    CARD,
    LATENT_COLUMNS,
    PARQUET_OPTIONS,
    SPLITS,
    data_file,
    features,
    fingerprint,
    latents_table,
)

logger = logging.getLogger(__name__)
ENCODE_BATCH = 10000  # images encoded at once (the sampling noise is drawn in this order, so it is part of the data)


def split_seed(seed: int, split: str) -> int:
    """The seed of one split's sampling noise."""
    # Each split has its own stream, so the test latents do not depend on the train split's size.
    return seed * 2 + SPLITS.index(split)


def encode_batches(image_vae, class_vae, batches, seed: int):
    """Encodes batches of one split in inference mode and samples the latents, as the reference did.

    Args:
        image_vae (`ImageVAE`), class_vae (`ClassVAE`): the encoders (put in eval mode here).
        batches: `(images, labels)` pairs in order: uint8 images as the image VAE takes them, int labels.
        seed (`int`): seeds the sampling noise of the whole split (one generator, drawn batch after batch).

    Yields:
        Per batch, a `dict` of float32 `(n, latent_dim)` arrays for `x`, `y`, `x_mean`, `x_std`, `y_mean`, `y_std`.
    """
    image_vae.eval()
    class_vae.eval()
    # The noise is drawn on the CPU whatever device encodes: a GPU build draws the same noise as a CPU one.
    gen = torch.Generator().manual_seed(seed)

    def noise(q):
        return torch.randn(q.mean.shape, generator=gen, dtype=q.mean.dtype).to(q.mean.device)

    with torch.no_grad():
        for images, labels in batches:
            qx = image_vae.encode(torch.from_numpy(np.ascontiguousarray(images))).latent_dist
            qy = class_vae.encode(torch.from_numpy(np.asarray(labels))).latent_dist
            out = {}
            for name, t in (
                ("x_mean", qx.mean),
                ("x_std", qx.std),
                ("x", qx.sample(noise=noise(qx))),
                ("y_mean", qy.mean),
                ("y_std", qy.std),
                ("y", qy.sample(noise=noise(qy))),
            ):
                out[name] = t.float().cpu().numpy()
            yield out


def encode_split(
    image_vae, class_vae, images: np.ndarray, labels: np.ndarray, seed: int, batch_size: int = 10000
) -> dict[str, np.ndarray]:
    """Encodes one split held in memory (`encode_batches` over batches of `batch_size` rows); the same models
    and seed give identical arrays.

    Returns:
        `dict` of float32 `(N, latent_dim)` arrays for `x`, `y`, `x_mean`, `x_std`, `y_mean`, `y_std`.
    """
    batches = (
        (images[i : i + batch_size], labels[i : i + batch_size]) for i in range(0, len(images), batch_size)
    )
    parts = list(encode_batches(image_vae, class_vae, batches, seed))
    return {name: np.concatenate([p[name] for p in parts]) for name in LATENT_COLUMNS}


def load_vaes(image_vae, class_vae, latent_dim: int | None = None):
    """Loads (or checks) the image and class VAEs: names of shipped models, folders, Hub ids or models."""
    models = {}
    for key, source in (("image_vae", image_vae), ("class_vae", class_vae)):
        klass = KINDS[key].model_class
        model = load_pretrained(source, klass) if isinstance(source, str | os.PathLike) else source
        if not isinstance(model, klass):
            raise LDMNISTError(f"`{key}` is a {type(model).__name__}, expected a {klass.__name__}.")
        models[key] = model.eval()
    iv, cv = models["image_vae"], models["class_vae"]
    if iv.config.latent_dim != cv.config.latent_dim:
        raise LDMNISTError(
            f"The image VAE has latent size {iv.config.latent_dim} but the class VAE has "
            f"{cv.config.latent_dim}; give a matching pair (train them together with `ldmnist train`)."
        )
    if latent_dim is not None and iv.config.latent_dim != latent_dim:
        raise LDMNISTError(
            f"`latent_dim` {latent_dim} does not match the models' latent size {iv.config.latent_dim}."
        )
    return iv, cv


def _model_ref(model, name) -> tuple[str, str]:
    """How the card names a model and where its card is."""
    if isinstance(name, str) and name in PRETRAINED:
        return f"`{name}` (shipped with ldmnist-hf)", f"model card: `ldmnist_hf/pretrained/{name}/README.md`"
    path = getattr(model, "name_or_path", "") or str(name)
    return f"`{path}`", "model card beside its weights"


def weights_sha256(model, source=None) -> str | None:
    """SHA-256 of the `model.safetensors` a model was loaded from (what its Hub repo will hold), if known.

    Args:
        model: the loaded model (its `name_or_path` is used when `source` is not a shipped name or folder).
        source: what it was loaded from: a shipped name, a folder or a Hub id.
    """
    if isinstance(source, str) and source in PRETRAINED:
        folder = pretrained_path(source)
    else:
        folder = Path(str(source if isinstance(source, str | Path) else getattr(model, "name_or_path", "")))
    path = folder / "model.safetensors"
    return sha256_file(path) if path.is_file() else None


# ----------------------------------------------------------------------------- build


ROW_GROUP_ROWS = 1 << 16  # rows per Parquet row group (50 MB of latents): a split of MNIST's size is one, as before


def _check_finite(part: dict, split: str, start: int) -> None:
    """Refuses NaN or inf latents (they come from broken weights and make a useless dataset)."""
    bad = {name: int((~np.isfinite(a)).any(axis=-1).sum()) for name, a in part.items()}
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        raise LDMNISTError(
            f"The VAEs produced NaN or inf latents for the {split} split (from row {start}: "
            + ", ".join(f"{k}: {v} rows" for k, v in bad.items())
            + "); their weights are broken (a diverged training run?). Nothing was written; use other models."
        )


class _SplitWriter:
    """Writes one split's Parquet file (and `.npy` files) as its latents arrive, a row group at a time, so
    that memory holds one row group of latents, not the split."""

    def __init__(self, folder: Path, split: str, n: int, latent_dim: int, classes, numpy_export: bool):
        (folder / "data").mkdir(exist_ok=True)
        # The schema metadata `datasets` writes (the features: ClassLabel, fixed-length lists), the encodings ours.
        empty = {name: np.zeros((0, latent_dim), np.float32) for name in LATENT_COLUMNS}
        info = datasets.DatasetInfo(features=features(latent_dim, classes))
        schema = datasets.Dataset(latents_table(empty, np.zeros(0, np.int64)), info=info).data.table.schema
        self.writer = pq.ParquetWriter(folder / data_file(split), schema, **PARQUET_OPTIONS)
        self.schema, self.pending, self.rows, self.nbytes = schema, [], 0, 0
        self.npy = (
            {k: np.lib.format.open_memmap(folder / f"{split}_{k}.npy", "w+", np.float32, (n, latent_dim)) for k in "xy"}
            if numpy_export
            else {}
        )

    def add(self, part: dict, labels: np.ndarray) -> None:
        table = latents_table(part, labels, first_index=self.rows)
        for k, array in self.npy.items():
            array[self.rows : self.rows + len(labels)] = part[k]
        self.rows += len(labels)
        self.nbytes += table.nbytes
        self.pending.append(table)
        if sum(t.num_rows for t in self.pending) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            table = pa.concat_tables(self.pending).combine_chunks().replace_schema_metadata(self.schema.metadata)
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.pending = []

    def close(self) -> int:
        """Writes what is left; returns the Arrow size of the split's rows in bytes."""
        self._flush()
        self.writer.close()
        for array in self.npy.values():
            array.flush()
        return self.nbytes


def _encode_and_write(iv, cv, data, split: str, seed: int, folder: Path, numpy_export: bool, meta: dict) -> int:
    """Encodes one split batch by batch into its Parquet file; returns its Arrow size in bytes."""
    labels = getattr(data, f"{split}_labels")

    def pairs():  # each batch of images with its labels, however many images a batch holds
        start = 0
        for images in data.batches(split, ENCODE_BATCH):
            yield images, labels[start : start + len(images)]
            start += len(images)

    writer = _SplitWriter(folder, split, len(labels), iv.config.latent_dim, meta.get("classes"), numpy_export)
    try:
        for part in encode_batches(iv, cv, pairs(), split_seed(seed, split)):
            start = writer.rows  # the rows written so far: where this batch starts
            _check_finite(part, split, start)
            writer.add(part, labels[start : start + len(part["x"])])
    finally:
        nbytes = writer.close()
    return nbytes


def _build_meta(latent_dim: int, mnist: MNIST, seed: int, load_name: str, command: str | None) -> dict:
    """The first fields of the build record: what was encoded, with what, by which command. `source` names
    the source dataset where it is not MNIST (a build of MNIST records what it always did); `mnist_source`
    and `mnist_verified` say where its images came from and whether they matched its checksums."""
    return {
        "latent_dim": latent_dim,
        "seed": seed,
        "n_train": len(mnist.train_labels),
        "n_test": len(mnist.test_labels),
        **({"source": mnist.name} if mnist.name != DEFAULT_SOURCE else {}),
        **({"classes": list(mnist.class_names)} if mnist.name != DEFAULT_SOURCE else {}),
        **({"source_provenance": mnist.provenance} if mnist.provenance else {}),
        "mnist_source": mnist.source,
        "mnist_verified": mnist.verified,
        "version": __version__,
        "load_name": load_name,
        "command": command or f"ldmnist build --seed {seed}",
    }


def _build_record(folder: Path, meta: dict, nbytes: dict, iv, cv, image_vae, class_vae) -> dict:
    """What `build` records beside the data: `meta`, the models, their weights' SHA-256, file checksums."""
    files = {
        str(p.relative_to(folder)): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted([*folder.glob("data/*.parquet"), *folder.glob("*.npy")])
    }
    record = {**meta, "fingerprint": fingerprint(files), **nbytes}
    record["download_size"] = sum(p.stat().st_size for p in (folder / "data").glob("*.parquet"))
    record["image_vae"], record["image_vae_card"] = _model_ref(iv, image_vae)
    record["class_vae"], record["class_vae_card"] = _model_ref(cv, class_vae)
    for kind, source, model in (("image_vae", image_vae, iv), ("class_vae", class_vae, cv)):
        record[f"{kind}_source"] = (
            str(source) if isinstance(source, str | os.PathLike) else model.name_or_path
        )
    # Which weights made the data: `ldmnist push` refuses a dataset whose models are not the ones it uploads.
    record["image_vae_sha256"] = weights_sha256(iv, image_vae)
    record["class_vae_sha256"] = weights_sha256(cv, class_vae)
    record["image_vae_config"] = iv.config.to_dict()
    record["class_vae_config"] = cv.config.to_dict()
    return {**record, "files": files}


def _write_card_and_record(folder: Path, record: dict, stats: dict) -> None:
    """Writes the card, the build record and the Hub's `.gitattributes` beside the data files."""
    (folder / CARD).write_text(render_dataset_card(record, stats))
    (folder / BUILD_RECORD).write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    shutil.copy(TEMPLATES / "gitattributes", folder / ".gitattributes")


def _source_and_models(source: str | None, mnist_source, image_vae, class_vae) -> tuple:
    """The source dataset's name (the given images' own, else `source`, else MNIST) and the VAE pair: the
    shipped pair where that dataset has one (`registry.SOURCE_SETS`), else both must be given."""
    if not isinstance(mnist_source, str | os.PathLike):  # the data itself (`MNIST`, `ImageClassificationData`)
        if source is not None and source != mnist_source.name:
            raise LDMNISTError(
                f"The images given are {mnist_source.name}'s but `source` is {source!r}; give one of them."
            )
        source = mnist_source.name
    name = check_source(source or DEFAULT_SOURCE)
    shipped = model_set(SOURCE_SETS[name]) if name in SOURCE_SETS else None
    if shipped is None and (image_vae is None or class_vae is None):
        raise LDMNISTError(
            f"No shipped VAEs were trained on {name}: train and release models for it first: ldmnist train "
            f"--source {name} --output-dir runs/NAME, then ldmnist release --run runs/NAME --dest models-NAME; "
            f"and give both `image_vae` and `class_vae` (folders of models-NAME)."
        )
    return name, image_vae or shipped["image_vae"], class_vae or shipped["class_vae"]


def _check_fit(iv, cv, data: MNIST) -> None:
    """Refuses VAEs made for other images or classes than the data's, before anything is encoded."""
    problems = []
    if tuple(iv.config.image_shape) != tuple(data.image_shape):
        problems.append(
            f"the image VAE takes {_shape(iv.config.image_shape)} images, {data.name}'s are "
            f"{_shape(data.image_shape)}"
        )
    if cv.config.num_classes != len(data.class_names):
        problems.append(f"the class VAE has {cv.config.num_classes} classes, {data.name} {len(data.class_names)}")
    if problems:
        raise LDMNISTError(
            f"The VAEs do not fit the source dataset: {'; '.join(problems)}. Give VAEs trained on it "
            f"(`ldmnist train --source {data.name}`, then `ldmnist release`)."
        )


def _inputs(name: str, image_vae, class_vae, mnist_source, columns: tuple, device: str | None) -> tuple:
    """The VAEs on their device and the source data they fit (the data itself, or loaded from `mnist_source`)."""
    iv, cv = (m.to(_device(device)) for m in load_vaes(image_vae, class_vae))
    given = not isinstance(mnist_source, str | os.PathLike)
    data = mnist_source if given else load_source_dataset(name, mnist_source, *columns)
    _check_fit(iv, cv, data)
    return iv, cv, data


def _device(device: str | None) -> str:
    """`device`, or CUDA when present, else the CPU; a CUDA device without CUDA is one clear error."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise LDMNISTError(f"`device` {device} was asked for but CUDA is not available here; use `device=cpu`.")
    return str(device)


def _shape(chw) -> str:
    return "x".join(map(str, chw))


def build_dataset(
    output_dir: str | Path = "ldmnist",
    image_vae=None,
    class_vae=None,
    seed: int = 0,
    mnist_source: str = "auto",
    overwrite: bool = False,
    numpy_export: bool = False,
    command: str | None = None,
    source: str | None = None,
    image_column: str | None = None,
    label_column: str | None = None,
    device: str | None = None,
) -> Path:
    """Encodes MNIST (or another source dataset) and writes its LD version as a Hub dataset repository folder,
    atomically.

    Args:
        output_dir (`str` or path, defaults to `"ldmnist"`): the folder to create.
        image_vae, class_vae: shipped model names, folders, Hub ids, or loaded models (default: the shipped
            32-d pair, for MNIST only).
        seed (`int`, defaults to 0): seeds the sampling; same models and seed give identical files.
        mnist_source (`str` or `MNIST`, defaults to `"auto"`): where the source dataset comes from (see
            `load_source`'s `data_from`), or the images themselves.
        source (`str`, *optional*): the source dataset: a known one (`data.sources`), a folder in the Hub's
            layout or a Hub id (`data.classification`); default: the given images', else `"mnist"`. One other
            than MNIST is recorded in the build record (`source`, with its classes and provenance).
        image_column, label_column (`str`, *optional*): that dataset's columns, where it has several of a kind.
        overwrite (`bool`, defaults to `False`): replace an existing `output_dir`, when it is empty or a
            previous build (it holds `ldmnist_build.json`); any other folder is left alone.
        numpy_export (`bool`, defaults to `False`): also write `train_x.npy`, `train_y.npy`,
            `test_x.npy`, `test_y.npy` like the 2020 download.
        device (`str`, *optional*): where the encoders run (default: CUDA when present, else the CPU). The
            noise is drawn on the CPU either way, so a GPU build differs from a CPU one by float rounding
            only; `device="cpu"` reproduces a CPU build (the published data) byte for byte.

    Returns:
        The folder, loadable with `datasets.load_dataset(str(folder))`.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62:
        raise LDMNISTError(f"`seed` must be an integer in 0..2**62-1, got {seed!r}.")
    name, image_vae, class_vae = _source_and_models(source, mnist_source, image_vae, class_vae)
    # Every check on the output path comes before the models, MNIST and the encoding.
    check_output_dir(output_dir, overwrite, marker=BUILD_RECORD)
    output_dir = Path(output_dir)
    t0 = time.perf_counter()
    iv, cv, mnist = _inputs(name, image_vae, class_vae, mnist_source, (image_column, label_column), device)
    meta = _build_meta(iv.config.latent_dim, mnist, seed, output_dir.name, command)
    with atomic_dir(output_dir, overwrite=overwrite, marker=BUILD_RECORD) as tmp:
        nbytes = {
            f"bytes_{split}": _encode_and_write(iv, cv, mnist, split, seed, tmp, numpy_export, meta)
            for split in SPLITS
        }
        record = _build_record(tmp, meta, nbytes, iv, cv, image_vae, class_vae)
        _write_card_and_record(tmp, record, split_statistics(tmp, "train"))
    logger.info(
        f"Built {record_source_texts(record)['ld']} ({meta['latent_dim']}-d, seed {seed}) in "
        f"{time.perf_counter() - t0:.1f} s: {output_dir}"
    )
    return output_dir
