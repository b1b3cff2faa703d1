"""`ldmnist submit` (hub/submit.py) on the living benchmark (conftest.py's `board`): the Hub's formats, pull
requests to another account's repository, and every bad input refused before any upload."""

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import ROOT, code_blocks
from hub_stub import stub_api
from huggingface_hub import HfApi, ModelCard

from ldmnist_hf.cli import main
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.data.records import Leaderboard, Status
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.results import eval_results_file, predictions_file
from ldmnist_hf.hub.submit import submit
from ldmnist_hf.rendering import leaderboard_markdown

from .conftest import DATASET, TOKENS, text_of


def test_submit_writes_the_hubs_formats(board):
    stub = board["stub"]
    api = stub_api(stub.endpoint)
    result = board["results"]["alice"]
    assert result["pull_request"] is None and result["revision"] == board["old_revision"]
    card = ModelCard(text_of(api.hf_hub_download("alice/probe", "README.md")))
    assert card.data.datasets == [DATASET] and "ldmnist" in card.data.tags
    assert {
        (r.dataset_type, r.dataset_config, r.dataset_split, r.dataset_revision)
        for r in card.data.eval_results
    } == {(DATASET, "default", "test", result["revision"])}
    assert {(r.metric_type, r.metric_name): r.metric_value for r in card.data.eval_results} == {
        ("mse", "MSE of predicted vs test y"): result["mse"],
        ("accuracy", "reconstructed accuracy"): result["reconstructed_accuracy"],
    }
    assert all(r.source_url.endswith(predictions_file("default")) for r in card.data.eval_results)
    rows = yaml.safe_load(text_of(api.hf_hub_download("alice/probe", eval_results_file("default"))))
    assert [(r["dataset"]["id"], r["dataset"]["task_id"], r["value"]) for r in rows] == [
        (DATASET, "default-mse", result["mse"]),
        (DATASET, "default-reconstructed_accuracy", result["reconstructed_accuracy"]),
    ]
    assert all(set(r) == {"dataset", "value", "source", "notes"} for r in rows)  # the spec's keys only
    assert not api.file_exists(DATASET, "eval.yaml", repo_type="dataset")  # the Hub would refuse ours
    table = pq.read_table(api.hf_hub_download("alice/probe", predictions_file("default")))
    assert table.column_names == ["index", "prediction"] and table.num_rows == 10000
    assert table.column("index").to_pylist() == list(range(10000))


def test_a_repo_the_token_cannot_write_gets_a_pull_request(board):
    stub = board["stub"]
    api = stub_api(stub.endpoint)
    result = board["results"]["grace"]
    assert result["pull_request"].endswith("/henry/probe/discussions/1")
    assert text_of(api.hf_hub_download("henry/probe", "README.md")) == "# henry's probe\n"  # main untouched
    assert api.file_exists("henry/probe", predictions_file("default"), revision="refs/pr/1")
    titles = [d.title for d in api.get_repo_discussions(DATASET, repo_type="dataset")]
    assert "LD-MNIST submission: henry/probe (default)" in titles


def test_a_pull_request_submission_credits_its_author_and_links_where_its_files_are(board):
    stub = board["stub"]
    api = stub_api(stub.endpoint)
    (pr,) = [d for d in api.get_repo_discussions("henry/probe") if d.is_pull_request]
    details = api.get_discussion_details("henry/probe", pr.num)
    assert details.author == "grace"
    text = details.events[0].content
    assert board["results"]["grace"]["revision"] in text and f"{board['results']['grace']['mse']:.6f}" in text
    rows = yaml.safe_load(
        text_of(api.hf_hub_download("henry/probe", eval_results_file("default"), revision="refs/pr/1"))
    )
    assert all(r["source"]["user"] == "grace" for r in rows)
    url = rows[0]["source"]["url"]
    assert "/blob/refs%2Fpr%2F1/" in url  # not blob/main, where the file is only once the PR is merged
    revision, path = url.split("/blob/", 1)[1].split("/", 1)
    assert api.file_exists("henry/probe", path, revision=revision.replace("%2F", "/"))


# ----------------------------------------------------------------------------- bad input, before any upload


def _npy(array):
    def make(tmp):
        np.save(tmp / "p.npy", array, allow_pickle=array.dtype == object)
        return tmp / "p.npy"

    return make


def _parquet_reversed(tmp):
    column = pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(10000 * 32, np.float32)), 32)
    pq.write_table(
        pa.table({"index": np.arange(10000)[::-1].copy(), "prediction": column}), tmp / "p.parquet"
    )
    return tmp / "p.parquet"


def _text_file(name, text):
    def make(tmp):
        (tmp / name).write_text(text)
        return tmp / name

    return make


def _parquet_ragged(tmp):
    lengths = [32, 31, 33] + [32] * 9997  # the right total, rows of other lengths
    rows = [[0.0] * n for n in lengths]
    pq.write_table(pa.table({"prediction": pa.array(rows, pa.list_(pa.float32()))}), tmp / "p.parquet")
    return tmp / "p.parquet"


def _parquet_columns_reversed(tmp):
    columns = {f"y{i}": np.zeros(10000, np.float32) for i in range(32)}
    pq.write_table(pa.table({"index": np.arange(10000)[::-1].copy(), **columns}), tmp / "p.parquet")
    return tmp / "p.parquet"


GOOD = _npy(np.zeros((10000, 32), np.float32))


def _file(name, data: bytes):
    def make(tmp):
        (tmp / name).write_bytes(data)
        return tmp / name

    return make


def _csv(rows, header="", encoding="utf-8", sep=","):
    return _file("p.csv", (header + "\n".join(sep.join(map(str, r)) for r in rows)).encode(encoding))


def _npz_as_npy(tmp):
    np.savez(tmp / "p.npz", p=np.zeros((10000, 32), np.float32))
    (tmp / "p.npz").rename(tmp / "p.npy")
    return tmp / "p.npy"


def _parquet_columns(names):
    def make(tmp):
        pq.write_table(pa.table({n: np.zeros(10000, np.float32) for n in names}), tmp / "p.parquet")
        return tmp / "p.parquet"

    return make


_ZEROS = [[0.0] * 32] * 10000
# (case, predictions file, submit() arguments, exception, message fragment)
SUBMIT_BAD_INPUT = [
    ("npz-named-npy", _npz_as_npy, {}, LDMNISTError, "is a .npz archive (numpy.savez), not a .npy array"),
    ("csv-latin-1", _csv(_ZEROS, header="é\n", encoding="latin-1"), {}, LDMNISTError, "is not UTF-8 text"),
    ("csv-semicolons", _csv(_ZEROS, sep=";"), {}, LDMNISTError, "separated by commas"),
    ("csv-nan-first-row", _csv([["NaN"] * 32] + _ZEROS[1:]), {}, LDMNISTError, "NaN or infinite values"),
    (
        "csv-word-in-a-row",
        _csv([["0.0"] * 31 + ["oops"]] * 10000, header="a\n"),
        {},
        LDMNISTError,
        "not a number: 'oops'",
    ),
    (
        "parquet-unnumbered-columns",
        _parquet_columns([f"c{chr(97 + i % 26)}{i // 26}x" for i in range(32)]),
        {},
        LDMNISTError,
        "whose names do not end with the component numbers",
    ),
    (
        "description-with-block-markers",
        GOOD,
        {"description": "mine <!-- ldmnist-results:start --> | x | <!-- ldmnist-results:end -->"},
        LDMNISTError,
        "holds an HTML comment marker",
    ),
    ("too-few-rows", _npy(np.zeros((9999, 32), np.float32)), {}, LDMNISTError, "needs (10000, 32)"),
    ("other-latent-size", _npy(np.zeros((10000, 16), np.float32)), {}, LDMNISTError, "needs (10000, 32)"),
    (
        "ld16-gets-32",
        GOOD,
        {"config": "ld16"},
        LDMNISTError,
        "holds an array of shape (10000, 32); the test split needs (10000, 16)",
    ),
    (
        "one-dimensional",
        _npy(np.zeros(10000, np.float32)),
        {},
        LDMNISTError,
        "shape (10000,); the test split needs",
    ),
    ("nan", _npy(np.full((10000, 32), np.nan, np.float32)), {}, LDMNISTError, "NaN or infinite values"),
    ("inf", _npy(np.full((10000, 32), np.inf, np.float32)), {}, LDMNISTError, "NaN or infinite values"),
    ("complex", _npy(np.zeros((10000, 32), np.complex64)), {}, LDMNISTError, "complex values are refused"),
    ("bool", _npy(np.zeros((10000, 32), bool)), {}, LDMNISTError, "has dtype bool"),
    ("pickled-objects", _npy(np.array([{}, {}], dtype=object)), {}, LDMNISTError, "never unpickled"),
    ("rows-out-of-order", _parquet_reversed, {}, LDMNISTError, "is not 0..9999 in order"),
    ("float-columns-out-of-order", _parquet_columns_reversed, {}, LDMNISTError, "is not 0..9999 in order"),
    ("ragged-list-rows", _parquet_ragged, {}, LDMNISTError, "have different lengths"),
    ("csv-of-words", _text_file("p.csv", "a,b\nc,d\n"), {}, LDMNISTError, "not a number"),
    ("csv-digit-separator", _csv([["1_0"] * 32] * 10000), {}, LDMNISTError, "not a number: '1_0'"),
    ("csv-other-script-digits", _csv([["\u0661"] * 32] * 10000), {}, LDMNISTError, "not a number"),
    ("csv-empty", _text_file("p.csv", "\n"), {}, LDMNISTError, "is empty: it holds no rows"),
    ("csv-header-only", _text_file("p.csv", "y0,y1\n"), {}, LDMNISTError, "holds a header line ('y0,y1')"),
    (
        "csv-numeric-header",
        _csv(_ZEROS, header=",".join(["5"] * 32) + "\n"),
        {},
        LDMNISTError,
        "one row more than the test split: if its first line is a header of numbers",
    ),
    (
        "csv-pandas-index-column",
        _csv(
            [[i] + [0.0] * 32 for i in range(10000)], header="," + ",".join(f"y{i}" for i in range(32)) + "\n"
        ),
        {},
        LDMNISTError,
        "save with `to_csv(index=False)`",
    ),
    ("unknown-suffix", _text_file("p.txt", "0\n"), {}, LDMNISTError, "is not a predictions file"),
    ("missing-file", lambda tmp: tmp / "absent.npy", {}, LDMNISTError, "absent.npy' is not a file"),
    (
        "unknown-config",
        GOOD,
        {"config": "nope"},
        LDMNISTError,
        "has no config 'nope'; its configs: default, ld16",
    ),
    (
        "repo-without-owner",
        GOOD,
        {"repo": "probe"},
        LDMNISTError,
        "`repo` 'probe' is not a Hub repository id",
    ),
    ("repo-three-parts", GOOD, {"repo": "a/b/c"}, LDMNISTError, "is not a Hub repository id"),
    ("repo-with-space", GOOD, {"repo": "alice/my probe"}, LDMNISTError, "is not a Hub repository id"),
    ("dataset-repo-path", GOOD, {"dataset_repo": "../ldmnist"}, LDMNISTError, "`dataset_repo` '../ldmnist'"),
    ("dataset-absent", GOOD, {"dataset_repo": "nobody/ldmnist"}, LDMNISTError, "Could not read the dataset"),
    ("no-token", GOOD, {"token": None}, LDMNISTError, "No Hub token: pass `token`, set HF_TOKEN"),
    ("token-with-newline", GOOD, {"token": "hf_a\nb"}, LDMNISTError, "spaces or control characters"),
    (
        "endpoint-unreachable",
        GOOD,
        {"endpoint": "http://127.0.0.1:9"},
        LDMNISTError,
        "Could not read the dataset",
    ),
    ("token-over-plain-http", GOOD, {"endpoint": "http://hub.example"}, LDMNISTError, "over plain http"),
    ("endpoint-not-http", GOOD, {"endpoint": "ftp://hub.example"}, LDMNISTError, "is not an http(s) URL"),
    (
        "dry-run-token-over-plain-http",  # a dry run reads with the token too
        GOOD,
        {"endpoint": "http://hub.example", "dry_run": True},
        LDMNISTError,
        "over plain http",
    ),
    ("others-absent-repo", GOOD, {"repo": "nobody/probe"}, LDMNISTError, "your token cannot create it"),
]


def _uploads(requests) -> list:
    return [r for r in requests if r.method == "POST" and ("/commit/" in r.path or "/repos/create" in r.path)]


@pytest.mark.parametrize(
    "case, make, kwargs, error, fragment", SUBMIT_BAD_INPUT, ids=[c[0] for c in SUBMIT_BAD_INPUT]
)
def test_submit_refuses_before_uploading(board, tmp_path, monkeypatch, case, make, kwargs, error, fragment):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))  # no `hf auth login` token
    stub = board["stub"]
    args = dict(repo="alice/refused", dataset_repo=DATASET, token=TOKENS["alice"], endpoint=stub.endpoint)
    start = len(stub.log)
    with pytest.raises(error, match=re.escape(fragment)) as raised:
        submit(make(tmp_path), **(args | kwargs))
    assert not _uploads(stub.log[start:])
    assert all(token not in str(raised.value) for token in (*TOKENS.values(), "hf_a\nb"))


# ----------------------------------------------------------------------------- the command line


def test_cli_submit_dry_run_and_leaderboard_json(board, tmp_path, capsys):

    stub = board["stub"]
    path = GOOD(tmp_path)
    start = len(stub.log)
    token = TOKENS["alice"]
    code = main(
        ["submit", "--predictions", str(path), "--repo", "alice/zeros", "--dataset-repo", DATASET]
        + ["--endpoint", stub.endpoint, "--token", token, "--dry-run"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not _uploads(stub.log[start:]) and token not in out + err
    lines = out.splitlines()
    assert (
        lines[0].startswith(f"alice/zeros on {DATASET} (default, revision ") and "MSE 0.878" in lines[0]
    )  # predicting zero
    assert lines[1] == "Would upload to alice/zeros:"
    assert [line.split()[-1] for line in lines[2:]] == [
        predictions_file("default"),
        eval_results_file("default"),
        "README.md",
    ]
    code = main(
        [
            "leaderboard",
            "--dataset-repo",
            DATASET,
            "--endpoint",
            stub.endpoint,
            "--json",
            str(tmp_path / "b.json"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    board_json = json.loads((tmp_path / "b.json").read_text())
    assert out.strip() == leaderboard_markdown(Leaderboard.from_json(board_json)).strip()


def test_cli_never_prints_the_token(board, tmp_path, capsys):

    token = TOKENS["alice"]
    for endpoint in ("http://127.0.0.1:9", board["stub"].endpoint):
        code = main(
            ["submit", "--predictions", str(GOOD(tmp_path)), "--repo", "nobody/x", "--dataset-repo", DATASET]
            + ["--endpoint", endpoint, "--token", token + "\r", "-v"]
        )
        out, err = capsys.readouterr()
        assert code != 0 and "error:" in err and token not in out + err


# ----------------------------------------------------------------------------- README


def test_readme_submission_snippet_runs(board, built, tmp_path, monkeypatch):
    """README's "Submitting a result", after its "Evaluating your model" (whose `model` and `test` it uses)."""

    readme = (ROOT / "README.md").read_text()
    blocks = code_blocks(readme)
    (evaluating,) = [b for b in blocks if "# your model here" in b]
    (snippet,) = [b for b in blocks if 'DATASET = "your-namespace/ldmnist"' in b]
    (tmp_path / "ldmnist").symlink_to(built / "ldmnist")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", board["stub"].endpoint)
    monkeypatch.setenv("HF_TOKEN", TOKENS["you"])
    scope: dict = {}
    exec(compile(evaluating, "README:evaluating", "exec"), scope)
    exec(compile(snippet.replace("your-namespace/ldmnist", DATASET), "README:submitting", "exec"), scope)
    (row,) = [r for r in scope["board"].rows if r.model == "you/my-model"]
    assert row.status is Status.RECOMPUTED and row.rank is not None
    assert (tmp_path / "predictions.npy").is_file()


# ----------------------------------------------------------------------------- more submissions


def test_a_second_submission_keeps_the_first_and_the_card(board, tmp_path, variant16):
    """Results of another config go beside those already in the card; its own text stays."""
    stub = board["stub"]
    api = stub_api(stub.endpoint, token=TOKENS["you"])
    api.create_repo("you/two-configs")
    api.upload_file(
        path_or_fileobj=b"---\nlicense: apache-2.0\n---\n# My model\n\nIt is mine.\n",
        path_in_repo="README.md",
        repo_id="you/two-configs",
    )
    y16 = load_latents(variant16, "test", columns=("y_mean",))[0]
    for config, predictions in (("default", np.zeros((10000, 32), np.float32)), ("ld16", np.array(y16))):
        np.save(tmp_path / f"{config}.npy", predictions)
        submit(
            tmp_path / f"{config}.npy",
            "you/two-configs",
            DATASET,
            config,
            token=TOKENS["you"],
            endpoint=stub.endpoint,
        )
    card = ModelCard(text_of(api.hf_hub_download("you/two-configs", "README.md")))
    assert card.data.license == "apache-2.0" and "It is mine." in card.text
    assert sorted((r.dataset_config, r.metric_type) for r in card.data.eval_results) == [
        ("default", "accuracy"),
        ("default", "mse"),
        ("ld16", "accuracy"),
        ("ld16", "mse"),
    ]
    for config in ("default", "ld16"):
        assert api.file_exists("you/two-configs", predictions_file(config))
        assert api.file_exists("you/two-configs", eval_results_file(config))


def test_a_pull_request_stands_when_its_discussion_cannot_be_opened(board, tmp_path, monkeypatch, caplog):
    """The pull request is open: the result names it and the log says how to point the leaderboard to it."""
    stub = board["stub"]
    stub_api(stub.endpoint, token=TOKENS["henry"]).create_repo("henry/second")

    def refused(*args, **kwargs):
        raise RuntimeError("403 Forbidden: discussions are closed")

    real = HfApi.create_discussion

    def refused_on_the_dataset(self, *args, **kwargs):  # the pull request itself opens
        return real(self, *args, **kwargs) if kwargs.get("pull_request") else refused()

    monkeypatch.setattr(HfApi, "create_discussion", refused_on_the_dataset)
    with caplog.at_level("WARNING", logger="ldmnist_hf.hub.submit"):
        result = submit(
            GOOD(tmp_path), "henry/second", DATASET, token=TOKENS["grace"], endpoint=stub.endpoint
        )
    assert result["pull_request"].endswith("/henry/second/discussions/1")
    assert "open a discussion titled 'LD-MNIST submission: henry/second (default)'" in caplog.text


def test_a_failed_first_upload_leaves_no_repository(board, tmp_path, monkeypatch):
    stub = board["stub"]
    real = HfApi.create_commit

    def fails(self, *args, **kwargs):
        if kwargs.get("create_pr"):
            return real(self, *args, **kwargs)
        raise RuntimeError("500 Internal Server Error")

    monkeypatch.setattr(HfApi, "create_commit", fails)
    with pytest.raises(LDMNISTError, match="Could not upload the submission to you/fails"):
        submit(GOOD(tmp_path), "you/fails", DATASET, token=TOKENS["you"], endpoint=stub.endpoint)
    assert not stub_api(stub.endpoint).repo_exists("you/fails")


def test_predictions_in_every_accepted_layout_score_the_same(board, tmp_path):
    """The same predictions as .npy, as CSV with a BOM or a numeric header (pandas), and as Parquet with one
    column per component written in lexicographic order (y0, y1, y10, ...): one score."""
    stub = board["stub"]
    rng = np.random.default_rng(0)
    preds = rng.standard_normal((10000, 32)).astype(np.float32)
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in preds)
    np.save(tmp_path / "p.npy", preds)
    (tmp_path / "bom.csv").write_bytes(("\ufeff" + text).encode())
    (tmp_path / "header.csv").write_text(",".join(map(str, range(32))) + "\n" + text)
    columns = {f"y{i}": preds[:, i] for i in range(32)}
    pq.write_table(pa.table({k: columns[k] for k in sorted(columns)}), tmp_path / "lex.parquet")
    scores = {
        name: submit(
            tmp_path / name, repo="alice/layouts", dataset_repo=DATASET, endpoint=stub.endpoint, dry_run=True
        )["mse"]
        for name in ("p.npy", "bom.csv", "header.csv", "lex.parquet")
    }
    assert len(set(scores.values())) == 1, scores
