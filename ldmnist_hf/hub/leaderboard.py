"""`ldmnist leaderboard`: every submission to a published LD-MNIST dataset (or a sibling, such as
LD-Fashion-MNIST), recomputed, checked and ranked.

Where rows come from: the model repositories the Hub's model search finds by the `dataset:NS/ldmnist` tag that
`submit` writes (their main branch and their open pull requests), and the open pull requests of repositories
that the dataset's `LD-MNIST submission:` discussions name. A name alone gives no row: only results do. A
candidate that cannot be read is logged, never published.

What is checked, per result (`data.records.Status` holds each status's meaning and rank rule):

- the dataset revision it names must be a commit on the dataset's main branch (one `list_repo_commits` per
  run): only published data scores, never a pull request to the dataset;
- its predictions file, its size checked from the listing before any download, is scored with the metric on
  that revision (cards, results and predictions are read; code never);
- the recomputed scores against the reported ones (`recomputed`, `mismatch`), the revision against the current
  one (`stale`), and whether the predictions use the public test targets (`uses-targets`: an MSE below the
  config's noise floor, or predictions that follow the random noise of `y`; `TestSplit.uses_targets`).

One bad submission never stops the table. Reading needs no token; `push=True` commits the table to the
dataset card's leaderboard block and `leaderboard.json`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from huggingface_hub import HfApi

from ..data.records import LEADERBOARD_FILE, Leaderboard, LeaderboardRow, Status, rank
from ..data.reference_2020 import reference_2020
from ..data.schema import BUILD_RECORD, data_file
from ..errors import LDMNISTError, first_line
from ..files.atomic import atomic_write_text
from ..registry import DEFAULT_CONFIG
from ..rendering import leaderboard_markdown, read_block, with_block
from .auth import check_endpoint, commits_to, resolve_token
from .candidates import Candidate, _candidates, _files, _reported
from .ids import check_repo_id
from .results import METRICS, ld_title, predictions_file
from .scoring import dataset_configs, fetch_test_split, metric_module

logger = logging.getLogger(__name__)

TOLERANCE = 1e-6  # reported and recomputed scores that differ by more are a mismatch


class _Data:
    """The dataset as published: its main branch's commits (read once), and the test split and noise floor of
    each (config, revision), each fetched once; an `LDMNISTError` where that revision cannot be read."""

    def __init__(self, api, dataset, prefixes):
        self.api, self.dataset, self.prefixes, self._cache = api, dataset, prefixes, {}
        commits = api.list_repo_commits(dataset, repo_type="dataset")
        self.commits = {c.commit_id: c.created_at.isoformat() for c in commits}

    def data_id(self, config: str, revision: str):
        """What identifies the config's data at `revision`: its test file's and build record's blob ids. A
        commit that changed only the card (a leaderboard update) leaves it as it was."""
        key = ("id", config, revision)
        if key not in self._cache:
            prefix = self.prefixes[config]
            try:
                infos = self.api.get_paths_info(
                    self.dataset,
                    [f"{prefix}{data_file('test')}", f"{prefix}{BUILD_RECORD}"],
                    repo_type="dataset",
                    revision=revision,
                )
                self._cache[key] = tuple(sorted((i.path, i.blob_id) for i in infos)) or None
            except Exception:  # noqa: BLE001 - a revision that cannot be read
                self._cache[key] = None
        return self._cache[key]

    def get(self, config: str, revision: str):
        key = (config, revision)
        if key not in self._cache:
            try:
                self._cache[key] = fetch_test_split(
                    self.api, self.dataset, config, revision, self.prefixes[config]
                )
            except LDMNISTError as e:
                self._cache[key] = e
        return self._cache[key]


def _predictions_limit(split) -> int:
    """The largest predictions Parquet file the split's shape allows (the metric's own bound)."""
    n, width = split.references.shape
    return 16 * n * width + (1 << 20)


def _scored(row: LeaderboardRow, split, predictions, current: str) -> None:
    """The status of a row whose predictions were scored on `split`."""
    reported_ok = all(getattr(row, f"reported_{m}") is not None for m in METRICS)
    used = split.uses_targets(predictions, row.mse)
    if used:
        row.status, row.reason = Status.USES_TARGETS, used
    elif split.revision != current:
        row.status = Status.STALE
        row.reason = f"scored on dataset revision {split.revision[:12]}, not the current {current[:12]}"
    elif reported_ok and all(
        abs(getattr(row, f"reported_{m}") - getattr(row, m)) <= TOLERANCE for m in METRICS
    ):
        row.status = Status.RECOMPUTED
    else:
        row.status = Status.MISMATCH
        row.reason = (
            "the reported scores are not what its predictions give" if reported_ok else "no scores reported"
        )


def _row(
    api, c: Candidate, config, reported, files, data: _Data, current: str, source: str = "mnist"
) -> tuple[LeaderboardRow, str | None]:
    """One result's row, and its predictions file's blob id (`None` without one)."""
    row = LeaderboardRow(
        model=c.repo,
        config=config,
        status=Status.INVALID,
        source=c.source,
        url=c.url,
        user=c.user,
        reported_mse=reported.get("mse"),
        reported_reconstructed_accuracy=reported.get("reconstructed_accuracy"),
        revision=reported.get("revision"),
    )
    info = files.get(predictions_file(config, source))
    if info is None:
        row.status, row.reason = Status.UNVERIFIABLE, "no predictions file"
        return row, None
    commit = getattr(info, "last_commit", None)
    row.submitted = commit.date.isoformat() if getattr(commit, "date", None) else None
    revision = row.revision if row.revision and re.fullmatch(r"[0-9a-f]{40}", row.revision) else None
    if revision is None:
        row.reason = "its results name no revision of the dataset"
        return row, info.blob_id
    if revision not in data.commits:
        row.reason = (
            f"its results name revision {revision[:12]}, which is not a commit on the dataset's main branch: "
            f"only published data scores"
        )
        return row, info.blob_id
    row.revision_date = data.commits[revision]
    if data.data_id(config, revision) == data.data_id(config, current):
        revision = current  # the same data (later commits changed the card only)
    split = data.get(config, revision)
    if isinstance(split, LDMNISTError):
        row.reason = f"the {config!r} config cannot be read at dataset revision {revision[:12]}"
        return row, info.blob_id
    if info.size > _predictions_limit(split):
        row.reason = (
            f"its predictions file is {info.size:,} bytes, more than a file of {split.references.shape[0]} x "
            f"{split.references.shape[1]} predictions can be; it was not downloaded"
        )
        return row, info.blob_id
    try:
        path = api.hf_hub_download(c.repo, predictions_file(config, source), revision=c.git_rev)
        predictions = metric_module().read_predictions(path, shape=split.references.shape)
        scores = split.score(predictions)
    except (LDMNISTError, ValueError) as e:
        row.reason = str(e).splitlines()[0][:300]
        return row, info.blob_id
    row.mse, row.reconstructed_accuracy = scores["mse"], scores["reconstructed_accuracy"]
    _scored(row, split, predictions, current)
    return row, info.blob_id


def _one_per_model(found: list[tuple[LeaderboardRow, str | None]]) -> list[LeaderboardRow]:
    """One row per model and config: its main branch's, else its oldest open pull request's; and one row per
    predictions file: a copy of another submission's file is `invalid` (the earlier submission keeps it)."""
    kept: dict[tuple, tuple] = {}
    for row, blob in found:
        key = (row.model, row.config)
        order = (row.source != "main", int(row.source.rsplit("#", 1)[1]) if "#" in row.source else 0)
        if key not in kept or order < kept[key][0]:
            kept[key] = (order, row, blob)
    first: dict[tuple, LeaderboardRow] = {}
    for _, row, blob in sorted(kept.values(), key=lambda k: (k[1].submitted or "~", k[1].model)):
        if blob is None:
            continue
        earlier = first.setdefault((row.config, blob), row)
        if earlier is not row:
            row.status, row.mse, row.reconstructed_accuracy = Status.INVALID, None, None
            row.reason = (
                f"a copy of the predictions file of {earlier.model}, submitted earlier: not scored again"
            )
    return [row for _, row, _ in kept.values()]


def _published(config: str, source: str = "mnist") -> list[LeaderboardRow]:
    """The 2020 reference's rows, as published (on its own dataset): shown, never recomputed; LD-MNIST's
    default config only."""
    if config != DEFAULT_CONFIG or source != "mnist":
        return []
    return [
        LeaderboardRow(
            model=r["model"],
            config=config,
            status=Status.PUBLISHED,
            source="published in 2020",
            mse=r["mse"],
            reconstructed_accuracy=r["reconstructed_accuracy"],
            reason="the 2020 dataset, made by other VAEs",
        )
        for r in reference_2020()["published"]["benchmark"]
    ]


def _rows_of(
    api,
    c: Candidate,
    dataset: str,
    prefixes: dict,
    data: _Data,
    config: str | None,
    current: str,
    source: str,
):
    """The rows of one candidate; none (and a log line) when it cannot be read or reports nothing here."""
    try:  # the branch's commit, read once: the listing, the results and the downloads are all of it
        c = c._replace(git_rev=api.model_info(c.repo, revision=c.git_rev, expand=["sha"]).sha)
        files = _files(api, c.repo, c.git_rev, list(prefixes), source)
        reported = _reported(api, c.repo, c.git_rev, dataset, list(prefixes), files, source)
    except Exception as e:  # noqa: BLE001 - one bad submission never stops the table
        logger.warning("%s (%s) cannot be read (%s): it gives no row.", c.repo, c.source, first_line(e)[:200])
        return []
    unknown = sorted(set(reported) - set(prefixes))
    if unknown:
        logger.info("%s reports results for configs %s has not: dropped.", c.repo, dataset)
    return [
        _row(api, c, name, r, files, data, current, source)
        for name, r in sorted(reported.items())
        if name in prefixes and (config is None or name == config)
    ]


def build_leaderboard(
    dataset_repo: str,
    config: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    workers: int = 8,
) -> Leaderboard:
    """The leaderboard of a published dataset (all configs, or one), ranked (`data.records.rank`). The dataset's
    build record names its source dataset, whose family names the submissions' files (`results`)."""
    check_repo_id(dataset_repo, "dataset_repo")
    endpoint = check_endpoint(endpoint, sends_token=bool(token))
    api = HfApi(endpoint=endpoint, token=resolve_token(token) if token else False)
    info, prefixes = dataset_configs(api, dataset_repo, config)
    configs = [config] if config else list(prefixes)
    try:
        data = _Data(api, dataset_repo, prefixes)
    except Exception as e:  # noqa: BLE001
        raise LDMNISTError(f"Could not list the commits of {dataset_repo} ({first_line(e)}).") from e
    floors, sources = {}, set()
    for c in configs:  # the current revision of each config, fetched once before the threads start
        split = data.get(c, info.sha)
        if isinstance(split, LDMNISTError):
            raise split
        floors[c] = split.floor
        sources.add(split.source)
    if len(sources) != 1:
        raise LDMNISTError(
            f"The configs of {dataset_repo} encode different source datasets ({', '.join(sorted(sources))}): "
            f"rank one config at a time (`config`)."
        )
    (source,) = sources
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = pool.map(
            lambda c: _rows_of(api, c, dataset_repo, prefixes, data, config, info.sha, source),
            _candidates(api, dataset_repo),
        )
        rows = _one_per_model([r for rows in found for r in rows])
    rows += [r for c in configs for r in _published(c, source)]
    return Leaderboard(dataset_repo, info.sha, configs, rank(rows, DEFAULT_CONFIG), floors)


def leaderboard(
    dataset_repo: str,
    config: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    push: bool = False,
    json_path: str | os.PathLike | None = None,
) -> Leaderboard:
    """`build_leaderboard`, written to `json_path` and, with `push`, committed to the dataset repository."""
    if push and not resolve_token(token):
        raise LDMNISTError(
            "`push` commits to the dataset repository: it needs a write token (`token`, HF_TOKEN)."
        )
    if json_path:
        _check_json_path(Path(json_path))
    board = build_leaderboard(dataset_repo, config, endpoint, token)
    text = json.dumps(board.to_json(), indent=2, allow_nan=False) + "\n"
    if json_path:
        atomic_write_text(json_path, text)
    if push:
        _push(board, text, endpoint, token)
    return board


def _check_json_path(path: Path) -> None:
    """`json_path` may replace an earlier leaderboard JSON, never another file (a card, a user's notes)."""
    if path.is_dir():
        raise LDMNISTError(
            f"`json_path` {path} is a folder; give a file path, e.g. {path / 'leaderboard.json'}."
        )
    if not path.exists() and not path.is_symlink():
        return
    try:
        earlier = json.loads(path.read_text()) if path.is_file() and not path.is_symlink() else None
    except (OSError, UnicodeDecodeError, ValueError):
        earlier = None
    if not (isinstance(earlier, dict) and {"dataset", "revision", "rows"} <= earlier.keys()):
        raise LDMNISTError(
            f"`json_path` {path} exists and is not a leaderboard JSON this command wrote: it is not replaced. "
            f"Choose another path, or remove that file first."
        )


def _push(board: Leaderboard, text: str, endpoint: str | None, token: str | None) -> None:
    from huggingface_hub import CommitOperationAdd

    endpoint = check_endpoint(endpoint, sends_token=True)
    api = HfApi(endpoint=endpoint, token=resolve_token(token))
    dataset = board.dataset
    try:
        card = Path(
            api.hf_hub_download(dataset, "README.md", repo_type="dataset", revision=board.revision)
        ).read_text()
        record = json.loads(
            Path(
                api.hf_hub_download(dataset, BUILD_RECORD, repo_type="dataset", revision=board.revision)
            ).read_text()
        )
        source = record.get("source", "mnist") if isinstance(record, dict) else "mnist"
        title = ld_title(source if isinstance(source, str) else "mnist")
    except Exception as e:  # noqa: BLE001
        raise LDMNISTError(f"Could not read the card of {dataset} ({first_line(e)}).") from e
    if read_block(card, "leaderboard") is None:
        raise LDMNISTError(
            f"The card of {dataset} has no leaderboard block; export and push it again with ldmnist-hf."
        )
    card = with_block(card, "leaderboard", leaderboard_markdown(board))
    try:
        with commits_to(endpoint):
            api.create_commit(
                dataset,
                repo_type="dataset",
                operations=[
                    CommitOperationAdd("README.md", card.encode()),
                    CommitOperationAdd(LEADERBOARD_FILE, text.encode()),
                ],
                commit_message=f"Update the {title} leaderboard",
                parent_commit=board.revision,  # refused if the dataset changed since it was read
            )
    except Exception as e:  # noqa: BLE001
        if getattr(getattr(e, "response", None), "status_code", None) == 412:
            raise LDMNISTError(
                f"{dataset} changed while the leaderboard was computed; nothing was committed: run "
                f"`ldmnist leaderboard --push` again."
            ) from e
        raise LDMNISTError(f"Could not commit the leaderboard to {dataset} ({first_line(e)}).") from e
