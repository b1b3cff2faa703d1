"""The commands that work on this machine: training, releases, building, checking and reading a dataset (fetching
a source dataset: `fetch.py`).

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
from .options import DatasetOptions, SourceOptions, data_from, deprecated_mnist_source, option
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


@dataclass(kw_only=True)
class Benchmark(DatasetOptions, Command):
    command = "benchmark"
    summary = "train and score the baselines on a built dataset; write the table into its card"
    about = (
        "Score the baselines and noise floors on the test split with the ldmnist metric, and\n"
        "write the table to DATASET/benchmark.json, benchmark.md and the dataset card."
    )
    examples = [
        "ldmnist benchmark --dataset ldmnist",
        "ldmnist benchmark --dataset ldmnist --readme README.md   # the shipped dataset's table",
        "ldmnist benchmark --dataset ldmnist16 --middle-layers models16/middle-layers-16  # a variant's",
    ]
    readme: str | None = option("also fill the benchmark block of this README.md")
    class_vae: str | None = option("class decoder (default: the one the dataset was built with)")
    middle_layers: str | None = option(
        "the middle layers trained with the dataset's VAEs, e.g. models16/middle-layers-16 (default: the shipped "
        f"{DEFAULT_MODELS['middle_layers']} for a build from {DEFAULT_MODELS['class_vae']}; else no such row)"
    )
    seed: int = option("(default: %(default)s)", 0)
    mlp_recipe: Literal["fast", "reference"] = option(
        "how the MLP baseline is trained: fast (40 epochs, batch 256, cosine; default) or reference "
        "(the 2020 schedule: 5000 epochs at batch 10000, Adam 1e-3, reduce-on-plateau; about 7 minutes on a "
        "2-core CPU)",
        "fast",
    )
    mlp_epochs: int | None = option("override the MLP recipe's epochs")

    def run(self, ctx: Context) -> None:
        from ..analysis.benchmark import run_benchmark, write_benchmark
        from ..rendering import benchmark_markdown, check_block

        # Where the table goes is checked before the minutes of training baselines.
        for readme in filter(None, (os.path.join(self.dataset, "README.md"), self.readme)):
            check_block(readme, "benchmark")
        result = run_benchmark(
            self.dataset,
            class_vae=self.class_vae,
            middle_layers=self.middle_layers,
            seed=self.seed,
            mlp_recipe=self.mlp_recipe,
            mlp_epochs=self.mlp_epochs,
            progress=not ctx.quiet,
        )
        write_benchmark(result, self.dataset, readme=self.readme)
        print(benchmark_markdown(result))


@dataclass(kw_only=True)
class Fidelity(Command):
    command = "fidelity"
    summary = "the 2020 recipe rerun here beside the 2020 publication and the fast recipe"
    about = (
        "Set the figures of the 2020 publication, of the 2020 recipe rerun with this package (model set\n"
        "`reference`) and of the fast recipe side by side: class reconstruction, joint accuracy,\n"
        "informative components, dataset statistics and benchmark rows, each from its evaluation and\n"
        "its benchmarked dataset."
    )
    examples = [
        "ldmnist fidelity --rerun-dataset ldmnist-reference --fast-dataset ldmnist --card ldmnist/README.md",
    ]
    rerun_dataset: str = option("a benchmarked dataset built with the rerun's VAEs", required=True)
    fast_dataset: str = option("a benchmarked dataset built with the shipped VAEs", required=True)
    rerun_evaluation: str | None = option("default: the shipped evaluation-reference.json")
    fast_evaluation: str | None = option("default: the shipped evaluation.json")
    card: str | None = option("fill the fidelity block of this dataset card")
    readme: str | None = option("also fill the fidelity block of this README.md")
    record_rerun_as: str | None = option(
        "maintainers: keep the rerun's column in the table under this name (before its set is replaced)",
        metavar="NAME",
    )
    record_tf_run: str | None = option(
        "maintainers: add the column of a run of the 2020 code under TensorFlow (docs/tf_2020_code.py --out)",
        metavar="DIR",
    )
    title: str | None = option("the recorded column's heading")

    def run(self, ctx: Context) -> None:
        from pathlib import Path

        from ..analysis.fidelity import fidelity_table, record_column, recorded_columns, tf_run_column
        from ..data.read import read_build_info
        from ..files.paths import require_source_checkout
        from ..pretrained.loading import PRETRAINED_DIR
        from ..rendering import check_block, fidelity_markdown, replace_block
        from ..training.release import evaluation_file

        targets = [t for t in (self.card, self.readme) if t]
        for target in targets:  # before any work: every block must be there
            check_block(target, "fidelity")
        if self.record_rerun_as or self.record_tf_run:
            require_source_checkout("a recorded fidelity column")
        args = (
            self.rerun_evaluation or PRETRAINED_DIR / evaluation_file("reference"),
            self.rerun_dataset,
            self.fast_evaluation or PRETRAINED_DIR / evaluation_file(),
            self.fast_dataset,
        )
        table = fidelity_table(*args)
        if self.record_rerun_as:
            built = read_build_info(self.rerun_dataset)
            source = (
                f"ldmnist fidelity --rerun-dataset {Path(self.rerun_dataset).name}: models of "
                f"{Path(args[0]).name}, image VAE sha256 {built['image_vae_sha256'][:16]}, class VAE sha256 "
                f"{built['class_vae_sha256'][:16]}"
            )
            record_column(self.record_rerun_as, self.title or self.record_rerun_as, table["rerun"], source)
        if self.record_tf_run:
            column = tf_run_column(self.record_tf_run)
            title = self.title or f"2020 code under TensorFlow, epoch {column['epochs']}"
            record_column(
                "tf2020", title, column, f"docs/tf_2020_code.py --out {Path(self.record_tf_run).name}"
            )
        table["recorded"] = recorded_columns()  # with what was just recorded
        md = fidelity_markdown(table)
        for target in targets:
            replace_block(target, "fidelity", md)
        print(md)


@dataclass(kw_only=True)
class Report(DatasetOptions, Command):
    command = "report"
    summary = "statistics, figures and component importance of a built dataset"
    about = (
        "Write statistics (JSON, Markdown), histograms, reconstructions, manifolds and the\n"
        "component-importance analysis of a dataset, and embed them in its card."
    )
    examples = [
        "ldmnist report --dataset ldmnist                   # into ldmnist/report",
        "ldmnist report --dataset ldmnist --components 3 17 --out figures",
    ]
    readme: str | None = option("also fill the report block of this README.md")
    out_dir: str | None = option("output folder (default: DATASET/report)", flag="--out")
    components: list[int] = option(
        "the two components of the manifold plot (default: 8 9, the reference's)",
        [8, 9],
        nargs=2,
        metavar=("I", "J"),
    )

    def run(self, ctx: Context) -> None:
        from ..analysis.report import make_report

        result = make_report(
            self.dataset, self.out_dir, components=tuple(self.components), readme=self.readme
        )
        imp = result["importance"]
        print(
            f"class VAE accuracy on the test y: {result['class_vae_accuracy_test']:.4f}; "
            f"components that matter: {imp['important_components']} ({imp['rule']})"
        )
