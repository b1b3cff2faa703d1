"""The texts every card shares (rendering/texts.py): the dataset's citation, and the metric script's copy."""

import ast
import re
from pathlib import Path

from ldmnist_hf.rendering import DATASET_CITATION as CITATION


def _bibtex(text: str) -> tuple[str, dict]:
    head, *fields, end = text.strip().splitlines()
    assert end == "}"
    return head, dict(re.fullmatch(r"\s*(\w+)\s*=\s*\{(.*)\},?", f).groups() for f in fields)


def test_metric_cites_the_dataset_entry():
    """The metric file keeps its own `_CITATION` (it is uploaded alone as a Space): the dataset's entry
    without the dataset's `note`."""
    from ldmnist_hf import METRIC_PATH

    tree = ast.parse((Path(METRIC_PATH) / "ldmnist.py").read_text())
    (metric,) = [
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and [t.id for t in n.targets] == ["_CITATION"]
    ]
    head, fields = _bibtex(CITATION)
    assert fields["note"] and _bibtex(metric) == (head, {k: v for k, v in fields.items() if k != "note"})
