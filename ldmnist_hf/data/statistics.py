"""Statistics of latent vectors: global and per-component mean and std, and the informative components.

A latent component is "informative" when its sampled values vary less than `INFORMATIVE_STD` across a data
set: the KL term pushes unused components to std 1, and used ones end near 0.67 under the reference sampling.
This module is the one place that threshold and that count live.
"""

from __future__ import annotations

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
        std = a.std(0)
        out[name] = {
            "mean": float(a.mean()),
            "std": float(a.std()),
            "component_mean": a.mean(0).tolist(),
            "component_std": std.tolist(),
            "informative_components": informative_components(std),
            "informative_std": INFORMATIVE_STD,
        }
    return out
