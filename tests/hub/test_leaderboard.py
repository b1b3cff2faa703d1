"""The living benchmark on the Hub stand-in: `ldmnist submit` from several accounts, `ldmnist leaderboard`.

The session's export (the benchmarked default config, its four baselines as model repos, and a 16-d variant as
config `ld16`) is pushed by the publisher; then accounts that may write only their own namespace submit, as
they would on the Hub: an honest one, one that reports a better score than its predictions give, one on an older
revision of the data, one whose predictions file is broken, one with results but no predictions, one on the
16-d config, one through a pull request to another account's repo. The leaderboard must rank and label them
exactly, recompute every score, read no code, and need no token to read.
"""

import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import NS
from helpers import ROOT
from hub_stub import FAKE_TOKEN, HubStub, stub_api
from huggingface_hub import CommitOperationAdd, EvalResult, HfApi, ModelCard, ModelCardData

from ldmnist_hf import load_metric
from ldmnist_hf.analysis.benchmark import linear_regression
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.data.records import Leaderboard, Status
from ldmnist_hf.data.schema import BUILD_RECORD, data_file
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.leaderboard import build_leaderboard, leaderboard
from ldmnist_hf.hub.push import push
from ldmnist_hf.hub.submit import eval_results_file, predictions_are_intended, predictions_file, submit
from ldmnist_hf.registry import BASELINES
from ldmnist_hf.rendering import leaderboard_markdown, read_block, with_block

DATASET = f"{NS}/ldmnist"
ACCOUNTS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "henry", "ivan", "you")
TOKENS = {name: f"hf_{name}_0123456789" for name in ACCOUNTS}


def _scores(predictions, y, labels, class_vae) -> dict:
    """What the package's evaluate metric gives: the leaderboard must agree with it."""
    out = load_metric(str(class_vae)).compute(predictions=predictions, references=y, labels=labels)
    return {"mse": out["mse"], "reconstructed_accuracy": out["reconstructed_accuracy"]}


def _text(path) -> str:
    with open(path) as f:
        return f.read()


def _edit_eval_results(api: HfApi, repo: str, config: str, **changes) -> None:
    """Rewrites a submission's `.eval_results` rows, as a submitter can in their own repo."""
    rows = yaml.safe_load(_text(api.hf_hub_download(repo, eval_results_file(config))))
    for row in rows:
        metric = row["dataset"]["task_id"].split("-", 1)[1]
        if metric in changes.get("value", {}):
            row["value"] = changes["value"][metric]
        if "revision" in changes:
            row["dataset"]["revision"] = changes["revision"]
    api.upload_file(
        path_or_fileobj=yaml.safe_dump(rows).encode(), path_in_repo=eval_results_file(config), repo_id=repo
    )


def _change_ld16_test_data(api: HfApi, export_dir) -> np.ndarray:
    """The publisher replaces the ld16 config's test targets (a new build of that config): returns the new y."""
    folder = export_dir / "datasets" / "ldmnist" / "ld16"
    table = pq.read_table(folder / data_file("test"))
    y = table.column("y").combine_chunks().flatten().to_numpy().reshape(table.num_rows, -1).copy()
    y[:1000] *= -1.0
    column = pa.FixedSizeListArray.from_arrays(pa.array(y.reshape(-1)), y.shape[1])
    buf = io.BytesIO()
    pq.write_table(table.set_column(table.schema.get_field_index("y"), "y", column), buf, compression="zstd")
    record = json.loads((folder / BUILD_RECORD).read_text())
    record["files"][data_file("test")] = {
        "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "size": len(buf.getvalue()),
    }
    api.create_commit(
        DATASET,
        repo_type="dataset",
        operations=[
            CommitOperationAdd(f"ld16/{data_file('test')}", buf.getvalue()),
            CommitOperationAdd(f"ld16/{BUILD_RECORD}", json.dumps(record).encode()),
        ],
        commit_message="Rebuild ld16",
    )
    return y


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
        card = ModelCard.from_template(  # erin reports results by hand, without predictions
            ModelCardData(
                model_name="probe",
                datasets=[DATASET],
                eval_results=[
                    EvalResult(
                        task_type="tabular-regression",
                        dataset_type=DATASET,
                        dataset_name="LD-MNIST",
                        dataset_revision=current,
                        metric_type=metric,
                        metric_value=value,
                    )
                    for metric, value in (("mse", 0.6), ("reconstructed_accuracy", 0.97))
                ],
            )
        )
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


def _table(result) -> list[tuple]:
    return [(r.config, r.rank, r.model, r.status.value, r.source) for r in result.rows]


def test_every_submission_is_ranked_and_labelled(board):
    stub = board["stub"]
    start = len(stub.log)
    result = build_leaderboard(DATASET, endpoint=stub.endpoint)  # no token: reading is public
    assert result.revision == board["current"]
    expected = board["expected"]
    ranked = sorted(
        [
            *(
                (expected[f"baseline-{k}"]["mse"], f"{NS}/ldmnist-baseline-{k}", "recomputed", "main")
                for k in BASELINES
            ),
            (expected["alice"]["mse"], "alice/probe", "recomputed", "main"),
            (expected["bob"]["mse"], "bob/probe", "mismatch", "main"),
            (expected["grace"]["mse"], "henry/probe", "recomputed", "pull request #1"),
        ]
    )
    assert _table(result) == [
        *(("default", i, model, status, source) for i, (_, model, status, source) in enumerate(ranked, 1)),
        *(("default", None, r["model"], "published", "published in 2020") for r in _published()),
        ("default", None, "erin/probe", "unverifiable", "main"),
        ("default", None, "dave/probe", "invalid", "main"),
        ("default", None, "ivan/probe", "invalid", "main"),  # names a revision that is not on main
        ("ld16", 1, "frank/probe", "recomputed", "main"),
        ("ld16", None, "carol/probe", "stale", "main"),  # scored on the data it was made for, not ranked
    ]
    rows = {(r.model, r.config): r for r in result.rows}
    for (model, _config), row in rows.items():
        who = model.split("/")[0] if not model.startswith(NS) else model.split("/")[1][len("ldmnist-") :]
        if who in expected:
            for metric, value in expected[who].items():
                assert getattr(row, metric) == pytest.approx(value, abs=1e-6), (model, metric)
    assert rows[("bob/probe", "default")].reported_mse == 0.5  # both shown
    assert rows[("bob/probe", "default")].mse > 0.5
    carol = rows[("carol/probe", "ld16")]
    assert carol.revision == board["old_revision"] and carol.revision_date
    assert "scored on dataset revision" in carol.reason
    assert "cannot be read as a .parquet file" in rows[("dave/probe", "default")].reason
    assert rows[("erin/probe", "default")].reported_mse == 0.6
    assert (
        "f" * 12 + ", which is not a commit on the dataset's main branch"
        in rows[("ivan/probe", "default")].reason
    )
    henry = rows[("henry/probe", "default")]  # a pull request: its author credited, its link to the PR
    assert henry.user == "grace" and henry.url == f"{board['stub'].endpoint}/henry/probe/discussions/1"
    requests = stub.log[start:]
    assert not any(r.authorized for r in requests)
    assert not any(r.path.split("?")[0].endswith(".py") for r in requests)  # it never reads code


def _published():
    from ldmnist_hf.data.reference_2020 import reference_2020

    return sorted(reference_2020()["published"]["benchmark"], key=lambda r: (r["mse"], r["model"]))


def test_submit_writes_the_hubs_formats(board):
    stub = board["stub"]
    api = stub_api(stub.endpoint)
    result = board["results"]["alice"]
    assert result["pull_request"] is None and result["revision"] == board["old_revision"]
    card = ModelCard(_text(api.hf_hub_download("alice/probe", "README.md")))
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
    rows = yaml.safe_load(_text(api.hf_hub_download("alice/probe", eval_results_file("default"))))
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
    assert _text(api.hf_hub_download("henry/probe", "README.md")) == "# henry's probe\n"  # main untouched
    assert api.file_exists("henry/probe", predictions_file("default"), revision="refs/pr/1")
    titles = [d.title for d in api.get_repo_discussions(DATASET, repo_type="dataset")]
    assert "LD-MNIST submission: henry/probe (default)" in titles


def test_leaderboard_push_fills_the_card_block_and_leaderboard_json(board, tmp_path):
    stub = board["stub"]
    result = leaderboard(
        DATASET, endpoint=stub.endpoint, token=FAKE_TOKEN, push=True, json_path=tmp_path / "board.json"
    )
    assert json.loads((tmp_path / "board.json").read_text()) == json.loads(json.dumps(result.to_json()))
    api = stub_api(stub.endpoint)
    card = _text(api.hf_hub_download(DATASET, "README.md", repo_type="dataset"))
    block = read_block(card, "leaderboard")
    assert block.strip() == leaderboard_markdown(result).strip()
    bob = next(line for line in block.splitlines() if "[bob/probe]" in line)
    assert "| mismatch | reports 0.5000 / 0.9900;" in bob
    pushed = json.loads(_text(api.hf_hub_download(DATASET, "leaderboard.json", repo_type="dataset")))
    assert pushed == result.to_json()
    assert pushed["schema_version"] == 2 and set(pushed["statuses"]) == {s.value for s in Status}
    # The commit changed the card only: every status holds on the new revision.
    again = build_leaderboard(DATASET, endpoint=stub.endpoint)
    assert again.revision != result.revision and _table(again) == _table(result)


def test_the_exported_card_shows_a_leaderboard(board, benchmarked, variant16, tmp_path):
    """`export --leaderboard FILE` puts a leaderboard into the card it writes, so a new push keeps it."""
    from ldmnist_hf.hub.export import export

    result = build_leaderboard(DATASET, endpoint=board["stub"].endpoint)
    path = tmp_path / "board.json"
    path.write_text(json.dumps(result.to_json()))
    out = tmp_path / "hub"
    export(NS, out, dataset=benchmarked, variants={"ld16": variant16}, leaderboard=path)
    card = (out / "datasets" / "ldmnist" / "README.md").read_text()
    assert read_block(card, "leaderboard").strip() == leaderboard_markdown(result).strip()
    assert json.loads((out / "datasets" / "ldmnist" / "leaderboard.json").read_text()) == result.to_json()


# A leaderboard file edited by hand: `export --leaderboard` renders its rows into the dataset card.
EDITED_LEADERBOARD = [
    ("mse-as-text", {"mse": "NaN"}, "has mse = 'NaN', not a finite number"),
    ("mse-infinite", {"mse": float("inf")}, "has mse = 'inf', not a finite number"),
    ("accuracy-bool", {"reconstructed_accuracy": True}, "has reconstructed_accuracy = 'True'"),
    ("model-with-a-link", {"model": "evil/x](javascript:alert(1))"}, "which is not a Hub repository id"),
    ("model-missing", {"model": None}, "names no model"),
    ("status-unknown", {"status": "best"}, "has the status 'best', not one of recomputed"),
    ("status-of-version-1", {"status": "verified"}, "has the status 'verified', not one of recomputed"),
    ("rank-zero", {"rank": 0}, "has the rank '0', not a positive integer"),
    ("reason-not-text", {"reason": ["x"]}, "has a reason that is not a short text"),
    ("field-unknown", {"verified_by": "me"}, "has fields the schema does not have (verified_by)"),
]


@pytest.mark.parametrize("case, edit, fragment", EDITED_LEADERBOARD, ids=[c[0] for c in EDITED_LEADERBOARD])
def test_an_edited_leaderboard_file_is_refused(board, tmp_path, case, edit, fragment):
    from ldmnist_hf.hub.dataset_repo import _read_leaderboard

    result = build_leaderboard(DATASET, endpoint=board["stub"].endpoint)
    configs = sorted({r.config for r in result.rows})
    path = tmp_path / "board.json"
    data = result.to_json()
    path.write_text(json.dumps(data))
    assert _read_leaderboard(path, DATASET, configs).to_json() == data  # as written: accepted
    row = next(r for r in data["rows"] if r["status"] == "recomputed")
    row.update(edit)
    path.write_text(json.dumps(data))
    with pytest.raises(LDMNISTError, match=re.escape(fragment)):
        _read_leaderboard(path, DATASET, configs)


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


LEADERBOARD_BAD_INPUT = [
    ("unknown-config", {"config": "nope"}, "has no config 'nope'"),
    ("dataset-absent", {"dataset_repo": "nobody/ldmnist"}, "Could not read the dataset nobody/ldmnist"),
    ("dataset-not-an-id", {"dataset_repo": "ldmnist"}, "is not a Hub repository id"),
    ("push-without-token", {"push": True, "token": None}, "it needs a write token"),
    (
        "push-without-write-access",
        {"push": True, "token": TOKENS["grace"]},
        "Could not commit the leaderboard",
    ),
    ("endpoint-unreachable", {"endpoint": "http://127.0.0.1:9"}, "Could not read the dataset"),
    # `json_path` names a file in tmp_path that the test writes first; it must come out unchanged.
    ("json-over-a-users-file", {"json_path": "thesis.txt"}, "thesis.txt exists and is not a leaderboard"),
    ("json-over-a-dataset-card", {"json_path": "README.md"}, "README.md exists and is not a leaderboard"),
    ("json-over-other-json", {"json_path": "config.json"}, "config.json exists and is not a leaderboard"),
    ("json-is-a-folder", {"json_path": "folder"}, "folder is a folder; give a file path"),
]


@pytest.mark.parametrize(
    "case, kwargs, fragment", LEADERBOARD_BAD_INPUT, ids=[c[0] for c in LEADERBOARD_BAD_INPUT]
)
def test_leaderboard_bad_input(board, tmp_path, monkeypatch, case, kwargs, fragment):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    stub = board["stub"]
    before = stub_api(stub.endpoint).dataset_info(DATASET).sha
    (tmp_path / "thesis.txt").write_text("years of work")
    (tmp_path / "README.md").write_text("---\nconfigs: []\n---\n# my dataset\n")
    (tmp_path / "config.json").write_text('{"latent_dim": 32}')
    (tmp_path / "folder").mkdir()
    files = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    if "json_path" in kwargs:
        kwargs = kwargs | {"json_path": tmp_path / kwargs["json_path"]}
    with pytest.raises(LDMNISTError, match=re.escape(fragment)) as raised:
        leaderboard(**({"dataset_repo": DATASET, "endpoint": stub.endpoint} | kwargs))
    assert stub_api(stub.endpoint).dataset_info(DATASET).sha == before  # nothing committed
    assert {p: p.read_bytes() for p in files} == files and not list((tmp_path / "folder").iterdir())
    assert TOKENS["grace"] not in str(raised.value)


def test_leaderboard_push_refuses_when_the_dataset_moved(board, monkeypatch):
    """A commit to the dataset between reading and pushing: the table is not committed over it."""
    import ldmnist_hf.hub.leaderboard as module

    stub, real = board["stub"], module.build_leaderboard

    def then_someone_commits(*args, **kwargs):
        result = real(*args, **kwargs)
        stub_api(stub.endpoint, token=FAKE_TOKEN).upload_file(
            path_or_fileobj=b"notes", path_in_repo="NOTES.txt", repo_id=DATASET, repo_type="dataset"
        )
        return result

    monkeypatch.setattr(module, "build_leaderboard", then_someone_commits)
    with pytest.raises(
        LDMNISTError, match="changed while the leaderboard was computed; nothing was committed"
    ):
        module.leaderboard(DATASET, endpoint=stub.endpoint, token=FAKE_TOKEN, push=True)
    api = stub_api(stub.endpoint)
    assert api.list_repo_commits(DATASET, repo_type="dataset")[0].title != "Update the LD-MNIST leaderboard"


# ----------------------------------------------------------------------------- the command line


def test_cli_submit_dry_run_and_leaderboard_json(board, tmp_path, capsys):
    from ldmnist_hf.cli import main

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
    from ldmnist_hf.cli import main

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
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
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
    card = ModelCard(_text(api.hf_hub_download("you/two-configs", "README.md")))
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


# ----------------------------------------------------------------------------- hostile submissions


def _plant(api: HfApi, repo: str, files: dict[str, bytes]) -> None:
    """A repository holding what its owner chose, bypassing `submit`'s checks."""
    api.create_repo(repo)
    with predictions_are_intended():
        api.create_commit(
            repo, operations=[CommitOperationAdd(p, b) for p, b in files.items()], commit_message="planted"
        )


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _results_yaml(mse, accuracy, revision) -> str:
    return "".join(
        f"- dataset: {{id: {DATASET}, task_id: default-{m}, revision: {revision}}}\n  value: {v}\n"
        for m, v in (("mse", mse), ("reconstructed_accuracy", accuracy))
    )


CARD = f"---\ndatasets: [{DATASET}]\n---\n# planted\n".encode()
EVIL = "p | <!-- leaderboard:end --> ![x](https://evil.example/t.png) <b>hi</b>"


def _predictions_parquet(values: np.ndarray) -> bytes:
    flat = pa.array(np.asarray(values, np.float32).reshape(-1))
    return _parquet_bytes(pa.table({"prediction": pa.FixedSizeListArray.from_arrays(flat, values.shape[1])}))


def _forge_dataset_pull_request(api: HfApi, export_dir, predictions: np.ndarray) -> str:
    """Anyone may open a pull request on a public dataset: this one replaces the default config's test `y` by
    the attacker's predictions, with its build record re-signed. Returns the pull request's commit."""
    folder = export_dir / "datasets" / "ldmnist"
    table = pq.read_table(folder / data_file("test"))
    column = pa.FixedSizeListArray.from_arrays(pa.array(predictions.astype(np.float32).reshape(-1)), 32)
    buf = io.BytesIO()
    pq.write_table(table.set_column(table.schema.get_field_index("y"), "y", column), buf, compression="zstd")
    record = json.loads((folder / BUILD_RECORD).read_text())
    record["files"][data_file("test")] = {
        "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "size": len(buf.getvalue()),
    }
    info = api.create_commit(
        DATASET,
        repo_type="dataset",
        operations=[
            CommitOperationAdd(data_file("test"), buf.getvalue()),
            CommitOperationAdd(BUILD_RECORD, json.dumps(record).encode()),
        ],
        commit_message="Fix the test split",
        create_pr=True,
    )
    return api.list_repo_commits(DATASET, repo_type="dataset", revision=f"refs/pr/{info.pr_num}")[0].commit_id


def test_the_hostile_submitters_attacks_change_no_rank(board, exported, benchmarked, caplog):
    """Each attack on the benchmark gets the status that says what was checked; no ranked row moves."""
    stub = board["stub"]
    api = stub_api(stub.endpoint, token=TOKENS["you"])
    public = stub_api(stub.endpoint)
    x_tr, y_tr = load_latents(benchmarked, "train")
    x, y, y_mean = load_latents(benchmarked, "test", columns=("x", "y", "y_mean"))
    before = build_leaderboard(DATASET, endpoint=stub.endpoint)
    current = before.revision
    honest = linear_regression(x_tr, y_tr)(x)

    # 1. A dataset revision of her own: the test targets replaced by her predictions (MSE 0 there).
    forged = _forge_dataset_pull_request(api, exported[0], honest)
    assert public.dataset_info(DATASET).sha == current  # main is untouched
    _plant(
        api,
        "you/forged-revision",
        {
            "README.md": CARD,
            eval_results_file("default"): _results_yaml(0.0, 1.0, forged).encode(),
            predictions_file("default"): _predictions_parquet(honest),
        },
    )
    # 2. The public targets themselves, and 3. the posterior means (a perfect classifier: not flagged).
    for repo, values in (("you/copied-targets", y), ("you/posterior-means", y_mean)):
        _plant(
            api,
            repo,
            {
                "README.md": CARD,
                eval_results_file("default"): _results_yaml(0.0, 1.0, current).encode(),
                predictions_file("default"): _predictions_parquet(np.asarray(values)),
            },
        )
    # 4. A discussion naming a repository that does not exist, and one naming a repository with no results.
    for named in ("ghost/nothing", "you/no-results"):
        api.create_discussion(DATASET, f"LD-MNIST submission: {named} (default)", repo_type="dataset")
    api.create_repo("you/no-results")
    # 5. A predictions file larger than any of the test split's shape can be.
    limit = 16 * 10000 * 32 + (1 << 20)
    _plant(
        api,
        "you/huge",
        {
            "README.md": CARD,
            eval_results_file("default"): _results_yaml(0.8, 0.9, current).encode(),
            predictions_file("default"): b"PAR1" + b"\0" * (limit + 1),
        },
    )
    # 6. Results for a config the dataset does not have.
    card = ModelCard.from_template(
        ModelCardData(
            model_name="x",
            datasets=[DATASET],
            eval_results=[
                EvalResult(
                    task_type="tabular-regression",
                    dataset_type=DATASET,
                    dataset_name="LD-MNIST",
                    dataset_config="nope",
                    dataset_revision=current,
                    metric_type="mse",
                    metric_value=0.1,
                )
            ],
        )
    )
    _plant(api, "you/unknown-config", {"README.md": str(card).encode()})

    start = len(stub.log)
    with caplog.at_level("INFO", logger="ldmnist_hf.hub"):
        after = build_leaderboard(DATASET, endpoint=stub.endpoint)
    rows = {r.model: r for r in after.rows if r.config == "default"}

    assert rows["you/forged-revision"].status is Status.INVALID and rows["you/forged-revision"].mse is None
    assert (
        f"{forged[:12]}, which is not a commit on the dataset's main branch"
        in rows["you/forged-revision"].reason
    )
    copied = rows["you/copied-targets"]
    assert (copied.status, copied.rank, copied.mse) == (Status.BELOW_FLOOR, None, 0.0)
    assert "below the noise floor" in copied.reason
    assert rows["you/posterior-means"].status is Status.RECOMPUTED or rows["you/posterior-means"].rank
    floor = after.floors["default"]
    assert rows["you/posterior-means"].mse > floor.threshold > 0.75  # the best honest model stays ranked
    assert "ghost/nothing" not in rows and "you/no-results" not in rows  # a name alone gives no row
    assert "ghost/nothing cannot be read" in caplog.text
    huge = rows["you/huge"]
    assert huge.status is Status.INVALID and "it was not downloaded" in huge.reason
    downloads = [r.path for r in stub.log[start:] if "you/huge/resolve" in r.path]
    assert not [p for p in downloads if p.endswith(predictions_file("default"))]  # refused from the listing
    assert (
        "you/unknown-config" not in rows and "you/unknown-config reports results for configs" in caplog.text
    )
    # every row ranked before keeps its rank among the ranked rows; the attacks add none above them
    ranked = [(r.model, r.rank) for r in after.rows if r.rank and r.config == "default"]
    assert [m for m, _ in ranked if m in {r.model for r in before.rows}] == [
        r.model for r in before.rows if r.rank and r.config == "default"
    ]
    assert [m for m, _ in ranked if m not in {r.model for r in before.rows}] == ["you/posterior-means"]
    block = leaderboard_markdown(after)
    assert "`below-floor`: MSE below the noise floor" in block and "The test targets are public" in block


def test_a_pull_request_submission_credits_its_author_and_links_where_its_files_are(board):
    stub = board["stub"]
    api = stub_api(stub.endpoint)
    (pr,) = [d for d in api.get_repo_discussions("henry/probe") if d.is_pull_request]
    details = api.get_discussion_details("henry/probe", pr.num)
    assert details.author == "grace"
    text = details.events[0].content
    assert board["results"]["grace"]["revision"] in text and f"{board['results']['grace']['mse']:.6f}" in text
    rows = yaml.safe_load(
        _text(api.hf_hub_download("henry/probe", eval_results_file("default"), revision="refs/pr/1"))
    )
    assert all(r["source"]["user"] == "grace" for r in rows)
    url = rows[0]["source"]["url"]
    assert "/blob/refs%2Fpr%2F1/" in url  # not blob/main, where the file is only once the PR is merged
    revision, path = url.split("/blob/", 1)[1].split("/", 1)
    assert api.file_exists("henry/probe", path, revision=revision.replace("%2F", "/"))


def test_hostile_submissions_never_stop_or_break_the_table(board, tmp_path):
    """Odd YAML values, a YAML alias bomb, a Parquet file that decodes to a million rows, Markdown in an error
    text, a copy of another submission's file, a no-op pull request: each gets a row (or none), never a crash."""
    stub = board["stub"]
    revision = stub_api(stub.endpoint).dataset_info(DATASET).sha
    api = stub_api(stub.endpoint, token=TOKENS["ivan"])

    def predictions(k: float) -> bytes:
        values = pa.array(np.full(10000 * 32, k, np.float32))
        return _parquet_bytes(pa.table({"prediction": pa.FixedSizeListArray.from_arrays(values, 32)}))

    # a YAML alias tree: 10**8 leaves in 500 bytes, which the leaderboard must never expand
    anchors = ", ".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]" for p, c in zip("abcdefg", "bcdefgh"))
    bomb = f"- {{a: &a [x, x, x, x, x, x, x, x, x, x], {anchors}}}\n"
    planted = {
        "ivan/nan": (_results_yaml(".nan", 0.5, revision), predictions(0.01)),
        "ivan/bool": (_results_yaml(0.8, "true", revision), predictions(0.02)),
        "ivan/huge-int": (_results_yaml("9" * 400, 0.5, revision), predictions(0.03)),
        "ivan/dates": (_results_yaml("2020-01-01", 0.5, "2020-01-01"), predictions(0.04)),
        "ivan/bomb": (bomb + _results_yaml("*h", 0.5, revision), predictions(0.05)),
        "ivan/million-rows": (
            _results_yaml(0.9, 0.5, revision),
            _parquet_bytes(
                pa.table(
                    {
                        "prediction": pa.FixedSizeListArray.from_arrays(
                            pa.array(np.zeros(32 * 10**6, np.float32)), 32
                        )
                    }
                )
            ),
        ),
        "ivan/markdown": (
            _results_yaml(0.9, 0.5, revision),
            _parquet_bytes(pa.table({EVIL: pa.array([[0.0] * 32] * 9999 + [None], pa.list_(pa.float32()))})),
        ),
    }
    alice = stub_api(stub.endpoint).hf_hub_download("alice/probe", predictions_file("default"))
    planted["ivan/copy"] = (_results_yaml(0.9, 0.5, revision), Path(alice).read_bytes())
    for repo, (results, data) in planted.items():
        _plant(
            api,
            repo,
            {
                "README.md": CARD,
                eval_results_file("default"): results.encode(),
                predictions_file("default"): data,
            },
        )
    _plant(
        api,
        "ivan/odd-card",
        {
            "README.md": CARD.replace(
                b"---\n#",
                b"model-index: [{results: [{dataset: {type: "
                + DATASET.encode()
                + b", config: 5}, metrics: [{type: mse, value: 1}], task: {type: x}}]}]\n---\n#",
            )
        },
    )
    with predictions_are_intended():  # a no-op pull request on a ranked repository
        stub_api(stub.endpoint, token=TOKENS["grace"]).upload_file(
            path_or_fileobj=b"hello", path_in_repo="x.txt", repo_id="alice/probe", create_pr=True
        )

    result = build_leaderboard(DATASET, endpoint=stub.endpoint)
    json.dumps(result.to_json(), allow_nan=False)  # the table is JSON
    rows = {r.model: r for r in result.rows if r.config == "default"}
    for repo in ("ivan/nan", "ivan/bool", "ivan/huge-int", "ivan/bomb"):
        assert (rows[repo].status, rows[repo].reason) == (Status.MISMATCH, "no scores reported"), repo
    assert rows["ivan/dates"].status is Status.INVALID and "name no revision" in rows["ivan/dates"].reason
    assert rows["ivan/million-rows"].status is Status.INVALID
    assert "holds 1000000 rows" in rows["ivan/million-rows"].reason
    assert rows["ivan/markdown"].status is Status.INVALID and "missing values" in rows["ivan/markdown"].reason
    assert rows["ivan/copy"].status is Status.INVALID
    assert rows["ivan/copy"].reason == (
        "a copy of the predictions file of alice/probe, submitted earlier: not scored again"
    )
    assert "ivan/odd-card" not in rows  # no result it can read: no row
    assert [r.source for r in result.rows if r.model == "alice/probe"] == ["main"]

    block = leaderboard_markdown(result)
    line = next(line for line in block.splitlines() if "ivan/markdown" in line)
    assert line.replace("\\|", "").count("|") == 7  # the row's own columns only
    assert "<" not in line and "![x](" not in line  # no HTML, no image: the text as text
    card = _text(stub_api(stub.endpoint).hf_hub_download(DATASET, "README.md", repo_type="dataset"))
    assert read_block(with_block(card, "leaderboard", block), "leaderboard") == block


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


@pytest.mark.parametrize("kind", ["large_list", "list", "fixed_size_list"])
def test_every_list_kind_of_parquet_reads(tmp_path, kind):
    from ldmnist_hf.hub.scoring import metric_module

    values = np.arange(10 * 4, dtype=np.float32).reshape(10, 4)
    types = {"large_list": pa.large_list(pa.float32()), "list": pa.list_(pa.float32())}
    column = (
        pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), 4)
        if kind == "fixed_size_list"
        else pa.array(values.tolist(), types[kind])
    )
    pq.write_table(pa.table({"prediction": column}), tmp_path / "p.parquet")
    read = metric_module().read_predictions(tmp_path / "p.parquet", shape=(10, 4))
    np.testing.assert_array_equal(read, values)


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
