"""The Spaces of an export (hub/space_repos.py): the metric script names the exported class VAEs, pins."""

import difflib
import re
from pathlib import Path

from conftest import IDS

import ldmnist_hf


def test_space_script_differs_from_the_package_metric_in_one_line(exported):
    _, folders = exported
    package = (Path(ldmnist_hf.METRIC_PATH) / "ldmnist.py").read_text().splitlines()
    space = (folders["metric"] / "ldmnist.py").read_text().splitlines()
    changed = [line for line in difflib.unified_diff(package, space, lineterm="", n=0) if line[:1] in "+-"]
    assert changed == [
        "--- ",
        "+++ ",
        "-CLASS_VAES = {}",
        f'+CLASS_VAES = {{"default": "{IDS["class_vae"]}", "ld16": "{IDS["class_vae16"]}"}}',
    ]
    for space in ("metric", "explorer"):
        pins = [
            line for line in (folders[space] / "requirements.txt").read_text().splitlines() if line[:1] != "#"
        ]
        assert pins and all(re.fullmatch(r"[\w-]+==[\w.]+", line) for line in pins), pins  # pinned
