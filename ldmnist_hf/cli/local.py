"""The commands that make things on this machine: training, releases, cards, building and checking a dataset
(fetching a source dataset: `fetch.py`; measuring a built one: `analysis.py`).

Each is a dataclass: its fields are its options (`options.option`), `run` a thin call into the library.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..registry import DEFAULT_MODELS
from ..training.arguments import LDMNISTTrainingArguments
from .base import Command, Context
from .options import SourceOptions, data_from, deprecated_mnist_source, option
from .quality import quality_bar_lines


@dataclass(kw_only=True)
class Train(Command):
    command = "train"
    summary = "train the image VAE, class VAE and middle layers together"
    about = (
        "Train the three models jointly on real MNIST, or another source dataset (--source), see\n"
        "docs/training.md. Every option is a field of ldmnist_hf.LDMNISTTrainingArguments."
    )
    examples = [
        "ldmnist train --output-dir runs/ld32                  # fast recipe, about a minute on a 2-core CPU",
        "ldmnist train --recipe reference --output-dir runs/ref  # what the 2020 code ran (~1 h on a 2-core CPU)",
        "ldmnist train --output-dir runs/ref --resume            # continue a stopped run",
        "ldmnist train --source fashion-mnist --output-dir runs/fashion-mnist  # Fashion-MNIST's models",
    ]
    options = LDMNISTTrainingArguments
    arguments: LDMNISTTrainingArguments  # built from the options, checked by its own __post_init__

    @classmethod
    def from_values(cls, values: dict) -> Train:
        return cls(arguments=LDMNISTTrainingArguments(**values))

    def run(self, ctx: Context) -> None:
        from ..training.trainer import train

        summary = train(self.arguments, progress=not ctx.quiet)
        out = self.arguments.output_dir
        if "stopped_after" in summary:
            print(
                f"Stopped after epoch {summary['stopped_after']}; continue with: ldmnist train --output-dir {shlex.quote(out)} --resume"
            )
            return
        final = summary["final"]
        figures = {
            "class_vae_accuracy_mean": final.get("test/class_vae_accuracy"),
            "middle_layers_accuracy": final.get("test/middle_layers_accuracy"),
            "informative_components": summary.get("informative_components"),
        }
        print(
            f"Trained {final.get('epoch')} epochs in {summary['train_seconds_this_session']:.0f} s this session; models in {out}/models, figures in {out}/summary.json."
        )
        figures = {k: v for k, v in figures.items() if v is not None}
        print(quality_bar_lines(figures, one_draw=True, source=self.arguments.source))
        print(f"Release them with: ldmnist release --run {shlex.quote(out)}")


@dataclass(kw_only=True)
class Release(Command):
    command = "release"
    summary = "evaluate a training run and write its models with model cards"
    about = (
        "Evaluate a run's models on the MNIST test set and write each model folder\n"
        "(safetensors, config.json, README.md model card with model-index results).\n"
        "Without --run: re-evaluate the models already in DEST and rewrite their cards. Then say, per\n"
        "figure of the quality bar, whether it was met."
    )
    examples = [
        "ldmnist release --run runs/ld16                  # into ./models",
        "ldmnist release --run runs/ld16 --dest models16",
        "# maintainers, in a source checkout: the shipped sets",
        "ldmnist release --run runs/fast32 --into-package --readme docs/training.md",
        "ldmnist release --into-package --readme docs/training.md  # re-evaluate them",
        "ldmnist release --run runs/ref32 --into-package --model-set reference  # *-32-reference",
    ]
    run_dir: str | None = option(
        "a folder written by `ldmnist train` (default: re-evaluate DEST's models)",
        flag="--run",
        metavar="RUN",
    )
    dest: str | None = option("where the model folders go (default: ./models)")
    cards_dir: str | None = option("also write the cards here")
    readme: str | None = option("also fill the results block of this Markdown file")
    model_set: str = option(
        "release as a named set beside the default: folders <name>-<L>-SET, evaluation-SET.json "
        "(e.g. reference, for the 2020 recipe's rerun; default: fast, no suffix)",
        "fast",
    )
    into_package: bool = option(
        "maintainers: replace the shipped set in ldmnist_hf/pretrained/ instead of writing to DEST "
        "(in a source checkout only)",
        False,
    )

    def run(self, ctx: Context) -> None:
        from ..pretrained.loading import PRETRAINED_DIR
        from ..training.release import DEFAULT_DEST, evaluation_file, release

        metrics = release(
            self.run_dir,
            dest=self.dest,
            cards_dir=self.cards_dir,
            readme=self.readme,
            model_set=self.model_set,
            into_package=self.into_package,
        )
        dest = "ldmnist_hf/pretrained" if self.into_package else self.dest or DEFAULT_DEST
        print(
            f"Wrote the model folders with their cards, and {evaluation_file(self.model_set)} (every figure), to {dest}."
        )
        # the run's own source, as its summary recorded it in the evaluation just written (into the package
        # wherever this runs from: `dest` above is what to show)
        written = PRETRAINED_DIR if self.into_package else Path(self.dest or DEFAULT_DEST)
        recorded = json.loads((written / evaluation_file(self.model_set)).read_text())["training"].get(
            "args", {}
        )
        source = recorded.get("source", "mnist")
        figures = {**metrics, "informative_components": metrics["x_informative_components"]}
        print(quality_bar_lines(figures, source=source))


@dataclass(kw_only=True)
class Cards(Command):
    command = "cards"
    summary = "render the shipped models' and the metric's cards again from their recorded evaluations"
    about = (
        "Render every card the package ships (ldmnist_hf/pretrained/*/README.md, the metric's README.md)\n"
        "from the recorded evaluations and configs, without evaluating anything; --cards-dir also writes\n"
        "them there."
    )
    examples = [
        "ldmnist cards --cards-dir cards              # copies of every shipped card",
        "ldmnist cards --into-package --readme docs/training.md  # maintainers, in a source checkout",
    ]
    cards_dir: str | None = option("write the cards here")
    readme: str | None = option("also fill the results block of this Markdown file")
    into_package: bool = option(
        "maintainers: rewrite the package's own cards (in a source checkout only)", False
    )

    def run(self, ctx: Context) -> None:
        from ..training.release import write_shipped_cards

        written = write_shipped_cards(
            cards_dir=self.cards_dir, readme=self.readme, into_package=self.into_package
        )
        print(f"Wrote {len(written)} cards." if ctx.quiet else "\n".join(map(str, written)))


def hint_python() -> str:
    """The interpreter a printed command names: `python` where that is this one (the `python` on PATH sits
    beside `sys.executable`, as in an activated venv), else this interpreter's own path, so that the command
    also works pasted into a fresh shell where `.venv` is not activated (`make dataset` runs `.venv/bin/ldmnist`)
    or where `python` is another interpreter, without `datasets`."""
    here = os.path.abspath(sys.executable) if sys.executable else ""
    found = shutil.which("python")
    if not here or (found and os.path.dirname(os.path.abspath(found)) == os.path.dirname(here)):
        return "python"
    return here


def load_hint(folder: str, python: str | None = None) -> str:
    """The two lines that load a built folder, quoted for the shell and for Python whatever its name;
    `python`: the interpreter to name (default: `hint_python()`).

    >>> print(load_hint("/tmp/my data/ld $(x)", python="/opt/my venv/bin/python"))
    cd '/tmp/my data' && '/opt/my venv/bin/python' -c 'from datasets import load_dataset; print(load_dataset("ld $(x)"))'
    """
    path = os.path.abspath(folder)
    # A JSON string is a Python string literal too, in double quotes: no clash with the shell's quotes.
    code = f"from datasets import load_dataset; print(load_dataset({json.dumps(os.path.basename(path))}))"
    python = shlex.quote(python or hint_python())
    return f"cd {shlex.quote(os.path.dirname(path))} && {python} -c {shlex.quote(code)}"


@dataclass(kw_only=True)
class Build(SourceOptions, Command):
    command = "build"
    summary = "encode MNIST and write the LD-MNIST dataset folder"
    about = (
        "Write LD-MNIST as a Hub dataset repository (Parquet + card). Fashion-MNIST (--source fashion-mnist)\n"
        "has shipped VAEs too; any other image-classification dataset (--source DIR or a Hub id) needs VAEs\n"
        "trained on it (`ldmnist train --source DIR`, then `ldmnist release`)."
    )
    examples = [
        "ldmnist build                        # shipped 32-d VAEs -> ./ldmnist",
        "ldmnist build --source fashion-mnist --output-dir ld-fashion-mnist",
        "ldmnist build --image-vae models16/image-vae-16 --class-vae models16/class-vae-16 \\",
        "              --output-dir ldmnist16",
    ]
    output_dir: str = option("(default: %(default)s)", "ldmnist")
    image_vae: str | None = option(
        f"shipped name, folder or Hub id (default: the source's shipped one, {DEFAULT_MODELS['image_vae']} for mnist)"
    )
    class_vae: str | None = option(
        f"shipped name, folder or Hub id (default: the source's shipped one, {DEFAULT_MODELS['class_vae']} for mnist)"
    )
    seed: int = option("sampling seed (default: %(default)s)", 0)
    mnist_source: str | None = deprecated_mnist_source()
    format: Literal["parquet", "numpy"] = option(
        "numpy: also write train_x.npy, train_y.npy, test_x.npy, test_y.npy", "parquet"
    )
    overwrite: bool = option(
        "replace an existing output folder written by an earlier build (or an empty one)", False
    )
    device: str | None = option(
        "where the encoders run: cpu, cuda (default: cuda when present; the noise is drawn on the CPU, so a "
        "GPU build differs from a CPU one by float rounding only)"
    )

    def run(self, ctx: Context) -> None:
        from ..build.dataset import build_dataset

        out = build_dataset(
            self.output_dir,
            image_vae=self.image_vae,
            class_vae=self.class_vae,
            seed=self.seed,
            source=self.source,
            mnist_source=data_from(self),
            image_column=self.image_column,
            label_column=self.label_column,
            overwrite=self.overwrite,
            device=self.device,
            numpy_export=self.format == "numpy",
            command=shlex.join(["ldmnist", *ctx.argv]),
        )
        print(f"Wrote {out}. Load it with:\n  {load_hint(str(out))}")


@dataclass(kw_only=True)
class Verify(Command):
    command = "verify"
    summary = "check a built dataset's files against the checksums its build recorded"
    about = (
        "Check every data file of a dataset folder against the SHA-256 and size recorded in its\n"
        "ldmnist_build.json; exit 1 naming the first file that is missing, truncated or changed."
    )
    examples = ["ldmnist verify ldmnist"]
    dataset: str = option("a folder written by `ldmnist build`", positional=True)

    def run(self, ctx: Context) -> None:
        from ..data.read import verify_dataset

        result = verify_dataset(self.dataset)
        print(f"{self.dataset}: {result['files']} data files match their recorded SHA-256 and size.")
