"""What an LD-MNIST dataset folder is made of: its columns, splits, Arrow schema and build record.

`ldmnist build` writes these and everything that reads a built folder checks them; each fact is stated here
once.
"""

from __future__ import annotations

import hashlib

import datasets
import numpy as np
import pyarrow as pa

LATENT_COLUMNS = ("x", "y", "x_mean", "x_std", "y_mean", "y_std")
SPLITS = ("train", "test")
BUILD_RECORD = "ldmnist_build.json"  # what `build` leaves in every folder it writes
CARD = "README.md"
BENCHMARK_FILE = "benchmark.json"  # what `ldmnist benchmark` adds beside the data, with:
BENCHMARK_MARKDOWN = "benchmark.md"  # the same table as Markdown
PREDICTIONS_DIR = "benchmark_predictions"  # the baselines' test predictions (published as their repos)
REPORT_DIR = "report"  # where `ldmnist report` writes its figures by default


def data_file(split: str) -> str:
    """The path, inside a built folder, of one split's Parquet file.

    >>> data_file("test")
    'data/test-00000-of-00001.parquet'
    """
    return f"data/{split}-00000-of-00001.parquet"


def data_files(prefix: str = "") -> list[dict]:
    """A config's `data_files` in the card: the splits' Parquet files of a built folder at `prefix` in the repo.

    >>> data_files("reference/")[0]
    {'split': 'train', 'path': 'reference/data/train-*.parquet'}
    """
    return [{"split": s, "path": f"{prefix}data/{s}-*.parquet"} for s in SPLITS]


def features(latent_dim: int, class_names=None) -> datasets.Features:
    """The columns of LD-MNIST: six float32 latent lists of length `latent_dim`, `label`, `index`.

    `class_names`: the `label` ClassLabel's names (default: MNIST's, the digits "0".."9").
    """
    vec = datasets.List(datasets.Value("float32"), length=latent_dim)
    return datasets.Features(
        {
            **{name: vec for name in LATENT_COLUMNS},
            "label": datasets.ClassLabel(names=list(class_names or [str(i) for i in range(10)])),
            "index": datasets.Value("int32"),
        }
    )


def label_problem(labels: np.ndarray, num_classes: int = 10) -> str | None:
    """Why `labels` are not classes `0..num_classes-1` (the digits' by default), naming the first bad row; `None`
    when they are.

    Whole numbers stored as floats pass here (a reader that needs an integer type checks the type itself).

    >>> label_problem(np.array([1, 3.5, 4]))
    'row 1 holds 3.5, which is not an integer (1 such row)'
    >>> label_problem(np.array([7, 0, 9])) is None
    True
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iuf":
        return f"are of type {labels.dtype}, not integers"
    whole = labels == np.round(labels) if labels.dtype.kind == "f" else np.ones(labels.shape, bool)
    outside = (f"is outside 0..{num_classes - 1}", (labels < 0) | (labels > num_classes - 1))
    for problem, bad in (("is not an integer", ~whole), outside):
        rows = np.flatnonzero(bad)  # NaN is not an integer either
        if rows.size:
            many = "s" if rows.size > 1 else ""
            return (
                f"row {rows[0]} holds {labels.flat[rows[0]]:g}, which {problem} ({rows.size} such row{many})"
            )
    return None


def latents_table(arrays: dict[str, np.ndarray], labels: np.ndarray, first_index: int = 0) -> pa.Table:
    """One split's rows (or a batch of them, from row `first_index`) as an Arrow table with the schema of
    `features`."""
    n, L = arrays["x"].shape
    cols = {
        name: pa.FixedSizeListArray.from_arrays(pa.array(arrays[name].reshape(-1), pa.float32()), L)
        for name in LATENT_COLUMNS
    }
    cols["label"] = pa.array(np.asarray(labels, np.int64), pa.int64())
    cols["index"] = pa.array(np.arange(first_index, first_index + n, dtype=np.int32))
    return pa.table(cols).cast(features(L).arrow_schema)


# How the Parquet files are written: zstd, and BYTE_STREAM_SPLIT for the float columns (their bytes regrouped
# by position, which zstd compresses far better than float32 values side by side: 0.75x the size of snappy,
# the same values), `index` delta-encoded, `label` in a dictionary. Deterministic: a rebuild is byte-identical.
PARQUET_OPTIONS = {
    "compression": "zstd",
    "use_dictionary": ["label"],
    "column_encoding": {
        **{f"{name}.list.element": "BYTE_STREAM_SPLIT" for name in LATENT_COLUMNS},
        "index": "DELTA_BINARY_PACKED",
    },
}


def fingerprint(files: dict) -> str:
    """A short digest of the data files' SHA-256 sums: it changes whenever the data does."""
    h = hashlib.sha256("".join(f"{k}:{v['sha256']}\n" for k, v in sorted(files.items())).encode())
    return h.hexdigest()[:16]
