"""Every script in bench/ runs at its smallest setting (`--smoke`) and prints its figure line.

A benchmark is run by hand, rarely: a script that no longer runs (an API it calls has changed) fails here, in
the suite, rather than on the day someone wants its figures. The figures of a smoke run mean nothing; only
that the script ran to its end and printed them. Each runs as a user runs it, `python bench/SCRIPT --smoke`,
in a scratch folder; those that read a built dataset get the session's real build.
"""

import re
import subprocess
import sys

import pytest
from helpers import ROOT

# (script, its options beyond --smoke, whether it reads a built dataset (--dataset), the figure line it prints)
SCRIPTS = [
    ("dataset_io.py", [], False, r"^the train file, zstd \+ BYTE_STREAM_SPLIT: [\d.]+ MB, column x read in"),
    ("train_step.py", ["--profile"], False, r"^ratio to bound: [\d.]+x, median of each epoch"),
    ("time_to_quality.py", ["--batch_size", "250"], False, r"^all 1 epochs: [\d.]+ s of training$"),
    ("metric_speed.py", [], True, r"^compute through evaluate \(numpy arrays\) +median +[\d.]+ ms"),
    ("leaderboard_speed.py", ["--workers", "2"], True, r"^leaderboard, warm cache: [\d.]+ s$"),
    ("explorer_latency.py", [], True, r"^slider handler \+ PNG encoding +median +[\d.]+ ms"),
    (
        "build_memory.py",
        [],
        False,
        r"^generated dataset \(2400 images, decoded batch by batch\): [\d.]+ s, peak RSS \d+ MB",
    ),
]


@pytest.mark.parametrize("script, options, reads_a_build, figure", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_script_runs_and_prints_its_figure(request, mnist, tmp_path, script, options, reads_a_build, figure):
    """`mnist` first: the scripts read real MNIST from the verified cache that fixture leaves."""
    args = [sys.executable, str(ROOT / "bench" / script), "--smoke", *options]
    if reads_a_build:
        args += ["--dataset", str(request.getfixturevalue("built") / "ldmnist")]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    assert re.search(figure, proc.stdout, flags=re.M), proc.stdout[-3000:]
