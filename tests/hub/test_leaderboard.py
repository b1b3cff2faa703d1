"""`ldmnist leaderboard` (hub/leaderboard.py) on the living benchmark (conftest.py's `board`): every submission
ranked and labelled, the card's block, hostile submissions."""

import io
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import NS
from helpers import resigned_test_split
from hub_stub import FAKE_TOKEN, stub_api
from huggingface_hub import CommitOperationAdd, HfApi

from ldmnist_hf.analysis.benchmark import linear_regression
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.data.records import Status
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.leaderboard import build_leaderboard, leaderboard
from ldmnist_hf.hub.results import eval_results_file, predictions_are_intended, predictions_file
from ldmnist_hf.registry import BASELINES
from ldmnist_hf.rendering import leaderboard_markdown, read_block, with_block

from .conftest import DATASET, TOKENS, results_card, text_of


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


def test_leaderboard_push_fills_the_card_block_and_leaderboard_json(board, tmp_path):
    stub = board["stub"]
    result = leaderboard(
        DATASET, endpoint=stub.endpoint, token=FAKE_TOKEN, push=True, json_path=tmp_path / "board.json"
    )
    assert json.loads((tmp_path / "board.json").read_text()) == json.loads(json.dumps(result.to_json()))
    api = stub_api(stub.endpoint)
    card = text_of(api.hf_hub_download(DATASET, "README.md", repo_type="dataset"))
    block = read_block(card, "leaderboard")
    assert block.strip() == leaderboard_markdown(result).strip()
    bob = next(line for line in block.splitlines() if "[bob/probe]" in line)
    assert "| mismatch | reports 0.5000 / 0.9900;" in bob
    pushed = json.loads(text_of(api.hf_hub_download(DATASET, "leaderboard.json", repo_type="dataset")))
    assert pushed == result.to_json()
    assert pushed["schema_version"] == 2 and set(pushed["statuses"]) == {s.value for s in Status}
    # The commit changed the card only: every status holds on the new revision.
    again = build_leaderboard(DATASET, endpoint=stub.endpoint)
    assert again.revision != result.revision and _table(again) == _table(result)


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
    files = resigned_test_split(export_dir / "datasets" / "ldmnist", lambda y: predictions.astype(np.float32))
    info = api.create_commit(
        DATASET,
        repo_type="dataset",
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
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
    x, y, y_mean, y_std = load_latents(benchmarked, "test", columns=("x", "y", "y_mean", "y_std"))
    y, y_mean, y_std = (np.asarray(a, np.float64) for a in (y, y_mean, y_std))
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
    # 2. The public targets themselves; a blend of the posterior means with 0.46 % of the targets, and the
    # targets plus fresh noise (both just above the floor's threshold); 3. the posterior means (a perfect
    # classifier: not flagged).
    noise = np.random.default_rng(0).standard_normal(y.shape)
    for repo, values in (
        ("you/copied-targets", y),
        ("you/blend", y_mean + 0.0046 * (y - y_mean)),
        ("you/targets-plus-noise", y + 0.9965 * y_std * noise),
        ("you/posterior-means", y_mean),
    ):
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
    card = results_card(current, {"mse": 0.1}, config="nope")
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
    assert (copied.status, copied.rank, copied.mse) == (Status.USES_TARGETS, None, 0.0)
    assert "below the noise floor" in copied.reason
    for repo in ("you/blend", "you/targets-plus-noise"):  # above the floor's threshold, but not chance
        assert rows[repo].mse > after.floors["default"].threshold, repo
        assert (rows[repo].status, rows[repo].rank) == (Status.USES_TARGETS, None), repo
        assert "follow the random noise of the test targets by" in rows[repo].reason, rows[repo].reason
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
    assert "`uses-targets`: its predictions use the public test targets" in block
    assert "The test targets are public" in block


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
    # a card whose model-index is an alias tree: 7 levels of 10 aliases, 10**7 results once expanded
    levels = ", ".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]" for p, c in zip("abcdefg", "bcdefgh"))
    result = f"{{dataset: {{type: {DATASET}}}, metrics: [{{type: mse, value: 0.1}}], task: {{type: x}}}}"
    bomb_card = (
        f"---\nanchors: {{a: &a [{', '.join([result] * 10)}], {levels}}}\n"
        f"datasets: [{DATASET}]\nmodel-index: [{{name: x, results: *h}}]\n---\n# bomb\n"
    )
    _plant(api, "ivan/card-bomb", {"README.md": bomb_card.encode()})
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
    assert "ivan/card-bomb" not in rows  # its aliases are never expanded: no row, and no 10**7 results
    assert [r.source for r in result.rows if r.model == "alice/probe"] == ["main"]

    block = leaderboard_markdown(result)
    line = next(line for line in block.splitlines() if "ivan/markdown" in line)
    assert line.replace("\\|", "").count("|") == 7  # the row's own columns only
    assert "<" not in line and "![x](" not in line  # no HTML, no image: the text as text
    card = text_of(stub_api(stub.endpoint).hf_hub_download(DATASET, "README.md", repo_type="dataset"))
    assert read_block(with_block(card, "leaderboard", block), "leaderboard") == block
