"""Small shared helpers: the package's error type, atomic output folders, cache location, logging."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


class LDMNISTError(ValueError):
    """An error a user can fix; the command line prints its message alone and exits with status 1."""


def cache_dir() -> Path:
    """Where verified downloads live: ``$LDMNIST_CACHE``, else ``$XDG_CACHE_HOME/ldmnist``, else ``~/.cache/ldmnist``."""
    if os.environ.get("LDMNIST_CACHE"):
        return Path(os.environ["LDMNIST_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ldmnist"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def log(message: str) -> None:
    """Progress for people goes to stderr, so stdout stays clean for results."""
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yields a temporary folder beside ``target`` and renames it into place only on success.

    An interrupted write leaves ``target`` as it was (absent or old); nothing half-written is seen.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "result"
    >>> with atomic_dir(out) as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> (out / "a.txt").read_text()
    'done'
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise LDMNISTError(
            f"{target} already exists; pass --overwrite to replace it, or choose another path."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield tmp
        for path in tmp.rglob("*"):  # some writers make private files; publishable outputs are ordinary ones
            if path.is_file():
                os.chmod(path, 0o666 & ~_umask())
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Writes a file through a temporary sibling and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def replace_block(path: str | Path, name: str, content: str) -> None:
    """Replaces the text between `<!-- {name}:start -->` and `<!-- {name}:end -->` in a Markdown file."""
    path = Path(path)
    text = path.read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise LDMNISTError(f"{path} has no {start} ... {end} block to fill.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    atomic_write_text(path, f"{head}{start}\n{content}\n{end}{tail}")
