"""The fidelity table: 2020 publication, the 2020 recipe rerun, the fast recipe, side by side."""

import json
import shutil

import pytest
from helpers import bad_input_test

from ldmnist_hf.analysis.fidelity import (
    fidelity_table,
    record_column,
    recorded_columns,
    seed_of_recipe,
    tf_run_column,
)
from ldmnist_hf.cli import main
from ldmnist_hf.cli.analysis import Fidelity
from ldmnist_hf.cli.base import Context
from ldmnist_hf.data.reference_2020 import reference_2020
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.pretrained.loading import PRETRAINED_DIR
from ldmnist_hf.rendering import fidelity_markdown, seeds_markdown


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
    titles = [c["title"] for c in recorded_columns().values() if "seed_of" not in c]  # seeds: one column
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


def _evaluation(c, name: str, **args) -> str:
    """An evaluation.json of the shipped reference run with these training arguments changed."""
    evaluation = json.loads((PRETRAINED_DIR / "evaluation-reference.json").read_text())
    evaluation["training"]["args"].update(args)
    path = c.tmp / name
    path.write_text(json.dumps(evaluation))
    return str(path)


def _seed_of(c, **args):
    return seed_of_recipe(_evaluation(c, "seed.json", **args), PRETRAINED_DIR / "evaluation-reference.json")


def _fidelity(*args):
    return Fidelity(rerun_dataset="d", fast_dataset="d", **dict(args)).run(Context([], quiet=True))


BAD_INPUT += [
    (
        "fidelity-seed-of-another-recipe",
        lambda c: _seed_of(c, seed=1, schedule="plateau"),
        LDMNISTError,
        "is not a seed of the shipped run's recipe (shipped -> this run: schedule: 'constant' -> 'plateau')",
    ),
    (
        "fidelity-seed-of-another-source",
        lambda c: _seed_of(c, seed=1, source="fashion-mnist"),
        LDMNISTError,
        "source: 'mnist' -> 'fashion-mnist'",
    ),
    (
        "fidelity-seed-is-the-shipped-one",
        lambda c: _seed_of(c, output_dir="runs/elsewhere"),
        LDMNISTError,
        "ran seed 0, the shipped run's own: give another seed's run",
    ),
    (
        "fidelity-seed-without-training-arguments",
        lambda c: seed_of_recipe(
            PRETRAINED_DIR / "evaluation-reference.json", _table_file(c, '{"metrics": {}}')
        ),
        LDMNISTError,
        "records no training arguments",
    ),
    (
        "fidelity-record-seed-and-rerun-as",
        lambda c: _fidelity(("record_seed", True), ("record_rerun_as", "mine")),
        LDMNISTError,
        "give --record-rerun-as or --record-seed, not both",
    ),
    (
        "fidelity-record-seed-into-a-card",
        lambda c: _fidelity(("record_seed", True), ("card", "README.md")),
        LDMNISTError,
        "--record-seed takes another seed's run as the rerun",
    ),
    (
        "fidelity-record-seed-without-its-evaluation",
        lambda c: _fidelity(("record_seed", True)),
        LDMNISTError,
        "--record-seed needs --rerun-evaluation",
    ),
    (
        "fidelity-seeds-file-without-its-block",
        lambda c: _fidelity(("seeds", _table_file(c, "# no block\n"))),
        LDMNISTError,
        "has no <!-- fidelity-seeds:start --> ... <!-- fidelity-seeds:end --> block to fill",
    ),
]


def _table_file(c, text: str) -> str:
    path = c.tmp / "file.md"
    path.write_text(text)
    return str(path)


def test_a_seed_differs_from_the_shipped_run_in_its_seed_and_session_settings_only(scratch):
    """Where it was written, how it was resumed and settings added since the shipped run (at their defaults)
    leave it the same recipe."""
    assert _seed_of(
        scratch, seed=2, output_dir="runs/reference-s2", resume=False, source="mnist", shuffle_buffer=0
    ) == (
        2,
        json.loads((PRETRAINED_DIR / "evaluation-reference.json").read_text())["models"]["image_vae"][
            "sha256"
        ],
    )


def test_seeds_show_as_one_spread_column_and_each_in_their_own_table(benchmarked):
    evaluation = PRETRAINED_DIR / "evaluation.json"
    table = fidelity_table(evaluation, benchmarked, evaluation, benchmarked)
    rerun = table["rerun"]
    seeds = {
        f"seed{s}": {
            **rerun,
            "seed": s,
            "seed_of": rerun["image_vae_sha256"],
            "title": f"2020 recipe, seed {s}",
            "joint": joint,
            "y_components": comps,
        }
        for s, joint, comps in ((2, 0.9601, 6), (1, 0.9999, rerun["y_components"]))
    }
    table["recorded"] = {**table["recorded"], **seeds}
    md = fidelity_markdown(table)
    seeds_title = f"2020 recipe, seeds {rerun['seed']}, 1, 2: lowest to highest"
    header = md.splitlines()[0]
    assert f"| 2020 recipe rerun here | {seeds_title} | earlier rerun" in header
    assert "2020 recipe, seed 1" not in header  # the seeds are in the spread column, not each
    joint_row = next(line for line in md.splitlines() if line.startswith("| joint accuracy"))
    assert "| 0.9601 to 0.9999 |" in joint_row
    comps_row = next(line for line in md.splitlines() if line.startswith("| class latent components"))
    assert f"| 6 to {rerun['y_components']} |" in comps_row
    assert "- Seeds: The 2020 recipe run again with other seeds" in md
    each = seeds_markdown(table)
    assert each.splitlines()[0] == (
        f"| figure | 2020 publication | seed {rerun['seed']} (shipped) | seed 1 | seed 2 | lowest to highest |"
    )
    joint_row = next(line for line in each.splitlines() if line.startswith("| joint accuracy"))
    assert joint_row.endswith(f"| {rerun['joint']:.4f} | 0.9999 | 0.9601 | 0.9601 to 0.9999 |")
    # a seed of another shipped run (the set replaced since), or a seed's own run given as the rerun: no spread
    other = {**table, "rerun": {**rerun, "image_vae_sha256": "0" * 64}}
    assert "lowest to highest" not in fidelity_markdown(other) and "seed 1" not in fidelity_markdown(other)
    # a seed benchmarked without a row the rerun has is refused, not shown as a blank spread
    short = {k: {**v, "benchmark": {"linear": v["benchmark"]["linear"]}} for k, v in seeds.items()}
    with pytest.raises(LDMNISTError, match="benchmarked otherwise than the shipped rerun"):
        fidelity_markdown({**table, "recorded": {**table["recorded"], **short}})
    table["recorded"] = {k: v for k, v in table["recorded"].items() if k not in seeds}
    assert "lowest to highest" not in fidelity_markdown(table)
    assert "No run of the 2020 recipe with another seed is recorded" in seeds_markdown(table)


def test_record_seed_keeps_the_seed_of_the_shipped_run(benchmarked, tmp_path, monkeypatch):
    """The column `--record-seed` records: the seed's figures, its seed, and the shipped run it is a seed of."""
    import ldmnist_hf.analysis.fidelity as fidelity

    evaluation = json.loads((PRETRAINED_DIR / "evaluation-reference.json").read_text())
    shipped_id = evaluation.pop("models")["image_vae"]["sha256"]  # no models: the tiny dataset stands in
    evaluation["training"]["args"].update(seed=3, output_dir="runs/reference-s3")
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps(evaluation))
    recorded = {}
    monkeypatch.setattr(fidelity, "record_column", lambda *a: recorded.update(zip("ntcs", a)))
    args = ["fidelity", "--rerun-dataset", str(benchmarked), "--fast-dataset", str(benchmarked)]
    assert main([*args, "--rerun-evaluation", str(path), "--record-seed"]) == 0
    assert recorded["n"] == "seed3" and recorded["t"] == "2020 recipe, seed 3"
    column = recorded["c"]
    assert column["seed"] == 3 and column["seed_of"] == shipped_id
    assert column["joint"] == evaluation["metrics"]["middle_layers_accuracy"]
    assert str(benchmarked.name) in recorded["s"]


test_bad_input = bad_input_test(BAD_INPUT)
