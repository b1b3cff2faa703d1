"""The IDX format of the MNIST files (and Fashion-MNIST's): unsigned-byte arrays behind a small header."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

from ..errors import LDMNISTError
from .sources import IDX_FILES


def read_idx(path: str | Path) -> np.ndarray:
    """Reads one IDX file (gzipped or not) of unsigned bytes into an array.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
    >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(p).tolist()
    [7, 2, 1]
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise LDMNISTError(f"{path}: truncated or damaged gzip file ({e}).") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise LDMNISTError(
            f"{path}: bad IDX magic number {raw[:4].hex() or '(empty file)'}; expected 00000801 (labels) "
            f"or 00000803 (images) of unsigned bytes. Is this an MNIST IDX file?"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise LDMNISTError(f"{path}: file ends inside the IDX header.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = math.prod(dims)  # Python integers: a forged header cannot overflow
    if len(raw) - header != count:
        raise LDMNISTError(
            f"{path}: header announces {dims} = {count} bytes of data but the file holds "
            f"{len(raw) - header}; the file is truncated or not the one it claims to be."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(array: np.ndarray, path: str | Path) -> None:
    """Writes a uint8 array as an IDX file (gzipped when the name ends in ``.gz``)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    return None


def has_idx(folder: Path) -> bool:
    """Whether `folder` holds any of the four IDX files of a source dataset."""
    return any(find_idx(folder, stem) for stem in IDX_FILES.values())


def read_idx_folder(folder: str | Path) -> dict[str, np.ndarray]:
    """The four arrays (keyed as `sources.IDX_FILES`) from a folder of IDX files, gzipped or not."""
    folder = Path(folder)
    found = {name: find_idx(folder, stem) for name, stem in IDX_FILES.items()}
    missing = [IDX_FILES[n] for n, p in found.items() if p is None]
    if missing:
        raise LDMNISTError(f"{folder}: missing IDX file(s) {', '.join(missing)} (optionally with .gz).")
    arrays = {name: read_idx(p) for name, p in found.items()}
    for name, a in arrays.items():
        want = 3 if name.endswith("images") else 1
        if a.ndim != want:
            raise LDMNISTError(f"{found[name]}: has {a.ndim} dimension(s), expected {want} for {name}.")
    return arrays
