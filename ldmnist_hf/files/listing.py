"""The listing each output folder carries of what an ldmnist command wrote into it (`WRITTEN`), and what in a
folder is not on it (`foreign_files`): what `overwrite` may replace and what it must refuse."""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path

# The listing every output folder carries of the files an ldmnist command wrote into it (JSON: relative
# POSIX paths). `overwrite` replaces a folder only when everything in it is listed (here, or in the listing of
# a sub-folder another command wrote): a file of the user's is never deleted. Hidden, so `datasets`, the
# wheel and `ldmnist export` leave it out.
WRITTEN = ".ldmnist-written"


def _listing(folder: Path) -> set[str]:
    """The paths `folder`'s listing names (none when it has no listing or a damaged one)."""
    try:
        paths = json.loads((folder / WRITTEN).read_text())["paths"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {p for p in paths if isinstance(p, str)} if isinstance(paths, list) else set()


def record_written(folder: str | Path, paths: list[str] | None = None) -> None:
    """Adds `paths` (relative to `folder`) to the folder's listing of what ldmnist wrote; `None` lists every
    file in it (what `atomic_dir` does to the folder it is about to move into place)."""
    folder = Path(folder)
    if paths is None:
        found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
        listed = found - {WRITTEN}
    else:
        listed = _listing(folder) | {
            Path(p).as_posix() + ("/" if str(p).endswith("/") else "") for p in paths
        }
    text = json.dumps({"written_by": "ldmnist-hf", "paths": sorted(listed)}, indent=1) + "\n"
    if paths is None:
        (folder / WRITTEN).write_text(text)
    else:
        from .atomic import atomic_write_text  # the writer sits above the listing

        atomic_write_text(folder / WRITTEN, text)


def briefly(paths: list[str], most: int = 5) -> str:
    """The first `most` paths and how many more, for a message.

    >>> briefly(["a", "b", "c"], most=2)
    'a, b and 1 more'
    """
    return ", ".join(paths[:most]) + (f" and {len(paths) - most} more" if len(paths) > most else "")


def foreign_files(folder: str | Path, legacy: tuple[str, ...] = ()) -> list[str]:
    """The files (and links) in `folder` that no ldmnist command wrote: neither in its listing nor inside a
    sub-folder that another command wrote there (listed as `NAME/`, `atomic_dir` adds it) and whose own listing
    names them; an ldmnist output copied in by hand is the user's. Empty folders are not counted (nothing is
    lost with them).

    Args:
        folder: the folder.
        legacy (`tuple[str]`): for a folder without a listing (written before listings existed), glob
            patterns of the relative paths its writer always writes; they count as written.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "ours.txt").write_text("1")
    >>> record_written(d, ["ours.txt"]); _ = (d / "notes.md").write_text("mine")
    >>> foreign_files(d)
    ['notes.md']
    """
    folder = Path(folder)
    if (folder / WRITTEN).is_file() or not legacy:
        return _foreign_below(folder, _listing(folder), "")
    found = _foreign_below(folder, set(), "")
    return [p for p in found if not any(fnmatch.fnmatchcase(p, g) for g in legacy)]


def _foreign_below(root: Path, listed: set[str], rel: str) -> list[str]:
    found = []
    for entry in sorted(os.scandir(root / rel), key=lambda e: e.name):
        name = f"{rel}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            sub = root / name
            if f"{name}/" in listed and (sub / WRITTEN).is_file():  # another command's output, written here
                found += [f"{name}/{p}" for p in foreign_files(sub)]
            else:
                found += _foreign_below(root, listed, f"{name}/")
        elif name not in listed and name != WRITTEN:
            found.append(name)
    return found
