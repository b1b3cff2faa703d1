"""The README's Python examples run as written, in a folder where `ldmnist build` wrote ./ldmnist."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(built, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    # the Hub example runs in test_publish.py, against an export
    blocks = [b for b in blocks if 'NS = "your-namespace"' not in b]
    assert len(blocks) >= 4
    monkeypatch.chdir(built)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace: dict = {}
    for block in blocks:  # in order: later examples use names from earlier ones, as a reader would
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["x"].shape == (60000, 32)
    assert namespace["reconstruction"].shape == (8, 28, 28)
    assert os.getcwd() == str(built)
