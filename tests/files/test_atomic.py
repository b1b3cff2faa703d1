"""Files the package writes (files/atomic.py): the shared atomic writer."""

import errno
import os
import shutil
import stat

import pytest
from helpers import bad_input_test

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.files.atomic import atomic_dir, atomic_write_text


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


def test_atomic_write_text_removes_the_temporaries_of_killed_writers_only(tmp_path):
    """A writer killed between its temporary and the rename (`kill -9`) leaves `.NAME.tmp-PID-*` beside the
    target: the next write removes it when that process is dead, and leaves a live process's alone."""
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    path = tmp_path / "summary.json"
    stale = tmp_path / f".summary.json.tmp-{int(dead.stdout)}-abc123"
    live = tmp_path / f".summary.json.tmp-{os.getpid()}-def456"
    other = tmp_path / f".other.json.tmp-{int(dead.stdout)}-abc123"  # another target's: not this write's
    for leftover in (stale, live, other):
        leftover.write_text("half")
    atomic_write_text(path, "{}")
    assert path.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, live.name, other.name])


def _failing_replace(code: int):
    """`os.replace` failing with `code` on the temporary, as a full disk or a read-only mount does."""

    def replace(src, dst):
        raise OSError(code, os.strerror(code), str(src))

    return replace


def _write_failing(c, code: int):
    c.monkeypatch.setattr(os, "replace", _failing_replace(code))
    atomic_write_text(c.tmp / "out.json", "{}")


def _write_onto_folder(c):
    (c.tmp / "out.json").mkdir()
    atomic_write_text(c.tmp / "out.json", "{}")


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`. A failed
# write names the target and the cause's own advice, never the temporary (`.out.json.tmp-PID-...`).
BAD_INPUT = [
    ("write-onto-a-folder", _write_onto_folder, LDMNISTError, "out.json is a folder; nothing was written"),
    (
        "write-below-a-file",
        lambda c: atomic_write_text(c.file() / "out.json", "{}"),
        LDMNISTError,
        "afile is a file where a folder is needed; nothing was written. Move it away",
    ),
    (
        "write-disk-full",
        lambda c: _write_failing(c, errno.ENOSPC),
        LDMNISTError,
        "out.json: the disk is full; nothing was written. Free some space",
    ),
    (
        "write-quota",
        lambda c: _write_failing(c, errno.EDQUOT),
        LDMNISTError,
        "out.json: the disk quota is used up; nothing was written. Free some space",
    ),
    (
        "write-permission-denied",
        lambda c: _write_failing(c, errno.EACCES),
        LDMNISTError,
        "out.json: permission denied; nothing was written. Change the permissions",
    ),
    (
        "write-read-only",
        lambda c: _write_failing(c, errno.EROFS),
        LDMNISTError,
        "out.json: the file system is read-only; nothing was written",
    ),
    (
        "write-other-error",
        lambda c: _write_failing(c, errno.EIO),
        LDMNISTError,
        "out.json: Input/output error; nothing was written: choose another path.",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
