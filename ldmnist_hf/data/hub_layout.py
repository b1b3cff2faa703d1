"""A source dataset in the ylecun/mnist layout (Parquet, PNG `image` and integer `label` columns), read through
`datasets` from the Hub (`ylecun/mnist`, `zalando-datasets/fashion_mnist`) or from a local folder.

`read_hub_arrays` returns the four raw arrays; `mnist.py` checks them against the dataset's checksums.
"""

from __future__ import annotations

import io
import os
import re
import socket
from pathlib import Path
from urllib.parse import urlparse

import datasets
import numpy as np
from huggingface_hub import constants
from PIL import Image

from ..errors import LDMNISTError, first_line
from .schema import BUILD_RECORD

_HUB_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub's endpoint answers a TCP connection (never, with `HF_HUB_OFFLINE` set)."""
    if os.environ.get("HF_HUB_OFFLINE", "0").upper() in ("1", "ON", "YES", "TRUE"):
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def check_hub_repo(repo, example: str) -> None:
    """A Hub dataset id (owner/name, like `example`), or a local folder holding Parquet files in its layout."""
    if isinstance(repo, str) and os.path.isdir(repo):
        if not any(Path(repo).glob("*.parquet")) and not any(Path(repo).glob("*/*.parquet")):
            raise LDMNISTError(
                f"`hub_repo` {repo} is a folder without Parquet files (the ylecun/mnist layout)."
            )
    elif not isinstance(repo, str) or not _HUB_REPO_ID.fullmatch(repo) or ".." in repo:
        raise LDMNISTError(
            f"`hub_repo` {repo!r} is neither a Hub dataset id (owner/name, e.g. {example}) nor a folder in "
            f"that layout."
        )


def read_hub_arrays(repo: str, title: str, elsewhere: str) -> dict[str, np.ndarray]:
    """The four arrays of a dataset in the ylecun/mnist layout, through `datasets.load_dataset`.

    Args:
        repo (`str`): a Hub dataset id or a local folder in that layout.
        title (`str`): the source dataset's name in messages (`"MNIST"`).
        elsewhere (`str`): the other places to name when the Hub cannot be reached.
    """
    if os.path.isdir(repo) and os.path.exists(os.path.join(repo, BUILD_RECORD)):
        raise LDMNISTError(f"{repo} is an LD-MNIST dataset (latents), not {title}. {elsewhere}")
    if not os.path.isdir(repo) and not hub_reachable():
        raise LDMNISTError(
            f"The Hugging Face Hub is not reachable (or HF_HUB_OFFLINE is set), so {repo} cannot be loaded. "
            f"{elsewhere}"
        )
    try:
        ds = datasets.load_dataset(repo)
    except (OSError, ValueError, ImportError) as e:  # ConnectionError and FileNotFoundError are OSErrors
        raise LDMNISTError(f"Could not load {title} from {repo} ({first_line(e)}). {elsewhere}") from e
    arrays = {}
    for split in ("train", "test"):
        if split not in ds:
            raise LDMNISTError(f"{repo}: has no '{split}' split (found {list(ds)}).")
        columns = ds[split].column_names
        if "image" not in columns or "label" not in columns:
            raise LDMNISTError(
                f"{repo}: the {split} split has columns {', '.join(columns)}, not the image/label columns of "
                f"the ylecun/mnist layout."
            )
        table = ds[split].cast_column("image", datasets.Image(decode=False)).with_format("arrow")[:]
        images = [
            open_image(cell["bytes"] if isinstance(cell, dict) else None, f"{repo} ({split} row {i})", "L")
            for i, cell in enumerate(table.column("image").to_pylist())
        ]
        arrays[f"{split}_images"] = np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)
        arrays[f"{split}_labels"] = table.column("label").to_numpy()
    return arrays


def open_image(cell, where: str, mode: str | None = None):
    """One image cell (its bytes, or a `{"bytes", "path"}` dict as `datasets` stores images): the opened PIL
    image (its header read, its pixels not yet), or with `mode` its pixels converted to that PIL mode as a uint8
    array. A damaged or truncated image is one clear error, whether the header or the pixels are broken."""
    data = cell.get("bytes") if isinstance(cell, dict) else cell
    path = cell.get("path") if isinstance(cell, dict) else None
    try:
        image = Image.open(io.BytesIO(data) if data is not None else path)
        return image if mode is None else np.asarray(image.convert(mode), dtype=np.uint8)
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError... for broken images
        raise LDMNISTError(
            f"{where}: an image cannot be decoded ({first_line(e)}); the data is damaged."
        ) from e
