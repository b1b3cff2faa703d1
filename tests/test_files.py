"""Files the package writes (files.py): the shared atomic writer."""

import os
import shutil
import stat

import pytest

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.files import atomic_dir


@pytest.mark.parametrize("existing", [False, True], ids=["new target", "overwrite"])
def test_a_folder_that_appears_during_the_write_is_never_replaced(tmp_path, existing):
    """The shared writer (build, report, export, release, the MNIST cache, checkpoints): what someone puts at
    the target while the command runs stays; the command fails and leaves no temporary behind."""

    target = tmp_path / "out"
    if existing:
        with atomic_dir(target, marker="RECORD") as tmp:
            (tmp / "RECORD").write_text("an earlier run")
    changed = "created or changed by someone else while this command ran"
    with (
        pytest.raises(LDMNISTError, match=changed),
        atomic_dir(target, overwrite=True, marker="RECORD") as tmp,
    ):
        (tmp / "RECORD").write_text("this run")
        if existing:
            shutil.rmtree(target)
        target.mkdir()
        (target / "thesis.txt").write_text("years of work")
    assert sorted(p.name for p in target.iterdir()) == ["thesis.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755])
def test_atomic_write_text_keeps_the_mode_of_the_file_it_replaces(tmp_path, mode):
    from ldmnist_hf.files import atomic_write_text

    path = tmp_path / "token-like.txt"
    path.write_text("old")
    path.chmod(mode)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == mode
    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_atomic_dir_keeps_the_modes_of_what_it_replaces(tmp_path):
    """A private output (folder 0700, a file 0600) stays private when the command replaces it; new files get
    the ordinary mode."""
    target = tmp_path / "out"
    with atomic_dir(target, marker="RECORD") as tmp:
        (tmp / "RECORD").write_text("1")
        (tmp / "data.bin").write_text("1")
    target.chmod(0o700)
    (target / "data.bin").chmod(0o600)
    with atomic_dir(target, overwrite=True, marker="RECORD") as tmp:
        (tmp / "RECORD").write_text("2")
        (tmp / "data.bin").write_text("2")
        (tmp / "new.bin").write_text("2")
    umask = os.umask(0)
    os.umask(umask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [target, *target.iterdir()]}
    assert (target / "data.bin").read_text() == "2"
    assert modes["out"] == 0o700 and modes["data.bin"] == 0o600
    assert modes["new.bin"] == modes["RECORD"] == 0o666 & ~umask
