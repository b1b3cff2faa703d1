"""Where the leaderboard looks for results, and what it reads there: the candidates (repositories at a git
revision) and the scores each reports, bounded and type-checked (what a repository holds is its owner's)."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import NamedTuple

import yaml
from huggingface_hub import HfApi

from ..errors import first_line
from ..registry import DEFAULT_CONFIG
from .auth import public_url
from .ids import is_repo_id
from .results import METRIC_OF, METRICS, SUBMISSION_TITLE, eval_results_file, predictions_file, task_id

logger = logging.getLogger(__name__)


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


def _files(api: HfApi, repo: str, git_rev: str, configs, source: str = "mnist") -> dict:
    """The card, results and predictions files the repository holds at `git_rev` for the configs of the source
    dataset's LD version, by path (sizes, blob ids, last commits): one request, and nothing downloaded that is
    not there."""
    paths = [
        "README.md",
        *(eval_results_file(c, source) for c in configs),
        *(predictions_file(c, source) for c in configs),
    ]
    infos = api.get_paths_info(repo, paths, revision=git_rev, expand=True)
    return {i.path: i for i in infos if getattr(i, "size", None) is not None and hasattr(i, "blob_id")}


def _read_text(api: HfApi, repo: str, git_rev: str, files: dict, path: str) -> str | None:
    info = files.get(path)
    if info is None or info.size > MAX_TEXT_BYTES:
        return None
    return Path(api.hf_hub_download(repo, path, revision=git_rev)).read_text(
        encoding="utf-8", errors="replace"
    )


def _reported(
    api: HfApi, repo: str, git_rev: str, dataset: str, configs, files: dict, source: str = "mnist"
) -> dict[str, dict]:
    """The results a repository reports at `git_rev`, by config: from `.eval_results/ldmnist-*.yaml` (the
    source dataset's family's), else the card's `model-index`. Each: `mse`, `reconstructed_accuracy` (finite
    floats or `None`), `revision` (a string or `None`)."""
    found: dict[str, dict] = {}
    for config in configs:
        text = _read_text(api, repo, git_rev, files, eval_results_file(config, source))
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
    if not text or _has_aliases(text):  # an alias tree of a few KB expands to millions of results
        return found
    try:
        from huggingface_hub import ModelCard

        results = ModelCard(text).data.eval_results or []
    except Exception:  # noqa: BLE001 - the card's YAML is the submitter's: no results then
        return found
    for r in results:
        config = DEFAULT_CONFIG if r.dataset_config is None else _text(r.dataset_config)
        metric = METRIC_OF.get(r.metric_type)
        if r.dataset_type == dataset and metric and config is not None:
            entry = found.setdefault(config, {"revision": _text(r.dataset_revision)})
            entry[metric] = _number(r.metric_value)
    return found


def _has_aliases(card: str) -> bool:
    """Whether a card's YAML header uses anchors and aliases (read as events: nothing is built or expanded).
    A card whose header cannot be read has none to worry about (ModelCard refuses it next)."""
    parts = card.split("---", 2)
    if not card.startswith("---") or len(parts) < 3:
        return False
    try:
        return any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(parts[1]))
    except yaml.YAMLError:
        return False


class Candidate(NamedTuple):
    """A place that may hold results: a repository at a git revision (`main` or `refs/pr/N`)."""

    repo: str
    git_rev: str
    source: str  # how the table names it: "main" or "pull request #N"
    url: str  # where a visitor sees it
    user: str | None = None  # who opened the pull request


def _candidates(api: HfApi, dataset: str) -> list[Candidate]:
    """The main branches of the repositories tagged with the dataset, and the open pull requests of those and
    of the repositories the dataset's submission discussions name."""
    tagged = {m.id for m in api.list_models(filter=f"dataset:{dataset}")}
    named = set()
    for d in api.get_repo_discussions(dataset, repo_type="dataset", discussion_type="discussion"):
        found = re.match(rf"{re.escape(SUBMISSION_TITLE)}(\S+/\S+)", d.title)
        if found and d.status == "open":
            named.add(found.group(1))
    out = []
    for repo in sorted(tagged | named):
        if not is_repo_id(repo):
            logger.info("A submission discussion names %r, not a repository id: skipped.", repo[:100])
            continue
        if repo in tagged:
            out.append(Candidate(repo, "main", "main", f"{public_url(api.endpoint)}/{repo}"))
        try:
            prs = api.get_repo_discussions(repo, discussion_type="pull_request", discussion_status="open")
            out += [
                Candidate(
                    repo,
                    f"refs/pr/{pr.num}",
                    f"pull request #{pr.num}",
                    f"{public_url(api.endpoint)}/{repo}/discussions/{pr.num}",
                    pr.author,
                )
                for pr in prs
            ]
        except Exception as e:  # noqa: BLE001 - a repository that does not exist or went away
            logger.warning("%s cannot be read (%s): it gives no row.", repo, first_line(e)[:200])
    return out
