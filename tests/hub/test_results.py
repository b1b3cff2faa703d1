"""What a submission writes, in the Hub's formats: `.eval_results` rows as the Hub's specification has them
(checked against its schema, transcribed in schemas/, and parsed back by huggingface_hub's own parser) and the
card's `model-index` with metric ids."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from jsonschema import Draft202012Validator

from ldmnist_hf.hub import scoring
from ldmnist_hf.hub.results import METRIC_IDS, eval_results_yaml, submission_files

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "eval_results.schema.json").read_text())
SPLIT = scoring.TestSplit(
    "ns/ldmnist", "default", "a" * 40, np.zeros((2, 4)), np.zeros(2, int), None, "ns/cls"
)
SCORES = {"mse": 0.84, "reconstructed_accuracy": 0.77}


def _errors(rows) -> list[str]:
    return [e.message for e in Draft202012Validator(SCHEMA).iter_errors(rows)]


def test_eval_results_rows_pass_the_hubs_schema():
    rows = yaml.safe_load(eval_results_yaml(SPLIT, SCORES, "https://hf.co/u/m/blob/main/p.parquet", user="u"))
    assert _errors(rows) == []
    assert [r["dataset"]["task_id"] for r in rows] == ["default-mse", "default-reconstructed_accuracy"]
    assert all(r["source"]["user"] == "u" and r["dataset"]["revision"] == "a" * 40 for r in rows)


@pytest.mark.parametrize(
    "extra",
    [{"evaluation_framework": "ldmnist-hf"}, {"metric": "mse"}, {"higher_is_better": False}],
    ids=["framework", "metric", "direction"],
)
def test_the_schema_refuses_keys_the_spec_has_not(extra):
    """What the project wrote before (a per-row evaluation_framework) and what the spec has no field for."""
    rows = yaml.safe_load(eval_results_yaml(SPLIT, SCORES, "https://hf.co/x"))
    rows[0].update(extra)
    assert any("Additional properties are not allowed" in m for m in _errors(rows))


def test_huggingface_hub_parses_the_rows_back():
    import huggingface_hub

    parse_eval_result_entries = getattr(huggingface_hub, "parse_eval_result_entries", None)
    if parse_eval_result_entries is None:  # the floor versions (make test-floor) predate the format
        pytest.skip(f"huggingface_hub {huggingface_hub.__version__} has no parser of .eval_results files")
    rows = yaml.safe_load(eval_results_yaml(SPLIT, SCORES, "https://hf.co/x", user="u"))
    entries = parse_eval_result_entries(rows)
    assert [(e.dataset_id, e.task_id, e.value, e.source_user) for e in entries] == [
        ("ns/ldmnist", "default-mse", 0.84, "u"),
        ("ns/ldmnist", "default-reconstructed_accuracy", 0.77, "u"),
    ]


def test_model_index_uses_metric_ids():
    """`mse` and `accuracy` are ids of evaluate's metrics on the Hub; the name says which accuracy."""
    from huggingface_hub import ModelCard

    files = submission_files("u/m", SPLIT, np.zeros((2, 4)), SCORES, "https://hf.co", revision="refs/pr/3")
    card = ModelCard(files["README.md"].decode())
    assert {(r.metric_type, r.metric_name) for r in card.data.eval_results} == {
        ("mse", "MSE of predicted vs test y"),
        ("accuracy", "reconstructed accuracy"),
    }
    assert set(METRIC_IDS.values()) == {"mse", "accuracy"}
    assert all("/blob/refs%2Fpr%2F3/" in r.source_url for r in card.data.eval_results)
