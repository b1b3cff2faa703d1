"""The fidelity table: 2020 publication, the 2020 recipe rerun, the fast recipe, side by side."""

import json
import shutil

import pytest
from helpers import bad_input_test

from ldmnist_hf.analysis.fidelity import fidelity_table, record_column, recorded_columns, tf_run_column
from ldmnist_hf.cli import main
from ldmnist_hf.data.reference_2020 import reference_2020
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.pretrained.loading import PRETRAINED_DIR
from ldmnist_hf.rendering import fidelity_markdown


@pytest.fixture(scope="module")
def benchmarked(benchmarked, tmp_path_factory):
    """A copy of the session's benchmarked build (conftest.py): `ldmnist fidelity --card` writes into its card."""
    folder = tmp_path_factory.mktemp("fidelity") / "ldmnist"
    shutil.copytree(benchmarked, folder)
    return folder


def test_columns_come_from_their_files(benchmarked):
    evaluation = PRETRAINED_DIR / "evaluation.json"
    table = fidelity_table(evaluation, benchmarked, evaluation, benchmarked)
    metrics = json.loads(evaluation.read_text())["metrics"]
    bench = {r["key"]: r for r in json.loads((benchmarked / "benchmark.json").read_text())["rows"]}
    for column in ("rerun", "fast"):
        c = table[column]
        assert c["class_mean"] == metrics["class_vae_accuracy_mean"]
        assert c["joint"] == metrics["middle_layers_accuracy"]
        assert c["benchmark"]["linear"]["mse"] == bench["linear"]["mse"]
        assert -0.05 < c["x_mean"] < 0.05 and 0.8 < c["x_std"] < 1.0
    ref = reference_2020()
    assert table["published"]["class_mean"] == ref["published"]["class_vae_accuracy"]
    assert table["published"]["x_components"] == 11 and table["published"]["y_components"] == 6
    md = fidelity_markdown(table)
    assert md.count("\n| ") == 9  # the 9 rows below the header
    assert "plateau" in table["recorded"]  # the earlier rerun's figures stay in the table
    assert "| 99.84 % |" in md and "44.7705 / 0.9710" in md and "- Class VAE:" in md


def test_cli_fills_the_card_block_and_refuses_missing_inputs(benchmarked, tmp_path, capsys):
    card = benchmarked / "README.md"
    evaluation = str(PRETRAINED_DIR / "evaluation.json")
    args = ["fidelity", "--rerun-dataset", str(benchmarked), "--fast-dataset", str(benchmarked)]
    assert main([*args, "--rerun-evaluation", evaluation, "--card", str(card)]) == 0
    text = card.read_text()
    titles = [c["title"] for c in recorded_columns().values()]
    header = " | ".join(["2020 publication", "2020 recipe rerun here", *titles, "fast recipe (shipped)"])
    assert f"| {header} |" in text  # the recorded columns between the rerun and the fast recipe
    assert main([*args, "--rerun-evaluation", str(tmp_path / "none.json")]) == 1
    assert "none.json is missing" in capsys.readouterr().err
    with pytest.raises(LDMNISTError, match="is missing"):
        fidelity_table(tmp_path / "none.json", benchmarked, evaluation, benchmarked)


def test_a_dataset_built_by_other_models_than_its_column_evaluates_is_refused(benchmarked):
    """The rerun column given the fast recipe's dataset (the two swapped): statistics and benchmark rows would
    sit beside the other models' evaluation."""
    with pytest.raises(
        LDMNISTError,
        match=r"built with the image_vae 'image-vae-32', not with the "
        r"'image-vae-32-reference' that evaluation-reference.json evaluates",
    ):
        fidelity_table(
            PRETRAINED_DIR / "evaluation-reference.json",
            benchmarked,
            PRETRAINED_DIR / "evaluation.json",
            benchmarked,
        )


def _table_with(c, evaluation: str | None = None, benchmark: str | None = None):
    """The fidelity table of the tiny dataset, with this evaluation file's and benchmark.json's text."""
    dataset, path = c.copy("ds"), PRETRAINED_DIR / "evaluation.json"
    if evaluation is not None:
        path = c.tmp / "evaluation.json"
        path.write_text(evaluation)
    if benchmark is not None:
        (dataset / "benchmark.json").write_text(benchmark)
    return fidelity_table(path, dataset, path, dataset)


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "fidelity-evaluation-is-a-list",
        lambda c: _table_with(c, evaluation="[1, 2]"),
        LDMNISTError,
        "evaluation.json holds an array ([...]), not a JSON object ({...}); run `ldmnist release`",
    ),
    (
        "fidelity-evaluation-without-metrics",
        lambda c: _table_with(c, evaluation='{"models": {}}'),
        LDMNISTError,
        "evaluation.json holds no `metrics`: it is not an evaluation",
    ),
    (
        "fidelity-benchmark-is-a-string",
        lambda c: _table_with(c, benchmark='"rows"'),
        LDMNISTError,
        "benchmark.json holds a string, not a JSON object ({...}); run `ldmnist release`",
    ),
]


def test_recorded_columns_round_trip(tmp_path):
    path = tmp_path / "columns.json"
    column = {**recorded_columns()["plateau"], "joint": 0.5}
    record_column("mine", "my run", column, "a test", path=path)
    record_column("mine", "my run, again", column, "a test", path=path)  # replaced, not added
    assert (
        list(recorded_columns(path)) == ["mine"]
        and recorded_columns(path)["mine"]["title"] == "my run, again"
    )


def _tf_run(c, result=None, lines=None):
    folder = c.tmp / "tf-run"
    folder.mkdir()
    if result is not None:
        (folder / "result.json").write_text(result)
    if lines is not None:
        (folder / "metrics.jsonl").write_text(lines)
    return tf_run_column(folder)


BAD_INPUT += [
    (
        "fidelity-tf-run-unfinished",
        lambda c: _tf_run(c),
        LDMNISTError,
        "holds no result.json: run docs/tf_2020_code.py",
    ),
    (
        "fidelity-tf-run-without-epochs",
        lambda c: _tf_run(c, result="{}", lines=""),
        LDMNISTError,
        "holds no metrics.jsonl of the run's epochs",
    ),
    (
        "fidelity-recorded-columns-damaged",
        lambda c: (
            (c.tmp / "cols.json").write_text('{"columns": [1]}') and recorded_columns(c.tmp / "cols.json")
        ),
        LDMNISTError,
        "holds no `columns` of titled figures",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
