"""The 2020 reference's published figures, read from `reference_2020.json` beside this module.

That file is the one place they are written: its dataset statistics (train split) and, under
`published`, the figures of its models and benchmark. Counts of informative components are derived
from its per-component std with the package's one threshold (`statistics.INFORMATIVE_STD`).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import numpy as np

from .statistics import informative_components, is_informative

REFERENCE_FILE = Path(__file__).with_name("reference_2020.json")


def reference_2020() -> dict:
    """The 2020 figures: `x`/`y` statistics, `published` model and benchmark figures, `run_here` (its code's
    speed measured here), and the derived `x_informative_components` / `y_informative_components`,
    `informative_std_level` (the mean std of its informative image components) and `train_hours_here`.

    >>> ref = reference_2020()
    >>> ref["x_informative_components"], ref["y_informative_components"], ref["published"]["class_vae_accuracy"]
    (11, 6, 0.9984)
    >>> ref["informative_std_level"], round(ref["train_hours_here"], 1)
    (0.68, 5.8)
    """
    return copy.deepcopy(_load())  # a copy: callers may add to it


@functools.cache
def _load() -> dict:
    ref = json.loads(REFERENCE_FILE.read_text())
    for side in ("x", "y"):
        ref[f"{side}_informative_components"] = informative_components(ref[side]["component_std"])
    std = np.asarray(ref["x"]["component_std"])
    ref["informative_std_level"] = round(float(std[is_informative(std)].mean()), 2)  # where they end: ~0.68
    run = ref["run_here"]
    ref["train_hours_here"] = run["seconds_per_epoch"] * run["epochs"] / 3600
    return ref
