"""The commands that publish to the Hub or read from it: export, push, submit, leaderboard."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import redact
from .base import Command, Context
from .options import HubOptions, PublishOptions, data_from, option


@dataclass(kw_only=True)
class Export(PublishOptions, Command):
    command = "export"
    summary = "write the Hub repositories (dataset and its configs, models, baselines, Spaces) as folders"
    about = (
        "Write one folder per Hub repository under OUTPUT_DIR: datasets/ldmnist (a config per --variant),\n"
        "models/ldmnist-* (each config's models and the benchmark's baselines), spaces/ldmnist (the metric)\n"
        "and spaces/ldmnist-explorer (see README, 'Publishing'). `ldmnist push --export-dir` uploads them as\n"
        "written. Benchmark a dataset (`ldmnist benchmark`) before exporting it, or it gets no baselines.\n"
        "--source fashion-mnist publishes LD-Fashion-MNIST the same way, as its own repositories\n"
        "(datasets/ld-fashion-mnist, models/ld-fashion-mnist-*, spaces/ld-fashion-mnist*; docs/publishing.md)."
    )
    examples = [
        "ldmnist export --namespace you --output-dir hub --dataset ldmnist",
        "ldmnist export --namespace you --output-dir hub16 --image-vae models16/image-vae-16 \\",
        "               --class-vae models16/class-vae-16 --middle-layers models16/middle-layers-16",
        "ldmnist export --namespace you --output-dir hub-fashion --source fashion-mnist --dataset ld-fashion-mnist",
    ]
    output_dir: str = option("the export folder to create", required=True)
    overwrite: bool = option("replace an existing export folder", False)

    def run(self, ctx: Context) -> None:
        from ..hub.export import export
        from ..hub.push import plan_text, read_export

        export(
            self.namespace,
            self.output_dir,
            dataset=self.dataset,
            overwrite=self.overwrite,
            mnist_source=data_from(self),
            variants=self.variants,
            variant_middle_layers=dict(self.variant_middle_layers),
            leaderboard=self.leaderboard,
            source=self.source or "mnist",
            **self.model_sources(),
        )
        print(plan_text(self.output_dir, read_export(self.output_dir, self.namespace)))


@dataclass(kw_only=True)
class Push(PublishOptions, HubOptions, Command):
    command = "push"
    summary = "upload the dataset, the models, the baselines and the Spaces to the Hub"
    about = (
        "Upload every repository of an export (or export first, into a temporary folder) through\n"
        "huggingface_hub's client. Everything is checked before the first upload."
    )
    examples = [
        "ldmnist push --namespace you --export-dir hub --dry-run   # what would be uploaded, and where",
        "ldmnist push --namespace you --export-dir hub",
        "ldmnist push --namespace you --dataset ldmnist            # export and push in one go",
        "ldmnist push --namespace you --source fashion-mnist --dataset ld-fashion-mnist  # LD-Fashion-MNIST",
    ]
    export_dir: str | None = option("a folder written by `ldmnist export` (default: export now)")
    dry_run: bool = option("check and print the plan; upload nothing", False)
    private: bool = option("create the repositories private", False)

    def run(self, ctx: Context) -> None:
        from ..hub.push import push

        what = (
            {"source": self.source}
            if self.export_dir
            else {
                "source": self.source or "mnist",
                "dataset": self.dataset,
                "variants": self.variants,
                "variant_middle_layers": dict(self.variant_middle_layers),
                "leaderboard": self.leaderboard,
                **self.model_sources(),
            }
        )
        plan = push(
            self.namespace,
            export_dir=self.export_dir,
            endpoint=self.endpoint,
            token=self.token,
            dry_run=self.dry_run,
            private=self.private,
            **what,
        )
        print(redact(plan))  # it names the endpoint: without the credentials a URL may carry


@dataclass(kw_only=True)
class Submit(HubOptions, Command):
    command = "submit"
    summary = "score a model's test-split predictions and upload them to its model repository"
    about = (
        "Check a predictions file (.npy, .csv or .parquet, (10000, latent size), test-split order), score it\n"
        "on the dataset repository's test split, and upload it with the results (model-index and\n"
        ".eval_results) to the model repository; a pull request where the token cannot write."
    )
    examples = [
        "ldmnist submit --predictions preds.npy --repo you/my-model --dataset-repo NS/ldmnist --dry-run",
        "ldmnist submit --predictions preds.parquet --repo you/my-model --dataset-repo NS/ldmnist --config reference",
    ]
    predictions: str = option("the predictions file", required=True)
    repo: str = option("the model repository, USER/MODEL", required=True)
    dataset_repo: str = option("the dataset repository, NS/ldmnist", required=True)
    config: str = option("the dataset config the predictions are for (default: default)", "default")
    description: str | None = option("one line about the model, for a new model card")
    dry_run: bool = option("check and score; print what would be uploaded", False)

    def run(self, ctx: Context) -> None:
        from ..hub.submit import submit

        result = submit(
            self.predictions,
            self.repo,
            self.dataset_repo,
            config=self.config,
            token=self.token,
            endpoint=self.endpoint,
            dry_run=self.dry_run,
            description=self.description or "",
        )
        verb = "Would upload" if self.dry_run else "Uploaded"
        where = f"a pull request: {result['pull_request']}" if result["pull_request"] else result["repo"]
        lines = [
            f"{result['repo']} on {result['dataset']} ({result['config']}, revision {result['revision'][:12]}): "
            f"MSE {result['mse']:.6f}, reconstructed accuracy {result['reconstructed_accuracy']:.6f}",
            f"{verb} to {where}:",
            *(f"  {size:>12,}  {path}" for path, size in result["files"].items()),
        ]
        print("\n".join(lines))


@dataclass(kw_only=True)
class Leaderboard(HubOptions, Command):
    command = "leaderboard"
    summary = "recompute, check and rank every submission to a published dataset"
    about = (
        "Find the model repositories that report results on the dataset (and submissions in open pull\n"
        "requests), recompute each score from its predictions (never running its code), and rank them.\n"
        "Reading needs no token; --push commits the table to the dataset card and leaderboard.json."
    )
    examples = [
        "ldmnist leaderboard --dataset-repo NS/ldmnist",
        "ldmnist leaderboard --dataset-repo NS/ldmnist --json leaderboard.json --push",
    ]
    dataset_repo: str = option("the dataset repository, NS/ldmnist", required=True)
    config: str | None = option("one config only (default: all)")
    json: str | None = option("also write the table as JSON to this file")
    push: bool = option("commit the table to the dataset repository (a write token)", False)

    def run(self, ctx: Context) -> None:
        from ..hub.leaderboard import leaderboard
        from ..rendering import leaderboard_markdown

        board = leaderboard(
            self.dataset_repo,
            config=self.config,
            endpoint=self.endpoint,
            token=self.token,
            push=self.push,
            json_path=self.json,
        )
        print(leaderboard_markdown(board))
