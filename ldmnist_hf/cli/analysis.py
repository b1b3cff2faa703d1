"""The commands that measure a built dataset: its benchmark, the fidelity table against the 2020 publication,
its statistics and figures.

Each is a dataclass: its fields are its options (`options.option`), `run` a thin call into the library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import LDMNISTError
from ..registry import DEFAULT_MODELS
from .base import Command, Context
from .options import DatasetOptions, option


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
    seeds: str | None = option(
        "also fill the fidelity-seeds block of this Markdown file: each recorded seed of the rerun's recipe",
        metavar="FILE",
    )
    record_rerun_as: str | None = option(
        "maintainers: keep the rerun's column in the table under this name (before its set is replaced)",
        metavar="NAME",
    )
    record_seed: bool = option(
        "maintainers: record the rerun as another seed of the shipped rerun's recipe (checked: every other "
        "training setting equal)",
        False,
    )
    record_tf_run: str | None = option(
        "maintainers: add the column of a run of the 2020 code under TensorFlow (docs/tf_2020_code.py --out)",
        metavar="DIR",
    )
    title: str | None = option("the recorded column's heading")

    def run(self, ctx: Context) -> None:
        from ..analysis.fidelity import fidelity_table, recorded_columns
        from ..files.paths import require_source_checkout
        from ..pretrained.loading import PRETRAINED_DIR
        from ..rendering import check_block, fidelity_markdown, replace_block, seeds_markdown
        from ..training.release import evaluation_file

        targets = [t for t in (self.card, self.readme) if t]
        if self.record_rerun_as and self.record_seed:
            raise LDMNISTError("give --record-rerun-as or --record-seed, not both: a run is recorded once.")
        if self.record_seed and (targets or self.seeds):
            raise LDMNISTError(
                "--record-seed takes another seed's run as the rerun, so its table is not the one to show: record "
                "first, then fill cards and files with the shipped rerun's dataset (without --record-seed)."
            )
        if self.record_seed and not self.rerun_evaluation:
            raise LDMNISTError(
                "--record-seed needs --rerun-evaluation: the evaluation.json that `ldmnist release` wrote for "
                "the other seed's run (with --rerun-dataset built from its models)."
            )
        for target, block in [
            *((t, "fidelity") for t in targets),
            *((s, "fidelity-seeds") for s in [self.seeds] if s),
        ]:
            check_block(target, block)  # before any work: every block must be there
        if self.record_rerun_as or self.record_seed or self.record_tf_run:
            require_source_checkout("a recorded fidelity column")
        shipped = PRETRAINED_DIR / evaluation_file("reference")
        args = (
            self.rerun_evaluation or shipped,
            self.rerun_dataset,
            self.fast_evaluation or PRETRAINED_DIR / evaluation_file(),
            self.fast_dataset,
        )
        table = fidelity_table(*args)
        self._record(table, args[0], shipped)
        table["recorded"] = recorded_columns()  # with what was just recorded
        md = fidelity_markdown(table)
        for target in targets:
            replace_block(target, "fidelity", md)
        if self.seeds:
            replace_block(self.seeds, "fidelity-seeds", seeds_markdown(table))
        print(md)

    def _record(self, table: dict, rerun_evaluation, shipped) -> None:
        """Keeps the rerun's column (`--record-rerun-as`, `--record-seed`) or a TensorFlow run's in the table."""
        from ..analysis.fidelity import record_column, seed_of_recipe, tf_run_column
        from ..data.read import read_build_info

        if self.record_rerun_as or self.record_seed:
            built = read_build_info(self.rerun_dataset)
            source = (
                f"ldmnist fidelity --rerun-dataset {Path(self.rerun_dataset).name}: models of "
                f"{Path(rerun_evaluation).name}, image VAE sha256 {built['image_vae_sha256'][:16]}, class VAE sha256 "
                f"{built['class_vae_sha256'][:16]}"
            )
            column, name, title = table["rerun"], self.record_rerun_as, self.record_rerun_as
            if self.record_seed:
                seed, shipped_id = seed_of_recipe(rerun_evaluation, shipped)
                column, name, title = (
                    {**column, "seed": seed, "seed_of": shipped_id},
                    f"seed{seed}",
                    f"2020 recipe, seed {seed}",
                )
            record_column(name, self.title or title, column, source)
        if self.record_tf_run:
            column = tf_run_column(self.record_tf_run)
            title = self.title or f"2020 code under TensorFlow, epoch {column['epochs']}"
            record_column(
                "tf2020", title, column, f"docs/tf_2020_code.py --out {Path(self.record_tf_run).name}"
            )


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
