"""A newcomer's first steps before any code runs: `make setup` and the interpreter it was given, and the sdist
(its license, and the test suite with everything the tests read)."""

import os
import shutil
import subprocess
import sys
import tarfile

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


# ----------------------------------------------------------------------------- the sdist

# What the sdist is built from: the package, the tests and what they read, the project's files.
SOURCES = ("ldmnist_hf", "tests", "docs", "bench", "loading_script")
FILES = ("README.md", "LICENSE", "Makefile", "MANIFEST.in", "setup.cfg", "pyproject.toml")


def _files(folder) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    }


def test_sdist_carries_the_license_and_what_the_tests_read(tmp_path):
    """The sdist holds LICENSE (the MIT text setup.cfg declares) and every file of tests/, docs/, bench/ and
    loading_script/ (the tests run the README's and the docs' code, the bench scripts and the loading script,
    and read tests/hub/schemas/*.json): its tests run from it."""
    source = tmp_path / "source"
    for name in SOURCES:
        # .ldmnist-written: a local release's listing (gitignored, never in an sdist: MANIFEST.in)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ldmnist-written")
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in FILES:
        shutil.copy2(ROOT / name, source / name)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(tmp_path / proc.stdout.strip().splitlines()[-1]) as tar:
        top = tar.getnames()[0].split("/")[0]
        sdist = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n and tar.getmember(n).isfile()}
        license_text = tar.extractfile(f"{top}/LICENSE").read().decode()
        pkg_info = tar.extractfile(f"{top}/PKG-INFO").read().decode()
    missing = _files(source) - sdist
    assert not missing, sorted(missing)
    assert "tests/hub/schemas/eval_results.schema.json" in sdist and "docs/report/importance.png" in sdist
    assert license_text.startswith("MIT License") and "License: MIT" in pkg_info.splitlines()
    assert "License-File: LICENSE" in pkg_info.splitlines()
