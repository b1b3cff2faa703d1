"""Statistics of latent vectors: global and per-component mean and std, and the informative components.

A latent component is "informative" when its sampled values vary less than `INFORMATIVE_STD` across a data
set: the KL term pushes unused components to std 1, and used ones end near 0.67 under the reference sampling.
This module is the one place that threshold and that count live.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

INFORMATIVE_STD = 0.8


def is_informative(component_std) -> np.ndarray:
    """Per component, whether its std is below `INFORMATIVE_STD`.

    >>> is_informative([0.67, 1.0, 0.79]).tolist()
    [True, False, True]
    """
    return np.asarray(component_std, dtype=np.float64) < INFORMATIVE_STD


def informative_components(component_std) -> int:
    """How many components are informative: the ones a VAE uses to carry information."""
    return int(is_informative(component_std).sum())


def latent_statistics(x: np.ndarray, y: np.ndarray) -> dict:
    """Global and per-component mean/std of `x` and `y` `(N, L)`, as the reference printed them.

    Each side also counts its informative components (std below `informative_std`, stored beside it).

    >>> stats = latent_statistics(np.array([[0.0, 0.0], [1.0, 2.0]]), np.zeros((2, 2)))
    >>> stats["x"]["component_std"], stats["x"]["informative_components"]
    ([0.5, 1.0], 1)
    """
    out = {}
    for name, a in (("x", x), ("y", y)):
        a = np.asarray(a, np.float64)
        out[name] = _side(a.mean(), a.std(), a.mean(0), a.std(0))
    return out


def _side(mean, std, component_mean: np.ndarray, component_std: np.ndarray) -> dict:
    """One side's statistics as `latent_statistics` gives them."""
    return {
        "mean": float(mean),
        "std": float(std),
        "component_mean": component_mean.tolist(),
        "component_std": component_std.tolist(),
        "informative_components": informative_components(component_std),
        "informative_std": INFORMATIVE_STD,
    }


EXACT_ROWS = 1 << 16  # up to this many rows (MNIST's 60000), statistics come from the whole arrays, exactly


def split_statistics(folder, split: str = "train") -> dict:
    """`latent_statistics` of one split of a built folder, read from its Parquet file(s).

    Up to `EXACT_ROWS` rows the `x` and `y` columns are read whole (the figures are exactly
    `latent_statistics`'); above, they are accumulated row group by row group in float64 (sums of values and
    of squares), so memory holds one row group whatever the split's size.
    """
    import pyarrow.parquet as pq

    from .read import load_latents
    from .schema import data_file

    path = Path(folder) / data_file(split)
    meta = pq.ParquetFile(path)
    if meta.metadata.num_rows <= EXACT_ROWS:
        return latent_statistics(*load_latents(folder, split))
    sums = {}
    for i in range(meta.num_row_groups):
        group = meta.read_row_group(i, columns=["x", "y"])
        for name in ("x", "y"):
            a = _as_matrix(group.column(name)).astype(np.float64)
            n, s, q = sums.get(name, (0, 0.0, 0.0))
            sums[name] = (n + len(a), s + a.sum(0), q + (a * a).sum(0))
    return {name: _from_sums(*sums[name]) for name in ("x", "y")}


def _as_matrix(column) -> np.ndarray:
    """A row group's fixed-size-list column as a `(N, L)` array (no copy where Arrow allows)."""
    flat = column.combine_chunks()
    return flat.values.to_numpy(zero_copy_only=False).reshape(len(flat), -1)


def _from_sums(n: int, total: np.ndarray, squares: np.ndarray) -> dict:
    """`_side` from the count, the per-component sums of values and of their squares."""
    mean = total / n
    std = np.sqrt(np.maximum(squares / n - mean**2, 0.0))
    overall = total.sum() / (n * len(total))
    overall_std = np.sqrt(max(squares.sum() / (n * len(total)) - overall**2, 0.0))
    return _side(overall, overall_std, mean, std)
