"""The shipped weights, their cards and README's figures agree with a fresh evaluation."""

import json
from pathlib import Path

import pytest
from helpers import ROOT, bad_input_test

from ldmnist_hf import load_pretrained
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.files.listing import WRITTEN
from ldmnist_hf.pretrained.loading import PRETRAINED_DIR
from ldmnist_hf.registry import KINDS, MODEL_SETS, PRETRAINED, QUALITY_BAR
from ldmnist_hf.rendering import render_model_card, results_markdown
from ldmnist_hf.training.evaluation import evaluate_run
from ldmnist_hf.training.release import release, write_shipped_cards
from ldmnist_hf.training.step import JointModels

EVALUATION = json.loads((PRETRAINED_DIR / "evaluation.json").read_text())


@pytest.fixture(scope="module")
def shipped():
    return JointModels(*(load_pretrained(n) for n in ("image-vae-32", "class-vae-32", "middle-layers-32")))


def test_shipped_models_meet_the_bars(shipped, mnist):
    m = evaluate_run(shipped, mnist)
    for key, value in EVALUATION["metrics"].items():
        assert m[key] == pytest.approx(value, abs=1e-6), key  # the recorded figures are current
    assert m["class_vae_accuracy_mean"] >= QUALITY_BAR["class_vae_accuracy_mean"]
    assert m["middle_layers_accuracy"] >= QUALITY_BAR["middle_layers_accuracy"]
    assert m["x_informative_components"] >= QUALITY_BAR["informative_components"]


def test_cards_and_docs_are_generated_from_the_evaluation(shipped):
    for key, kind in KINDS.items():
        model = getattr(shipped, key)
        folder = kind.folder(model.config.latent_dim)
        card = render_model_card(key, model.config.to_dict(), EVALUATION["metrics"], EVALUATION["training"])
        assert (PRETRAINED_DIR / folder / "README.md").read_text() == card
    assert results_markdown(EVALUATION) in (ROOT / "docs" / "training.md").read_text()


def test_ldmnist_cards_writes_what_is_shipped(tmp_path):
    """`ldmnist cards` renders every shipped card from the recorded evaluations: the same bytes as shipped."""
    from ldmnist_hf import METRIC_PATH
    from ldmnist_hf.training.release import write_shipped_cards

    before = {
        p: p.read_bytes() for p in [*PRETRAINED_DIR.glob("*/README.md"), Path(METRIC_PATH) / "README.md"]
    }
    written = write_shipped_cards(cards_dir=tmp_path)  # copies only: the package is not written
    assert len(written) == len(PRETRAINED) + 1
    written = write_shipped_cards(cards_dir=tmp_path, into_package=True)  # this is a source checkout
    assert {p: p.read_bytes() for p in before} == before  # nothing changed: they are current
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.md" for n in PRETRAINED] + ["metric-ldmnist.md"]
    )
    for card in tmp_path.iterdir():  # --cards-dir writes copies of the package's cards, the one source
        shipped = (
            Path(METRIC_PATH) / "README.md"
            if card.stem == "metric-ldmnist"
            else PRETRAINED_DIR / card.stem / "README.md"
        )
        assert card.read_bytes() == shipped.read_bytes()
    assert len(written) == len(before) + len(PRETRAINED) + 1


def test_each_shipped_card_has_one_source():
    """The cards live in the package (`pretrained/*/README.md`, the metric's README.md); no copy in the repository."""
    assert not (ROOT / "model_cards").exists()


def test_model_index_parses_back_to_the_evaluation():
    """The Hub reads `model-index` from the card: each figure there is the evaluation's, not a typed one."""
    from huggingface_hub import ModelCard

    m = EVALUATION["metrics"]
    expected = {
        "image-vae-32": {},  # its BCE has no metric id on the Hub: it stays in the card's table
        "class-vae-32": {"accuracy": m["class_vae_accuracy_mean"]},
        "middle-layers-32": {"mse": m["middle_layers_test_mse"], "accuracy": m["middle_layers_accuracy"]},
    }
    assert m["class_vae_accuracy_draws"] >= 20
    for folder, metrics in expected.items():
        results = ModelCard.load(PRETRAINED_DIR / folder / "README.md").data.eval_results or []
        assert {r.metric_type: r.metric_value for r in results} == metrics
        assert {(r.dataset_type, r.dataset_split) for r in results} <= {("ylecun/mnist", "test")}


def test_release_of_a_run_writes_folders_without_code(tmp_path, small_mnist, exported):
    """Released folders hold weights, config and card; only `ldmnist export` adds the modeling code (even
    after an export in the same process: it switches nothing on in transformers' classes)."""
    from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
    from ldmnist_hf.training.trainer import train

    train(
        LDMNISTTrainingArguments(output_dir=str(tmp_path / "run"), epochs=1, device="cpu"), mnist=small_mnist
    )
    release(tmp_path / "run", dest=tmp_path / "models", mnist=small_mnist)
    for name, kind in PRETRAINED.items():
        if name != kind.folder():  # the default set's folders are the ones this release wrote
            continue
        folder = tmp_path / "models" / name
        names = sorted(p.name for p in folder.iterdir() if p.name != WRITTEN)
        assert names == ["README.md", "config.json", "model.safetensors"]
        assert "auto_map" not in json.loads((folder / "config.json").read_text())
        assert type(load_pretrained(folder)) is kind.model_class
    for kind in KINDS.values():  # nothing writes transformers' private switch
        assert kind.model_class._auto_class is None and kind.config_class._auto_class is None


def test_release_of_a_named_set_sits_beside_the_default(tmp_path, small_mnist):
    """`--model-set reference` writes `<name>-32-reference` folders and `evaluation-reference.json`, leaves
    the default set alone, and re-evaluates the set from its own files."""
    from ldmnist_hf.errors import LDMNISTError
    from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
    from ldmnist_hf.training.trainer import train

    train(
        LDMNISTTrainingArguments(output_dir=str(tmp_path / "run"), epochs=1, device="cpu"), mnist=small_mnist
    )
    dest = tmp_path / "models"
    release(tmp_path / "run", dest=dest, mnist=small_mnist, model_set="reference")
    assert sorted(p.name for p in dest.iterdir()) == [
        "class-vae-32-reference",
        "evaluation-reference.json",
        "image-vae-32-reference",
        "middle-layers-32-reference",
        "training_metrics-reference.jsonl",
    ]
    recorded = json.loads((dest / "evaluation-reference.json").read_text())
    assert recorded["models"]["class_vae"]["folder"] == "class-vae-32-reference"
    again = release(dest=dest, mnist=small_mnist, model_set="reference")  # re-evaluate, weights untouched
    assert again["class_vae_accuracy_mean"] == recorded["metrics"]["class_vae_accuracy_mean"]
    for bad in ("Reference!", "../x"):
        with pytest.raises(LDMNISTError, match="short lowercase name"):
            release(tmp_path / "run", dest=dest, mnist=small_mnist, model_set=bad)


@pytest.mark.parametrize(
    "mode, text",
    [
        ("eval", "in `eval` mode during training (Dropout off, BatchNorm on fixed statistics"),
        ("train", "in `train` mode during training (as the 2020 reference text describes)"),
    ],
)
def test_card_states_the_dropout_batchnorm_mode(mode, text):
    """The template names the mode the run trained with."""
    summary = {
        **EVALUATION["training"],
        "args": {**EVALUATION["training"]["args"], "dropout_batchnorm": mode},
    }
    config = json.loads((PRETRAINED_DIR / "class-vae-32" / "config.json").read_text())
    card = render_model_card("class_vae", config, EVALUATION["metrics"], summary)
    assert f"Dropout and BatchNorm {text}" in card


def test_shipped_cards_load_their_own_folder():
    """Each shipped card's snippet names its own folder (the reference set's cards once named the default's)."""
    from ldmnist_hf.pretrained.loading import PRETRAINED_DIR

    cards = sorted(PRETRAINED_DIR.glob("*/README.md"))
    assert len(cards) == 3 * len(MODEL_SETS)
    for card in cards:
        assert f'pretrained_path("{card.parent.name}")' in card.read_text(), card


# ----------------------------------------------------------------------------- bad input


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
def _readme(c, text="# no results block\n"):
    (c.tmp / "notes.md").write_text(text)
    return c.tmp / "notes.md"


def _user_file_in_model_folder(c):
    """A released model folder (listed) with a file of the user's in it: the next release must not delete it."""
    from ldmnist_hf.files.listing import record_written

    folder = c.tmp / "models" / "image-vae-4"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    record_written(folder, ["config.json"])
    (folder / "my_notes.md").write_text("mine")
    return c.tmp / "models"


BAD_INPUT = [
    (
        "release-unfinished-run",
        lambda c: release(c.copy("run"), dest=c.tmp / "models"),
        LDMNISTError,
        "holds no finished run",
    ),
    (
        "release-into-the-installed-package",
        lambda c: release(c.copy("done"), dest=PRETRAINED_DIR),
        LDMNISTError,
        "inside the installed package",
    ),
    (
        "release-dest-and-into-package",
        lambda c: release(c.copy("done"), dest=c.tmp / "m", into_package=True),
        LDMNISTError,
        "Give `dest` or `into_package`, not both",
    ),
    ("release-dest-is-a-file", lambda c: release(c.copy("done"), dest=c.file()), LDMNISTError, "is a file"),
    (
        "release-cards-dir-is-a-file",
        lambda c: release(c.copy("done"), dest=c.tmp / "m", cards_dir=c.file()),
        LDMNISTError,
        "`cards_dir`",
    ),
    (
        "release-readme-missing",
        lambda c: release(c.copy("done"), dest=c.tmp / "m", readme=c.tmp / "nope.md"),
        LDMNISTError,
        "nope.md",
    ),
    (
        "release-readme-without-block",
        lambda c: release(c.copy("done"), dest=c.tmp / "m", readme=_readme(c)),
        LDMNISTError,
        "results",
    ),
    (
        "release-not-a-run",
        lambda c: release(c.thesis(), dest=c.tmp / "m"),
        LDMNISTError,
        "holds no run of `ldmnist train`",
    ),
    (
        "release-over-a-file-of-the-users",
        lambda c: release(c.copy("done"), dest=_user_file_in_model_folder(c), latent_dim=4),
        LDMNISTError,
        "my_notes.md, which no ldmnist command wrote",
    ),
    (
        "release-evaluation-not-an-object",
        lambda c: (
            (c.tmp / "m").mkdir()
            or (c.tmp / "m" / "evaluation.json").write_text("[1]")
            and release(dest=c.tmp / "m")
        ),
        LDMNISTError,
        "evaluation.json",
    ),
    (
        "cards-nowhere",
        lambda c: write_shipped_cards(),
        LDMNISTError,
        "Give `cards_dir`",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)


def test_the_installed_package_is_read_only_to_release_and_cards(tiny, tmp_path):
    """A package installed outside a source checkout (a copy on PYTHONPATH, as from a wheel): `release`
    writes to ./models by default, refuses the package's folder and `--into-package`; `cards` likewise; the
    package's files stay byte for byte."""
    import hashlib
    import os
    import shutil
    import subprocess
    import sys

    site = tmp_path / "site"
    shutil.copytree(PRETRAINED_DIR.parent, site / "ldmnist_hf", ignore=shutil.ignore_patterns("__pycache__"))
    digest = lambda: {  # noqa: E731
        p.relative_to(site): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in site.rglob("*")
        if p.is_file()
    }
    before = digest()
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def ldmnist(*args):
        return subprocess.run(
            [sys.executable, "-m", "ldmnist_hf.cli", *args], cwd=work, env=env, capture_output=True, text=True
        )

    run = str(tiny.root / "done")
    pretrained = str(site / "ldmnist_hf" / "pretrained")
    for args, fragment in [
        (["release", "--run", run, "--into-package"], "for maintainers, in a source checkout"),
        (["release", "--run", run, "--dest", pretrained], "inside the installed package"),
        (["cards", "--into-package"], "for maintainers, in a source checkout"),
        (["cards", "--cards-dir", pretrained], "inside the installed package"),
    ]:
        proc = ldmnist(*args)
        assert proc.returncode == 1 and fragment in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    where = ldmnist("release", "--help")
    assert "default: ./models" in where.stdout
    proc = ldmnist("release", "--run", run)  # the default: ./models
    assert proc.returncode == 0, proc.stderr
    assert (work / "models" / "image-vae-4" / "model.safetensors").is_file()
    assert "NOT MET  informative image latent components" in proc.stdout  # a 4-d run cannot have 8
    assert "{" not in proc.stdout  # a summary, not a JSON dump
    assert digest() == before
