"""`ldmnist leaderboard`: every submission to a published LD-MNIST dataset, recomputed, verified and ranked.

It finds the model repositories that report results on the dataset (the Hub's model search by the
`dataset:NS/ldmnist` tag that `submit` writes into the card; submissions still in open pull requests through
the dataset's `LD-MNIST submission:` discussions), reads only their cards, `.eval_results` files and
prediction files (never their code), recomputes each score with the metric on the dataset revision the row
names, and ranks by MSE. Each row has a status:

- `verified`: recomputed equals reported within 1e-6;
- `mismatch`: they differ (both shown);
- `unverifiable`: results, but no predictions file;
- `stale`: reported on another revision of the dataset (recomputed there when that revision can be read);
- `invalid`: the submission cannot be scored (the reason is given);
- `published`: the 2020 reference's rows, as published on its own dataset (shown, never recomputed).

One bad submission never stops the table. Reading needs no token; `push=True` commits the table to the
dataset card's leaderboard block and `leaderboard.json`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from huggingface_hub import HfApi
from huggingface_hub.utils import HFValidationError, validate_repo_id

from ..data.reference_2020 import reference_2020
from ..data.schema import BUILD_RECORD, data_file
from ..errors import LDMNISTError, first_line
from ..files import atomic_write_text
from ..registry import DEFAULT_CONFIG
from ..rendering.cards import leaderboard_markdown, read_block, with_block
from .auth import check_endpoint, commits_to, resolve_token
from .scoring import dataset_configs, fetch_test_split, metric_module
from .submit import METRICS, SUBMISSION_TITLE, check_repo_id, eval_results_file, predictions_file, task_id

logger = logging.getLogger(__name__)

TOLERANCE = 1e-6
LEADERBOARD_FILE = "leaderboard.json"
# Ranked by recomputed MSE on the current data; stale rows (scored on other data) are listed after them.
_RANKED = ("verified", "mismatch")
_AFTER = {"stale": 0, "published": 1, "unverifiable": 2, "invalid": 3}


MAX_TEXT_BYTES = 1 << 20  # a card or a results file larger than this is not read


def _number(value) -> float | None:
    """A reported score as a finite float, else `None` (a string, a boolean, a date, NaN, 1e999, a YAML alias
    tree: what a results file may hold is the submitter's)."""
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _files(api: HfApi, repo: str, git_rev: str, configs) -> dict:
    """The card, results and predictions files the repository holds at `git_rev`, by path (sizes, blob ids,
    last commits): one request, and nothing downloaded that is not there."""
    paths = ["README.md", *(eval_results_file(c) for c in configs), *(predictions_file(c) for c in configs)]
    infos = api.get_paths_info(repo, paths, revision=git_rev, expand=True)
    return {i.path: i for i in infos if getattr(i, "size", None) is not None and hasattr(i, "blob_id")}


def _read_text(api: HfApi, repo: str, git_rev: str, files: dict, path: str) -> str | None:
    info = files.get(path)
    if info is None or info.size > MAX_TEXT_BYTES:
        return None
    return Path(api.hf_hub_download(repo, path, revision=git_rev)).read_text(
        encoding="utf-8", errors="replace"
    )


def _reported(api: HfApi, repo: str, git_rev: str, dataset: str, configs, files: dict) -> dict[str, dict]:
    """The results a repository reports at `git_rev`, by config: from `.eval_results/ldmnist-*.yaml`, else
    the card's `model-index`. Each: `mse`, `reconstructed_accuracy` (finite floats or `None`), `revision`
    (a string or `None`)."""
    found: dict[str, dict] = {}
    for config in configs:
        text = _read_text(api, repo, git_rev, files, eval_results_file(config))
        try:
            rows = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            rows = None
        for row in rows if isinstance(rows, list) else []:
            ds = row.get("dataset") if isinstance(row, dict) else None
            if not isinstance(ds, dict) or ds.get("id") != dataset:
                continue
            for metric in METRICS:
                if ds.get("task_id") == task_id(config, metric):
                    entry = found.setdefault(config, {"revision": _text(ds.get("revision"))})
                    entry[metric] = _number(row.get("value"))
    if found:
        return found
    text = _read_text(api, repo, git_rev, files, "README.md")
    try:
        from huggingface_hub import ModelCard

        results = ModelCard(text).data.eval_results or [] if text else []
    except Exception:  # noqa: BLE001 - the card's YAML is the submitter's: no results then
        return found
    for r in results:
        config = DEFAULT_CONFIG if r.dataset_config is None else _text(r.dataset_config)
        if r.dataset_type == dataset and r.metric_type in METRICS and config is not None:
            entry = found.setdefault(config, {"revision": _text(r.dataset_revision)})
            entry[r.metric_type] = _number(r.metric_value)
    return found


def _candidates(api: HfApi, dataset: str) -> list[tuple[str, str, str]]:
    """`(repo, git revision, source)` of every submission: main branches found by the model search, and
    open pull requests (on those repositories, and those named by the dataset's submission discussions)."""
    repos = {m.id for m in api.list_models(filter=f"dataset:{dataset}")}
    for d in api.get_repo_discussions(dataset, repo_type="dataset", discussion_type="discussion"):
        found = re.match(rf"{re.escape(SUBMISSION_TITLE)}(\S+/\S+)", d.title)
        if found and d.status == "open":
            repos.add(found.group(1))
    out = []
    for repo in sorted(repos):
        try:
            validate_repo_id(repo)
        except HFValidationError:
            continue
        out.append((repo, "main", "main"))
        try:
            prs = api.get_repo_discussions(repo, discussion_type="pull_request", discussion_status="open")
            out += [(repo, f"refs/pr/{pr.num}", f"community: pull request #{pr.num}") for pr in prs]
        except Exception:  # noqa: BLE001 - a repository that went away
            continue
    return out


class _Splits:
    """The test splits of (config, revision), each fetched once; `None` where that revision cannot be read."""

    def __init__(self, api, dataset, prefixes):
        self.api, self.dataset, self.prefixes, self._cache = api, dataset, prefixes, {}

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


def _row(api, repo, git_rev, source, config, reported, files, splits: _Splits, current: str) -> dict:
    row = {
        "model": repo,
        "source": source,
        "config": config,
        "status": None,
        "mse": None,
        "reconstructed_accuracy": None,
        "reported_mse": reported.get("mse"),
        "reported_reconstructed_accuracy": reported.get("reconstructed_accuracy"),
        "revision": reported.get("revision"),
        "submitted": None,
        "reason": "",
    }
    if config not in splits.prefixes:
        return {**row, "status": "invalid", "reason": "the dataset has no such config"}
    info = files.get(predictions_file(config))
    if info is None:
        return {**row, "status": "unverifiable", "reason": "no predictions file"}
    commit = getattr(info, "last_commit", None)
    row["submitted"] = commit.date.isoformat() if getattr(commit, "date", None) else None
    row["_predictions"] = info.blob_id  # the same file under two names is one submission (dropped from JSON)
    revision = row["revision"] if row["revision"] and re.fullmatch(r"[0-9a-f]{40}", row["revision"]) else None
    if revision is None:
        return {**row, "status": "invalid", "reason": "its results name no revision of the dataset"}
    if splits.data_id(config, revision) == splits.data_id(config, current):
        revision = current  # the same data (later commits changed the card only)
    split = splits.get(config, revision)
    if isinstance(split, LDMNISTError):
        return {**row, "status": "stale", "reason": f"dataset revision {revision[:12]} cannot be read"}
    try:
        path = api.hf_hub_download(repo, predictions_file(config), revision=git_rev)
        scores = split.score(metric_module().read_predictions(path, shape=split.references.shape))
    except (LDMNISTError, ValueError) as e:
        return {**row, "status": "invalid", "reason": str(e).splitlines()[0][:300]}
    row.update(scores)
    reported_ok = all(row[f"reported_{m}"] is not None for m in METRICS)
    if revision != current:
        row["status"] = "stale"
        row["reason"] = f"scored on dataset revision {revision[:12]}, not the current {current[:12]}"
    elif reported_ok and all(abs(row[f"reported_{m}"] - row[m]) <= TOLERANCE for m in METRICS):
        row["status"] = "verified"
    else:
        row["status"] = "mismatch"
        row["reason"] = (
            "the reported scores are not what its predictions give" if reported_ok else "no scores reported"
        )
    return row


def _one_per_model(rows: list[dict]) -> list[dict]:
    """One row per model and config: its main branch's, else its oldest open pull request's; and one row per
    predictions file: a copy of another submission's file is `invalid` (the earlier submission keeps it)."""
    kept: dict[tuple, dict] = {}
    for r in rows:
        key = (r["model"], r["config"])
        order = (r["source"] != "main", int(r["source"].rsplit("#", 1)[1]) if "#" in r["source"] else 0)
        if key not in kept or order < kept[key]["_order"]:
            kept[key] = {**r, "_order": order}
    first: dict[tuple, dict] = {}
    for r in sorted(kept.values(), key=lambda r: (r.get("submitted") or "~", r["model"])):
        blob = r.get("_predictions")
        if blob is None:
            continue
        earlier = first.setdefault((r["config"], blob), r)
        if earlier is not r:
            r.update(
                status="invalid",
                mse=None,
                reconstructed_accuracy=None,
                reason=f"the same predictions file as {earlier['model']}, submitted earlier",
            )
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in kept.values()]


def _published(config: str) -> list[dict]:
    """The 2020 reference's rows, as published (on its own dataset): shown, never recomputed."""
    if config != DEFAULT_CONFIG:
        return []
    return [
        {
            "model": r["model"],
            "source": "published in 2020",
            "config": config,
            "status": "published",
            "mse": r["mse"],
            "reconstructed_accuracy": r["reconstructed_accuracy"],
            "reason": "the 2020 dataset, made by other VAEs",
        }
        for r in reference_2020()["published"]["benchmark"]
    ]


def build_leaderboard(
    dataset_repo: str,
    config: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    workers: int = 8,
) -> dict:
    """The leaderboard of a published dataset (all configs, or one): `{"dataset", "revision", "rows"}`."""
    check_repo_id(dataset_repo, "dataset_repo")
    endpoint = check_endpoint(endpoint, sends_token=bool(token))
    api = HfApi(endpoint=endpoint, token=resolve_token(token) if token else False)
    info, prefixes = dataset_configs(api, dataset_repo, config)
    configs = [config] if config else list(prefixes)
    splits = _Splits(api, dataset_repo, prefixes)
    for c in configs:  # the current revision of each config, fetched once before the threads start
        splits.get(c, info.sha)

    def rows_of(candidate):
        repo, git_rev, source = candidate
        try:  # one bad submission never stops the table
            files = _files(api, repo, git_rev, list(prefixes))
            reported = _reported(api, repo, git_rev, dataset_repo, list(prefixes), files)
            return [
                _row(api, repo, git_rev, source, c, r, files, splits, info.sha)
                for c, r in sorted(reported.items())
                if config is None or c == config
            ]
        except Exception as e:  # noqa: BLE001
            reason = f"it cannot be read ({first_line(e)[:200]})"
            return [
                {
                    "model": repo,
                    "source": source,
                    "config": config or DEFAULT_CONFIG,
                    "status": "invalid",
                    "mse": None,
                    "reconstructed_accuracy": None,
                    "reason": reason,
                }
            ]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = [r for rows in pool.map(rows_of, _candidates(api, dataset_repo)) for r in rows]
    rows = _one_per_model(rows)
    rows += [r for c in configs for r in _published(c)]
    return {"dataset": dataset_repo, "revision": info.sha, "configs": configs, "rows": rank(rows)}


def rank(rows: list[dict]) -> list[dict]:
    """Per config: the verified and mismatch rows by recomputed MSE (rank 1 = lowest), then without a rank the
    stale (by MSE on their own revision), published, unverifiable and invalid rows."""
    out = []
    for config in sorted({r["config"] for r in rows}, key=lambda c: (c != DEFAULT_CONFIG, c)):
        mine = [r for r in rows if r["config"] == config]
        scored = sorted(  # equal scores: the earlier submission first
            (r for r in mine if r["status"] in _RANKED and r.get("mse") is not None),
            key=lambda r: (r["mse"], r.get("submitted") or "~", r["model"]),
        )
        for i, r in enumerate(scored, 1):
            r["rank"] = i
        ranked = {id(r) for r in scored}
        rest = sorted(
            (r for r in mine if id(r) not in ranked),
            key=lambda r: (
                _AFTER.get(r["status"], len(_AFTER)),
                math.inf if r.get("mse") is None else r["mse"],
                r["model"],
            ),
        )
        for r in rest:
            r["rank"] = None
        out += scored + rest
    return out


def leaderboard(
    dataset_repo: str,
    config: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    push: bool = False,
    json_path: str | os.PathLike | None = None,
) -> dict:
    """`build_leaderboard`, written to `json_path` and, with `push`, committed to the dataset repository."""
    if push and not resolve_token(token):
        raise LDMNISTError(
            "`push` commits to the dataset repository: it needs a write token (`token`, HF_TOKEN)."
        )
    if json_path:
        _check_json_path(Path(json_path))
    result = build_leaderboard(dataset_repo, config, endpoint, token)
    text = json.dumps(result, indent=2, allow_nan=False) + "\n"
    if json_path:
        atomic_write_text(json_path, text)
    if push:
        _push(result, text, endpoint, token)
    return result


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


def _push(result: dict, text: str, endpoint: str | None, token: str | None) -> None:
    from huggingface_hub import CommitOperationAdd

    endpoint = check_endpoint(endpoint, sends_token=True)
    api = HfApi(endpoint=endpoint, token=resolve_token(token))
    dataset = result["dataset"]
    try:
        card = Path(
            api.hf_hub_download(dataset, "README.md", repo_type="dataset", revision=result["revision"])
        ).read_text()
    except Exception as e:  # noqa: BLE001
        raise LDMNISTError(f"Could not read the card of {dataset} ({first_line(e)}).") from e
    if read_block(card, "leaderboard") is None:
        raise LDMNISTError(
            f"The card of {dataset} has no leaderboard block; export and push it again with ldmnist-hf."
        )
    card = with_block(card, "leaderboard", leaderboard_markdown(result))
    try:
        with commits_to(endpoint):
            api.create_commit(
                dataset,
                repo_type="dataset",
                operations=[
                    CommitOperationAdd("README.md", card.encode()),
                    CommitOperationAdd(LEADERBOARD_FILE, text.encode()),
                ],
                commit_message="Update the LD-MNIST leaderboard",
                parent_commit=result["revision"],  # refused if the dataset changed since it was read
            )
    except Exception as e:  # noqa: BLE001
        if getattr(getattr(e, "response", None), "status_code", None) == 412:
            raise LDMNISTError(
                f"{dataset} changed while the leaderboard was computed; nothing was committed: run "
                f"`ldmnist leaderboard --push` again."
            ) from e
        raise LDMNISTError(f"Could not commit the leaderboard to {dataset} ({first_line(e)}).") from e
