"""A newcomer's first steps before any code runs: `make setup` and the interpreter it was given."""

import os
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

MAKE = shutil.which("make")
# What `.venv/.installed` records: the interpreter .venv was made with (the Makefile's INTERPRETER).
RECORD = "import os, sys; print(os.path.realpath(sys.executable), sys.version.split()[0])"


def _make(folder, *args, env_python: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MFLAGS")}
    if env_python:
        env["PYTHON"] = env_python
    return subprocess.run([MAKE, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def checkout(tmp_path):
    """The Makefile and the files `.venv` depends on, with a `.venv` made by `record`'s interpreter (nothing
    installed: a recipe that runs would fail, so a make that exits 0 ran none but the check)."""
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)

    def made_with(record: str):
        installed = tmp_path / ".venv" / ".installed"
        installed.write_text(record + "\n")
        newer = max((tmp_path / n).stat().st_mtime for n in ("setup.cfg", "pyproject.toml")) + 10
        os.utime(installed, (newer, newer))  # up to date: make would not rebuild it
        return tmp_path

    return made_with


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_setup_refuses_another_python_than_the_venvs(checkout):
    """`make PYTHON=X setup` with a .venv made by another interpreter stops and says how to recreate .venv; it
    did nothing before (the venv target only depended on setup.cfg and pyproject.toml)."""
    this = subprocess.run([sys.executable, "-c", RECORD], capture_output=True, text=True).stdout.strip()
    folder = checkout("/elsewhere/bin/python3.99 3.99.0")
    for proc in (
        _make(folder, f"PYTHON={sys.executable}", "setup"),
        _make(folder, "setup", env_python=sys.executable),
    ):
        assert proc.returncode != 0
        assert (
            f".venv was made with /elsewhere/bin/python3.99 3.99.0, not PYTHON={sys.executable} ({this})"
            in (proc.stderr)
        )
        assert f"rm -rf .venv && make PYTHON={sys.executable} setup" in proc.stderr
    assert _make(folder, "setup").returncode == 0  # no PYTHON given: .venv is used as it is
    folder = checkout(this)
    assert _make(folder, f"PYTHON={sys.executable}", "setup").returncode == 0  # the same interpreter


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_setup_makes_the_venv_with_python_and_installs_quietly(tmp_path):
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    proc = _make(tmp_path, "-n", f"PYTHON={sys.executable}", "setup")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert f"{sys.executable} -m venv .venv" in lines
    installs = [line for line in lines if " install " in line]
    assert len(installs) == 3
    for line in installs:  # neither pip's chatter nor the build backend's banners
        assert "--quiet" in line and line.startswith("PYTHONWARNINGS=ignore::UserWarning "), line
