"""Atomic output folders and files: an output appears whole or not at all, replaces only what its command
wrote (`listing`), and keeps the mode of what it replaces.

Every writer goes through `atomic_dir` or `atomic_write_text`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import LDMNISTError, first_line
from .listing import WRITTEN, briefly, foreign_files, record_written


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's live process (or not a PID we can judge): leave its folder alone
    return True


def remove_stale_temporaries(target: str | Path) -> list[Path]:
    """Removes `.NAME.tmp-PID-*` / `.NAME.old-PID-*` folders and files beside `target` left by processes that
    died.

    Killed writers leave these behind (`atomic_dir` and `atomic_write_text` put their PID in the name); one of
    a live process, or one whose name holds no PID, is left alone, and so is a link.

    Returns:
        The folders and files removed.
    """
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-(\d+)-")
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for path in siblings:
        m = pattern.match(path.name)
        if not m or path.is_symlink() or _pid_alive(int(m.group(2))):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            continue
        removed.append(path)
    return removed


def check_output_dir(
    target: str | Path,
    overwrite: bool = False,
    marker: str | tuple[str, ...] = (),
    fix: str = "choose another path",
    legacy: tuple[str, ...] = (),
) -> Path:
    """Checks that a command may write the folder `target`, before it does any work.

    Args:
        target: the folder to create or replace.
        overwrite (`bool`, defaults to `False`): whether an existing folder may be replaced.
        marker (`str` or `tuple[str]`): file(s) that a previous run of the same command leaves in the folder;
            an existing folder is replaced only when it is empty or holds one of them, so that a command
            never deletes what it did not write.
        legacy (`tuple[str]`): see `foreign_files`.

    Returns:
        `target` as an absolute path.

    Raises:
        `LDMNISTError`: the path is a file, the current folder (or one above it), a folder this command did
            not write, exists without `overwrite`, or cannot be written (then `fix` says what to do).
    """
    given = target
    target = Path(target).expanduser().absolute()
    markers = (marker,) if isinstance(marker, str) else tuple(marker)
    try:
        present = target.exists() or target.is_symlink()
    except OSError as e:  # a name too long for the file system, a folder we may not look into
        raise LDMNISTError(_cannot_write(given, e, fix)) from e
    if present:
        _check_replaceable(given, target, overwrite, markers, legacy)
    parent = target.parent
    while not parent.exists():  # the nearest existing folder above must be writable
        parent = parent.parent
    if not parent.is_dir():
        raise LDMNISTError(f"Cannot create {given}: {parent} is a file, not a folder.")
    try:  # a real probe: permission bits say nothing to root, and nothing about read-only mounts
        os.rmdir(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=parent))
    except OSError as e:
        raise LDMNISTError(_cannot_write(given, e, fix, parent)) from e
    return target


def _cannot_write(given, e: OSError, fix: str, parent: Path | None = None) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return f"Cannot write {given}: its name is too long for the file system; choose a shorter one."
    if parent is not None:
        return f"Cannot write {given}: {parent} is not writable ({e.strerror}); {fix}."
    return f"Cannot write {given}: {e.strerror or e}; {fix}."


def _check_replaceable(
    given, target: Path, overwrite: bool, markers: tuple[str, ...], legacy: tuple[str, ...]
) -> None:
    """An existing `target` may be replaced: a folder, not the current one, `overwrite` given, and empty or
    holding a marker of the command's earlier run and nothing that no command of this package wrote."""
    if not target.is_dir() or target.is_symlink():
        raise LDMNISTError(
            f"{given} exists and is not a folder (a file or a link); choose another output path."
        )
    if Path.cwd().resolve().is_relative_to(target.resolve()):
        raise LDMNISTError(
            f"{given} is the current folder or holds it; choose an output path below it, e.g. {given}/out."
        )
    if not overwrite:
        raise LDMNISTError(
            f"{given} already exists; pass `overwrite=True` to replace it, or choose another path."
        )
    try:
        foreign = _not_ours(target, markers, legacy)
    except OSError as e:
        raise LDMNISTError(f"{given} cannot be read ({e.strerror}); choose another output path.") from e
    if foreign is None:
        what = f"no {' or '.join(markers)} in it" if markers else "not empty"
        raise LDMNISTError(
            f"{given} holds files this command did not write ({what}); `overwrite` replaces only "
            f"an empty folder or one a previous run of it wrote. Remove it yourself or choose another path."
        )
    if foreign:
        raise LDMNISTError(_foreign_message(given, target, foreign))


def _not_ours(target: Path, markers: tuple[str, ...], legacy: tuple[str, ...]) -> list[str] | None:
    """What keeps the folder `target` from being this command's to replace: `[]` when nothing does (it is
    empty, or holds a marker of the command and only what ldmnist commands wrote), `None` when it holds no
    marker, else the files no ldmnist command wrote. Raises `OSError` when the folder cannot be read."""
    if not any(target.iterdir()):
        return []
    if not any((target / m).exists() for m in markers):
        return None
    return foreign_files(target, legacy)


def _foreign_message(given, target: Path, foreign: list[str]) -> str:
    shown = briefly(foreign)
    why = (
        f"it has no {WRITTEN} listing what an ldmnist command wrote there (an older version's output, "
        "or a folder made by hand)"
        if not (target / WRITTEN).is_file()
        else f"its {WRITTEN} does not list them"
    )
    return (
        f"{given} holds {shown}, which no ldmnist command wrote there ({why}); `overwrite` replaces only "
        f"what the command wrote, so nothing was replaced. Move those files out of the folder, remove the "
        f"folder yourself, or choose another path."
    )


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path, follow_symlinks=False)
    return st.st_dev, st.st_ino


_RENAME_NOREPLACE, _AT_FDCWD = 1, -100
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (OSError, AttributeError):  # not glibc >= 2.28 on Linux
    _renameat2 = None


def rename_noreplace(src: Path, dst: Path) -> None:
    """Renames `src` to `dst` atomically, failing with `FileExistsError` when `dst` exists (even an empty folder).

    `os.rename` silently replaces an empty folder at `dst`; Linux's `renameat2(RENAME_NOREPLACE)` does not.
    Where that call is missing or the file system refuses it, an existence check before the rename is the
    fallback (a window of microseconds instead of none).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").mkdir(); (d / "b").mkdir()
    >>> rename_noreplace(d / "a", d / "b")
    Traceback (most recent call last):
    ...
    FileExistsError: [Errno 17] File exists: ...
    """
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(err, os.strerror(err), str(dst))
        if err not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # not: this file system cannot do it
            raise OSError(err, os.strerror(err), str(src))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


def _swap_in(tmp: Path, target: Path, expected: tuple[int, int] | None, markers, legacy, given) -> None:
    """Moves the finished `tmp` to `target`, replacing only the very folder that was checked at the start.

    `expected` is that folder's identity (device, inode), or `None` when the target did not exist. A folder
    that appeared at the target meanwhile, another one in place of the checked one, or the checked one with a
    file saved into it since (one no ldmnist command wrote), is left alone and the command fails: two
    commands writing one target never both succeed, and nothing is lost.
    """
    changed = (
        f"{given} was created or changed by someone else while this command ran; it is left as it is and "
        f"nothing was written. Run the command again."
    )
    if expected is None:
        try:
            rename_noreplace(tmp, target)
        except FileExistsError as e:
            raise LDMNISTError(changed) from e
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        rename_noreplace(target, old)  # from here on, nothing new can be saved under `target`'s name
    except FileNotFoundError as e:
        raise LDMNISTError(changed) from e
    try:  # still the folder that was checked, and still ours?
        foreign = _not_ours(old, markers, legacy) if _identity(old) == expected else None
    except OSError:
        foreign = None
    if foreign != []:
        try:
            rename_noreplace(old, target)  # not ours: put it back
        except FileExistsError as e:
            raise LDMNISTError(f"{changed} (The folder that was there is now {old}.)") from e
        if foreign:
            raise LDMNISTError(
                f"{given} gained {briefly(foreign)} while this command ran, which no ldmnist command wrote: the folder "
                f"is left as it is and nothing was written. Move those files out of it and run the command "
                f"again."
            )
        raise LDMNISTError(changed)
    try:
        rename_noreplace(tmp, target)
    except FileExistsError as e:
        raise LDMNISTError(f"{changed} (The earlier result is kept as {old}.)") from e
    shutil.rmtree(old, ignore_errors=True)


def _in_the_way(target: Path) -> tuple[Path, str]:
    """What stands where `target` must go: a folder at its place, or a file where one of its folders must be."""
    if target.is_dir() and not target.is_symlink():
        return target, "a folder"
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            return parent, "a file where a folder is needed"
    return target, "in the way"


def write_error(target, error: BaseException, fix: str = "choose another path") -> LDMNISTError:
    """One clear error for a write that failed, naming the `target` the user gave (never a temporary) and
    advice that fits the cause: a full disk, permissions or a read-only mount, a folder or file in the way, a
    name too long; else the system's own words. `fix` is what else to do (another path, another setting)."""
    given, code = Path(target), getattr(error, "errno", None)
    if code is None and "No space left" in str(error):  # safetensors' and other libraries' own errors
        code = errno.ENOSPC
    where = Path(getattr(error, "filename", None) or given)
    ours = [p.name.startswith(f".{given.name}.") for p in (where, *where.parents)]  # our temporaries
    if code == errno.ENAMETOOLONG:
        return LDMNISTError(
            f"Cannot write {target}: a file name is too long for the file system; choose a shorter path."
        )
    if code in (errno.ENOSPC, errno.EDQUOT):
        what = "the disk is full" if code == errno.ENOSPC else "the disk quota is used up"
        return LDMNISTError(f"Cannot write {target}: {what}; nothing was written. Free some space, or {fix}.")
    if code in (errno.EISDIR, errno.EEXIST, errno.ENOTDIR) and not any(ours[1:]):  # not inside a temporary
        blocker, what = _in_the_way(given.expanduser().absolute())
        return LDMNISTError(
            f"Cannot write {target}: {blocker} is {what}; nothing was written. Move it away, or {fix}."
        )
    where = f" ({where})" if where != given and not any(ours) else ""
    if code in (errno.EACCES, errno.EPERM):
        return LDMNISTError(
            f"Cannot write {target}: permission denied{where}; nothing was written. Change the permissions "
            f"of its folder, or {fix}."
        )
    if code == errno.EROFS:
        return LDMNISTError(
            f"Cannot write {target}: the file system is read-only; nothing was written: {fix}."
        )
    reason = getattr(error, "strerror", None) or first_line(error)
    return LDMNISTError(f"Cannot write {target}: {reason}{where}; nothing was written: {fix}.")


@contextlib.contextmanager
def atomic_dir(
    target: str | Path,
    overwrite: bool = False,
    marker: str | tuple[str, ...] = (),
    fix: str = "choose another path",
    legacy: tuple[str, ...] = (),
) -> Iterator[Path]:
    """Yields a temporary folder beside ``target`` and moves it into place only on success.

    An interrupted write leaves ``target`` as it was (absent or old); nothing half-written is seen. The move
    replaces only the folder that `check_output_dir` accepted at the start (the same folder, still empty or
    holding `marker` and nothing no ldmnist command wrote), with a no-replace rename: a folder that someone
    creates at the target meanwhile, or a second command's result, is never replaced (the later command fails
    instead). The temporary folder is
    named ``.NAME.tmp-PID-*``, so a later call removes those of dead processes. A failed write (a full disk)
    is one `LDMNISTError` naming the target; `fix` says what to do about it. The result carries a listing of
    its files (`WRITTEN`), what a later `overwrite` may replace; `legacy` is for folders written before
    listings existed (see `foreign_files`).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "result"
    >>> with atomic_dir(out) as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> (out / "a.txt").read_text()
    'done'
    """
    given = target
    markers = (marker,) if isinstance(marker, str) else tuple(marker)
    target = check_output_dir(target, overwrite, markers, fix, legacy)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        expected = _identity(target) if target.exists() else None
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as e:
        raise write_error(given, e, fix) from e
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; the result is an ordinary folder
    try:
        try:
            yield tmp
            for path in tmp.rglob("*"):  # some writers make private files; publishable outputs are ordinary
                if path.is_file():
                    os.chmod(path, 0o666 & ~_umask())
            record_written(tmp)
            if expected is not None:
                _keep_modes(target, tmp)
        except OSError as e:
            raise write_error(given, e, fix) from e
        except Exception as e:
            if "No space left" in str(e) or type(e).__name__ == "SafetensorError":  # safetensors' own errors
                raise write_error(given, e, fix) from e
            raise
        _swap_in(tmp, target, expected, markers, legacy, given)
        if (target.parent / WRITTEN).is_file():  # written into another command's output: it is ldmnist's too
            record_written(target.parent, [f"{target.name}/"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _keep_mode(before: os.stat_result, path: Path) -> None:
    """`path` gets the mode and, where the process may set it, the owner of the file or folder it replaces."""
    os.chmod(path, stat.S_IMODE(before.st_mode))
    if (before.st_uid, before.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(PermissionError):  # only root, or the owner for the group, may
            os.chown(path, before.st_uid, before.st_gid)


def _keep_modes(old: Path, new: Path) -> None:
    """A replaced folder's mode and owner, and those of each file it had, pass to the new one's same paths:
    a private (0700, 0600) output stays private when it is rebuilt."""
    _keep_mode(old.stat(), new)
    for path in new.rglob("*"):
        before = old / path.relative_to(new)
        if path.is_file() and before.is_file() and not before.is_symlink():
            _keep_mode(before.stat(), path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Writes a file through a temporary sibling and a rename; a file it replaces keeps its mode (a private
    0600 file stays private) and, where the process may set it, its owner.

    The temporary is named ``.NAME.tmp-PID-*``, so a later call removes those of killed processes."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        before = path.stat() if path.is_file() else None
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if before is not None:
            _keep_mode(before, Path(tmp))
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as e:
        raise write_error(path, e) from e
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):  # renamed into place: nothing left to remove
                os.remove(tmp)
