"""LD-Fashion-MNIST as a sibling of LD-MNIST on the Hub stand-in: exported and pushed by the same code paths
(`ldmnist export`/`push --source fashion-mnist`) as its own repositories, then used as LD-MNIST is.

The sibling is built from real Fashion-MNIST with the shipped `fashion-mnist` set and benchmarked quickly
(conftest.py's `ld_fashion`). After `ldmnist push` (a subprocess, as a user runs it), a Python without this
package and without a token loads its splits with Fashion-MNIST's class names, its class VAE through
`trust_remote_code` and its metric Space through `evaluate.load`; with the package, an account submits to it and
the leaderboard ranks that submission beside the sibling's baselines, recomputed with the sibling's own class
decoder and test labels, and without LD-MNIST's 2020 rows.
"""

import json
import re
import subprocess

import numpy as np
import pytest
import yaml
from conftest import NS
from helpers import run_ldmnist, run_python
from hub_stub import FAKE_TOKEN, HubStub
from huggingface_hub import ModelCard

from ldmnist_hf import load_metric
from ldmnist_hf.analysis.benchmark import linear_regression
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.data.sources import FASHION_MNIST
from ldmnist_hf.hub.export import export
from ldmnist_hf.hub.leaderboard import leaderboard
from ldmnist_hf.rendering import read_block

DATASET = f"{NS}/ld-fashion-mnist"
IDS = {
    "image_vae": f"{NS}/ld-fashion-mnist-image-vae-32",
    "class_vae": f"{NS}/ld-fashion-mnist-class-vae-32",
    "middle_layers": f"{NS}/ld-fashion-mnist-middle-layers-32",
    "dataset": DATASET,
    "metric": DATASET,
    "explorer": f"{NS}/ld-fashion-mnist-explorer",
}
BASELINES = [f"{NS}/ld-fashion-mnist-baseline-{k}" for k in ("linear", "middle", "mlp", "zero")]
# Every repository of the sibling's push, in upload order, as `ldmnist push` prints them.
PUSHED = [
    f"{IDS['image_vae']} (model)",
    f"{IDS['class_vae']} (model)",
    f"{IDS['middle_layers']} (model)",
    f"{DATASET} (dataset)",
    *(f"{b} (model)" for b in BASELINES),
    f"{DATASET} (space)",
    f"{IDS['explorer']} (space)",
]
ALICE = "hf_alice_0123456789"
TOLERANCE = 1e-7


def _check(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def sibling(tmp_path_factory, ld_fashion):
    """The stand-in after `ldmnist push --source fashion-mnist` of the sibling's export: `(stub, export, push
    output)`."""
    tmp = tmp_path_factory.mktemp("sibling")
    out = tmp / "export"
    export(NS, out, dataset=ld_fashion, source="fashion-mnist")
    with HubStub(tmp / "hub", users={ALICE: "alice"}) as stub:
        args = ["push", "--namespace", NS, "--source", "fashion-mnist", "--export-dir", str(out)]
        proc = run_ldmnist(args, stub.env(tmp / "publisher"))
        yield stub, out, _check(proc)
    stub.assert_no_unknown()


def test_the_sibling_is_its_own_family_of_repositories(sibling):
    stub, out, printed = sibling
    assert printed.strip().split("\n") == PUSHED
    assert not [r for _, r in stub.repos() if r.split("/")[1].startswith("ldmnist")]  # none of LD-MNIST's
    for line in PUSHED:
        repo_id, kind = line[:-1].split(" (")
        titles = [c["title"] for c in stub.commits(repo_id, kind)]
        assert titles == ["Upload LD-Fashion-MNIST with ldmnist-hf", "initial commit"], repo_id
    metric = stub.repo_files(DATASET, "space")
    assert "ld-fashion-mnist.py" in metric and "ldmnist.py" not in metric  # what evaluate.load runs
    assert f'CLASS_VAES = {{"default": "{IDS["class_vae"]}"}}' in metric["ld-fashion-mnist.py"].decode()
    space = json.loads(metric["space.json"])
    assert (space["dataset"], space["metric_script"], space["source"]["ld"]) == (
        DATASET,
        "ld-fashion-mnist.py",
        "LD-Fashion-MNIST",
    )
    explorer = json.loads(stub.repo_files(IDS["explorer"], "space")["space.json"])
    assert (explorer["image_vae"], explorer["class_vae"], explorer["dataset"]) == (
        IDS["image_vae"],
        IDS["class_vae"],
        DATASET,
    )
    assert explorer["source"]["class_names"] == list(FASHION_MNIST.class_names)
    assert explorer["source"]["images"] == {
        "repo": "zalando-datasets/fashion_mnist",
        "file": "fashion_mnist/test-00000-of-00001.parquet",
    }
    for baseline in BASELINES:  # files named after the family: a model may hold results on both datasets
        assert {
            "ld-fashion-mnist/predictions-default.parquet",
            ".eval_results/ld-fashion-mnist-default.yaml",
        } <= set(stub.repo_files(baseline))


def test_the_siblings_cards_name_fashion_mnist_and_link_each_other(sibling):
    stub, _, _ = sibling
    ours = {*IDS.values(), *BASELINES, "zalando-datasets/fashion_mnist"}
    cards = {
        (role, kind): stub.repo_files(IDS[role], kind)["README.md"].decode()
        for role, kind in (
            ("dataset", "dataset"),
            ("metric", "space"),
            ("explorer", "space"),
            ("image_vae", "model"),
            ("class_vae", "model"),
            ("middle_layers", "model"),
        )
    }
    for (role, _), card in cards.items():
        assert "LD-Fashion-MNIST" in card, role
        linked = set(
            re.findall(r"huggingface\.co/(?:datasets/|spaces/)?([\w.-]+/[\w.-]+?)(?=[)/\s\"]|$)", card)
        )
        linked |= set(re.findall(r'"([\w.-]+/[\w.-]+)"', card))  # the snippets' ids
        assert DATASET in linked and {i for i in linked if i.startswith(f"{NS}/")} <= ours, (role, linked)
        assert f"{NS}/ldmnist" not in card and "ylecun/mnist" not in card, role
    assert "Metric Card for LD-Fashion-MNIST" in cards["metric", "space"]
    assert "2020 reference (on its own dataset)" not in cards["metric", "space"]  # LD-MNIST's figures
    assert "title: LD-Fashion-MNIST explorer" in cards["explorer", "space"]
    # each Space's card shows the sibling's own screenshot (`make screenshots`), not LD-MNIST's
    from ldmnist_hf.hub.space_repos import SPACES

    for role, space in (("explorer", "explorer"), ("metric", "metric")):
        assert "](screenshot.png)" in cards[role, "space"], role
        shown = stub.repo_files(IDS[role], "space")["screenshot.png"]
        assert shown == (SPACES / space / "screenshot-fashion-mnist.png").read_bytes(), role


# What a user without the package runs against the sibling: its data, its class VAE, its metric Space.
USER_CODE = f"""
import json
import evaluate
import torch
from datasets import load_dataset
from transformers import AutoModel

ds = load_dataset("{DATASET}")
test = ds["test"].with_format("numpy")[:]
metric = evaluate.load("{DATASET}")
scores = metric.compute(predictions=test["y_mean"], references=test["y"], labels=test["label"])
class_vae = AutoModel.from_pretrained("{IDS["class_vae"]}", trust_remote_code=True)
with torch.no_grad():
    classes = class_vae.predict(torch.from_numpy(test["y_mean"])).numpy()
print(json.dumps({{
    "splits": {{name: split.num_rows for name, split in ds.items()}},
    "names": ds["test"].features["label"].names,
    "scores": scores,
    "module": type(class_vae).__module__,
    "accuracy": float((classes == test["label"]).mean()),
}}))
"""


def test_the_sibling_loads_from_the_hub_without_the_package(sibling, ld_fashion, tmp_path):
    stub, out, _ = sibling
    seen = len(stub.log)
    got = json.loads(_check(run_python(USER_CODE, stub.env(tmp_path / "user", token=None))).splitlines()[-1])
    assert not any(r.authorized for r in stub.log[seen:])  # no token was sent
    assert got["splits"] == {"train": 60000, "test": 10000}
    assert got["names"] == list(FASHION_MNIST.class_names)
    assert got["module"].startswith("transformers_modules.")  # the code in the Hub repository
    y, y_mean, labels = load_latents(ld_fashion, "test", columns=("y", "y_mean", "label"))
    decoder = str(out / "models" / "ld-fashion-mnist-class-vae-32")
    expected = load_metric(decoder).compute(predictions=y_mean, references=y, labels=labels)
    assert got["scores"] == pytest.approx(expected, abs=TOLERANCE)
    assert got["accuracy"] == pytest.approx(expected["reconstructed_accuracy"], abs=TOLERANCE)
    assert got["accuracy"] > 0.99  # the sibling's decoder reads Fashion-MNIST's classes from its own latents


def test_submit_to_the_sibling_and_its_leaderboard(sibling, ld_fashion, tmp_path):
    stub, out, _ = sibling
    x_train, y_train = load_latents(ld_fashion, "train")
    x, y, labels = load_latents(ld_fashion, "test", columns=("x", "y", "label"))
    predictions = linear_regression(x_train[:20000], y_train[:20000])(x)
    np.save(tmp_path / "alice.npy", predictions)
    args = ["submit", "--predictions", str(tmp_path / "alice.npy"), "--repo", "alice/probe"]
    proc = run_ldmnist([*args, "--dataset-repo", DATASET], stub.env(tmp_path / "alice", token=ALICE))
    _check(proc)
    decoder = str(out / "models" / "ld-fashion-mnist-class-vae-32")
    expected = load_metric(decoder).compute(predictions=predictions, references=y, labels=labels)
    files = stub.repo_files("alice/probe")
    rows = yaml.safe_load(files[".eval_results/ld-fashion-mnist-default.yaml"])
    assert {r["dataset"]["id"] for r in rows} == {DATASET}
    assert "ld-fashion-mnist/predictions-default.parquet" in files
    card = ModelCard(files["README.md"].decode())
    assert card.data.datasets == [DATASET]
    assert {r.dataset_name for r in card.data.eval_results} == {"LD-Fashion-MNIST"}

    board = leaderboard(DATASET, endpoint=stub.endpoint, token=FAKE_TOKEN, push=True)
    ranked = {r.model: r for r in board.rows}
    assert sorted(ranked) == sorted(["alice/probe", *BASELINES])  # no 2020 rows: they are LD-MNIST's
    assert ranked["alice/probe"].status.value == "recomputed" and ranked["alice/probe"].rank
    assert ranked["alice/probe"].mse == pytest.approx(expected["mse"], abs=TOLERANCE)
    assert ranked["alice/probe"].reconstructed_accuracy == pytest.approx(
        expected["reconstructed_accuracy"], abs=TOLERANCE
    )
    assert {r.status.value for r in board.rows} == {"recomputed"}
    commit = stub.commits(DATASET, "dataset")[0]
    assert commit["title"] == "Update the LD-Fashion-MNIST leaderboard"
    assert json.loads(stub.repo_files(DATASET, "dataset")["leaderboard.json"])["dataset"] == DATASET
    card = stub.repo_files(DATASET, "dataset")["README.md"].decode()
    assert "alice/probe" in read_block(card, "leaderboard")
