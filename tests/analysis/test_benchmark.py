"""The benchmark (analysis/benchmark.py): its rows and floors, deterministic, written into the card."""

import json
import shutil

import numpy as np
import pytest
from helpers import TRAIN_FILE, bad_input_test, nan_in

from ldmnist_hf.analysis.benchmark import linear_regression, run_benchmark, write_benchmark
from ldmnist_hf.errors import LDMNISTError


@pytest.fixture(scope="module")
def result(built):
    return run_benchmark(built / "ldmnist", mlp_epochs=2, progress=False)


def test_rows_and_floors(result):
    rows = {r["key"]: r for r in result["rows"]}
    assert set(rows) == {
        "floor_expected",
        "floor_y_mean",
        "zero",
        "linear",
        "mlp",
        "middle",
        "reference_mlp",
        "reference_linear",
        "reference_middle",
    }
    # The empirical floor is a sample of the expected one; no baseline beats it.
    assert rows["floor_y_mean"]["mse"] == pytest.approx(rows["floor_expected"]["mse"], rel=0.01)
    assert rows["floor_y_mean"]["reconstructed_accuracy"] > 0.999
    for key in ("zero", "linear", "mlp"):
        assert rows[key]["mse"] > rows["floor_expected"]["mse"]
    assert rows["linear"]["mse"] < rows["zero"]["mse"]
    assert rows["middle"]["reconstructed_accuracy"] > 0.97  # the jointly trained mapper classifies well
    assert rows["reference_linear"]["mse"] == 0.8701  # published figures, marked as such
    assert rows["reference_linear"]["model"].startswith("2020 reference (published)")


def test_deterministic(result, built):
    again = run_benchmark(built / "ldmnist", mlp_epochs=2, progress=False)
    predictions = again.pop("predictions")
    assert again == {k: v for k, v in result.items() if k != "predictions"}
    assert set(predictions) == {"zero", "linear", "mlp", "middle"}
    for key, array in predictions.items():
        assert array.shape == (len(array), 32) and array.dtype == np.float32
        np.testing.assert_array_equal(array, result["predictions"][key])


def test_kept_predictions_give_the_rows(result):
    """The baselines' kept predictions are the ones their rows were scored from (they become model repos)."""
    import datasets

    from ldmnist_hf import load_metric

    rows = {r["key"]: r for r in result["rows"]}
    metric = load_metric(result["class_decoder"])

    test = datasets.load_dataset(result["dataset"], split="test").with_format("numpy")
    for key, predictions in result["predictions"].items():
        scores = metric.compute(predictions=predictions, references=test["y"], labels=test["label"])
        assert scores["mse"] == pytest.approx(rows[key]["mse"], abs=1e-4)


def test_written_into_card(result, built, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(built / "ldmnist", folder)
    write_benchmark(result, folder)
    card = (folder / "README.md").read_text()
    assert "| linear regression (least squares, closed form) |" in card
    assert "Run `ldmnist benchmark" not in card
    assert json.loads((folder / "benchmark.json").read_text())["rows"] == result["rows"]
    assert "predictions" not in json.loads((folder / "benchmark.json").read_text())
    kept = np.load(folder / "benchmark_predictions" / "linear.npy", allow_pickle=False)
    np.testing.assert_array_equal(kept, result["predictions"]["linear"])


def test_linear_regression_is_exact():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4)).astype(np.float32)
    w = rng.normal(size=(4, 3))
    predict = linear_regression(x, x @ w + 0.5)
    assert np.allclose(predict(x), x @ w + 0.5, atol=1e-4)


def test_not_a_dataset(tmp_path):
    with pytest.raises(LDMNISTError, match="not a folder written by `ldmnist build`"):
        run_benchmark(tmp_path)


# ----------------------------------------------------------------------------- bad input


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "benchmark-mlp-epochs",
        lambda c: run_benchmark(c.ds, mlp_epochs=-5),
        LDMNISTError,
        "`mlp_epochs` must be an integer from 1",
    ),
    (
        "benchmark-mlp-recipe",
        lambda c: run_benchmark(c.ds, mlp_recipe="slow"),
        LDMNISTError,
        "Unknown `mlp_recipe` 'slow'",
    ),
    (
        "benchmark-seed",
        lambda c: run_benchmark(c.ds, seed=-1),
        LDMNISTError,
        "`seed` must be an integer from 0",
    ),
    (
        "benchmark-flipped-byte",
        lambda c: run_benchmark(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "has changed since the build",
    ),
    (
        "benchmark-nan-in-y-std",
        lambda c: run_benchmark(c.resigned(nan_in("y_std")), mlp_epochs=1, progress=False),
        LDMNISTError,
        "column 'y_std' holds NaN or infinite values in 1 rows",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
