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

from .statistics import informative_components

REFERENCE_FILE = Path(__file__).with_name("reference_2020.json")


def reference_2020() -> dict:
    """The 2020 figures: `x`/`y` statistics, `published` model and benchmark figures, and the derived
    `x_informative_components` / `y_informative_components`.

    >>> ref = reference_2020()
    >>> ref["x_informative_components"], ref["y_informative_components"], ref["published"]["class_vae_accuracy"]
    (11, 6, 0.9984)
    """
    return copy.deepcopy(_load())  # a copy: callers may add to it


@functools.cache
def _load() -> dict:
    ref = json.loads(REFERENCE_FILE.read_text())
    for side in ("x", "y"):
        ref[f"{side}_informative_components"] = informative_components(ref[side]["component_std"])
    return ref
