"""Files the package writes (files.py): the shared atomic writer."""

import shutil

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
