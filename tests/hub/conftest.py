"""The living benchmark on the Hub stand-in: `ldmnist submit` from several accounts, `ldmnist leaderboard`.

The session's export (the benchmarked default config, its four baselines as model repos, and a 16-d variant as
config `ld16`) is pushed by the publisher; then accounts that may write only their own namespace submit, as
they would on the Hub: an honest one, one that reports a better score than its predictions give, one on an older
revision of the data, one whose predictions file is broken, one with results but no predictions, one on the
16-d config, one through a pull request to another account's repo. The leaderboard must rank and label them
exactly, recompute every score, read no code, and need no token to read.

`board` is that world, made once per test module that asks for it (test_submit.py, test_leaderboard.py,
test_dataset_repo.py): the tests of a module run in order on their own stand-in, whatever else ran before.
"""

import json

import numpy as np
import pytest
import yaml
from conftest import NS
from helpers import resigned_test_split
from hub_stub import FAKE_TOKEN, HubStub, stub_api
from huggingface_hub import CommitOperationAdd, EvalResult, HfApi, ModelCard, ModelCardData

from ldmnist_hf import load_metric
from ldmnist_hf.analysis.benchmark import linear_regression
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.hub.push import push
from ldmnist_hf.hub.results import eval_results_file, predictions_are_intended, predictions_file
from ldmnist_hf.hub.submit import submit

DATASET = f"{NS}/ldmnist"
ACCOUNTS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "henry", "ivan", "you")
TOKENS = {name: f"hf_{name}_0123456789" for name in ACCOUNTS}


def _scores(predictions, y, labels, class_vae) -> dict:
    """What the package's evaluate metric gives: the leaderboard must agree with it."""
    out = load_metric(str(class_vae)).compute(predictions=predictions, references=y, labels=labels)
    return {"mse": out["mse"], "reconstructed_accuracy": out["reconstructed_accuracy"]}


def text_of(path) -> str:
    with open(path) as f:
        return f.read()


def _edit_eval_results(api: HfApi, repo: str, config: str, **changes) -> None:
    """Rewrites a submission's `.eval_results` rows, as a submitter can in their own repo."""
    rows = yaml.safe_load(text_of(api.hf_hub_download(repo, eval_results_file(config))))
    for row in rows:
        metric = row["dataset"]["task_id"].split("-", 1)[1]
        if metric in changes.get("value", {}):
            row["value"] = changes["value"][metric]
        if "revision" in changes:
            row["dataset"]["revision"] = changes["revision"]
    api.upload_file(
        path_or_fileobj=yaml.safe_dump(rows).encode(), path_in_repo=eval_results_file(config), repo_id=repo
    )


def results_card(revision: str, scores: dict, config: str | None = None) -> str:
    """A model card that reports LD-MNIST scores in its `model-index` (written by hand: no predictions)."""
    results = [
        EvalResult(
            task_type="tabular-regression",
            dataset_type=DATASET,
            dataset_name="LD-MNIST",
            dataset_config=config,
            dataset_revision=revision,
            metric_type=metric,
            metric_value=value,
        )
        for metric, value in scores.items()
    ]
    return str(
        ModelCard.from_template(ModelCardData(model_name="probe", datasets=[DATASET], eval_results=results))
    )


def _change_ld16_test_data(api: HfApi, export_dir) -> np.ndarray:
    """The publisher replaces the ld16 config's test targets (a new build of that config): returns the new y."""
    changed = {}

    def flip(values):  # y and y_mean alike: y stays a draw around its posterior mean
        values = values.copy()
        values[:1000] *= -1.0
        changed.setdefault("y", values)
        return values

    files = resigned_test_split(export_dir / "datasets" / "ldmnist" / "ld16", flip, ("y", "y_mean"))
    api.create_commit(
        DATASET,
        repo_type="dataset",
        operations=[CommitOperationAdd(f"ld16/{path}", data) for path, data in files.items()],
        commit_message="Rebuild ld16",
    )
    return changed["y"]


@pytest.fixture(scope="module")
def board(tmp_path_factory, exported, benchmarked, variant16):
    """The stand-in after the publisher's push and every account's submission; yields what was expected."""
    tmp = tmp_path_factory.mktemp("leaderboard")
    users = {token: name for name, token in TOKENS.items()}
    with HubStub(tmp / "hub", users=users) as stub:
        push(NS, export_dir=exported[0], endpoint=stub.endpoint, token=FAKE_TOKEN)

        def api(who):
            return stub_api(stub.endpoint, token=TOKENS[who])

        def send(who, predictions, repo=None, config="default"):
            path = tmp / f"{who}-{config}.npy"
            np.save(path, predictions)
            return submit(
                path, repo or f"{who}/probe", DATASET, config, token=TOKENS[who], endpoint=stub.endpoint
            )

        x_tr, y_tr = load_latents(benchmarked, "train")
        x, y, labels = load_latents(benchmarked, "test", columns=("x", "y", "label"))
        class_vae = exported[1]["class_vae"]
        x16_tr, y16_tr = load_latents(variant16, "train")
        x16, y16, labels16 = load_latents(variant16, "test", columns=("x", "y", "label"))
        class_vae16 = exported[0] / "models" / "ldmnist-class-vae-16-ld16"
        predictions = {
            "alice": linear_regression(x_tr[:20000], y_tr[:20000])(x),  # honest
            "bob": 0.5 * linear_regression(x_tr, y_tr)(x),  # then reports a better MSE than this gives
            "carol": linear_regression(x16_tr, y16_tr)(x16),  # ld16, before the data changes
            "dave": np.full_like(y, 0.1),  # then its predictions file is broken
            "frank": linear_regression(x16_tr[:30000], y16_tr[:30000])(x16),  # ld16, after the change
            "grace": 0.9 * linear_regression(x_tr, y_tr)(x),  # to henry's repo: a pull request
            "ivan": 0.8 * linear_regression(x_tr, y_tr)(x),  # then names a revision that does not exist
        }
        results = {who: send(who, predictions[who]) for who in ("alice", "bob", "dave", "ivan")}
        results["carol"] = send("carol", predictions["carol"], config="ld16")
        old_revision = results["carol"]["revision"]
        new_y16 = _change_ld16_test_data(stub_api(stub.endpoint, token=FAKE_TOKEN), exported[0])
        results["frank"] = send("frank", predictions["frank"], config="ld16")
        api("henry").create_repo("henry/probe")
        api("henry").upload_file(
            path_or_fileobj=b"# henry's probe\n", path_in_repo="README.md", repo_id="henry/probe"
        )
        results["grace"] = send("grace", predictions["grace"], repo="henry/probe")

        _edit_eval_results(
            api("bob"), "bob/probe", "default", value={"mse": 0.5, "reconstructed_accuracy": 0.99}
        )
        with predictions_are_intended():
            api("dave").upload_file(
                path_or_fileobj=b"not a parquet file",
                path_in_repo=predictions_file("default"),
                repo_id="dave/probe",
            )
        _edit_eval_results(api("ivan"), "ivan/probe", "default", revision="f" * 40)
        current = stub_api(stub.endpoint).dataset_info(DATASET).sha
        # erin reports results by hand, without predictions
        card = results_card(current, {"mse": 0.6, "reconstructed_accuracy": 0.97})
        api("erin").create_repo("erin/probe")
        api("erin").upload_file(
            path_or_fileobj=str(card).encode(), path_in_repo="README.md", repo_id="erin/probe"
        )

        bench = {r["key"]: r for r in json.loads((benchmarked / "benchmark.json").read_text())["rows"]}
        expected = {
            "alice": _scores(predictions["alice"], y, labels, class_vae),
            "bob": _scores(predictions["bob"], y, labels, class_vae),
            "carol": _scores(predictions["carol"], y16, labels16, class_vae16),  # on the old revision
            "frank": _scores(predictions["frank"], new_y16, labels16, class_vae16),
            "grace": _scores(predictions["grace"], y, labels, class_vae),
            **{f"baseline-{key}": {"mse": bench[key]["mse"]} for key in ("linear", "middle", "mlp", "zero")},
        }
        yield {
            "stub": stub,
            "results": results,
            "expected": expected,
            "old_revision": old_revision,
            "current": current,
        }
    stub.assert_no_unknown()
