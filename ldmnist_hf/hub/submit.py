"""`ldmnist submit`: a model's test-split predictions, scored and uploaded to its model repository.

What lands in the submitter's repository `USER/MODEL` for a dataset config `C`:

- `ldmnist/predictions-C.parquet`: `index` and `prediction` (the rows of the test split, in its order);
- the model card's `model-index` results (dataset id, config, split `test`, the dataset's revision; `mse` and
  `reconstructed_accuracy`, with their source), and `datasets:` naming the dataset, so that the Hub's model
  search by `dataset:NS/ldmnist` finds it;
- `.eval_results/ldmnist-C.yaml`: the same two results in the Hub's Benchmark format.

To a repository the token cannot write it opens a pull request instead (a community submission), and a
discussion on the dataset repository that points the leaderboard to it. Everything is checked before the
first upload; the token is never printed.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData

from ..errors import LDMNISTError, first_line
from ..registry import DEFAULT_CONFIG
from ..rendering import LICENSE, TEMPLATES, read_block, with_block
from .auth import check_endpoint, commits_to, resolve_token
from .ids import check_repo_id
from .scoring import TestSplit, dataset_configs, fetch_test_split, metric_module

logger = logging.getLogger(__name__)

SUBMISSION_TITLE = "LD-MNIST submission: "  # the dataset discussion that points to a pull-request submission
METRICS = ("mse", "reconstructed_accuracy")
# Each score's metric id in a card's `model-index` (ids of the evaluate metrics on the Hub): reconstructed
# accuracy is an accuracy; its `name` says which one.
METRIC_IDS = {"mse": "mse", "reconstructed_accuracy": "accuracy"}


@contextlib.contextmanager
def predictions_are_intended():
    """Silences huggingface_hub's warning about a data file in a model repository: the predictions file of a
    submission belongs there."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*commit a data file.*", category=UserWarning)
        yield


def predictions_file(config: str) -> str:
    return f"ldmnist/predictions-{config}.parquet"


def eval_results_file(config: str) -> str:
    return f".eval_results/ldmnist-{config}.yaml"


def task_id(config: str, metric: str) -> str:
    """The dataset's `eval.yaml` task of one config and metric: `default-mse`, `reference-reconstructed_accuracy`."""
    return f"{config}-{metric}"


def predictions_parquet(predictions: np.ndarray) -> bytes:
    """The predictions as `ldmnist submit` uploads them: `index` 0..N-1 and a fixed-size list `prediction`."""
    values = pa.array(np.ascontiguousarray(predictions, np.float32).reshape(-1), pa.float32())
    table = pa.table(
        {
            "index": pa.array(np.arange(len(predictions), dtype=np.int32)),
            "prediction": pa.FixedSizeListArray.from_arrays(values, predictions.shape[1]),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _results(split: TestSplit, scores: dict, source_url: str) -> list[EvalResult]:
    names = {"mse": "MSE of predicted vs test y", "reconstructed_accuracy": "reconstructed accuracy"}
    return [
        EvalResult(
            task_type="tabular-regression",
            dataset_type=split.dataset,
            dataset_name="LD-MNIST",
            dataset_config=split.config,
            dataset_split="test",
            dataset_revision=split.revision,
            metric_type=METRIC_IDS[m],
            metric_name=names[m],
            metric_value=scores[m],
            source_name="ldmnist submit: test-split predictions",
            source_url=source_url,
        )
        for m in METRICS
    ]


def eval_results_yaml(split: TestSplit, scores: dict, source_url: str, user: str | None = None) -> str:
    """One row per task, in the Hub's `.eval_results/*.yaml` format: only the keys its specification has
    (`dataset.id`, `dataset.task_id`, `dataset.revision`, `value`, `source.url`/`name`/`user`, `notes`); which
    way is better goes into `notes`, since the format has no field for it (docs/publishing.md)."""
    source = {
        "url": source_url,
        "name": "LD-MNIST test-split predictions",
        **({"user": user} if user else {}),
    }
    rows = [
        {
            "dataset": {
                "id": split.dataset,
                "task_id": task_id(split.config, m),
                **({"revision": split.revision} if split.revision else {}),  # an export: set by `push`
            },
            "value": scores[m],
            "source": source,
            "notes": f"config {split.config}; {'lower' if m == 'mse' else 'higher'} is better",
        }
        for m in METRICS
    ]
    return yaml.safe_dump(rows, sort_keys=False)


def results_table(eval_results) -> str:
    """The card's table of its LD-MNIST results (every dataset and config its `model-index` holds)."""
    rows: dict[tuple, dict] = {}
    for r in eval_results or []:
        metric = {**{v: k for k, v in METRIC_IDS.items()}, **{m: m for m in METRICS}}.get(r.metric_type)
        if metric:
            key = (r.dataset_type, r.dataset_config or DEFAULT_CONFIG, r.dataset_revision)
            rows.setdefault(key, {})[metric] = r.metric_value
    lines = [
        "| dataset | config | MSE (lower is better) | reconstructed accuracy | dataset revision |",
        "|---|---|---:|---:|---|",
    ]
    for (dataset, config, revision), m in rows.items():
        scores = [f"{m[k]:.4f}" if isinstance(m.get(k), int | float) else "" for k in METRICS]
        where = f"`{revision[:12]}`" if revision else "the one `ldmnist push` uploads with it"
        lines.append(f"| {dataset} | `{config}` | {scores[0]} | {scores[1]} | {where} |")
    return "\n".join(lines)


def submission_card(
    repo: str,
    split: TestSplit,
    scores: dict,
    source_url: str,
    existing: str | None = None,
    description: str = "",
) -> str:
    """The model card with this submission's results: the existing card, its results for this dataset and
    config replaced, or a new card."""
    new = _results(split, scores, source_url)
    if existing:
        try:
            card = ModelCard(existing)
        except Exception as e:  # noqa: BLE001 - the card's YAML is the submitter's own
            raise LDMNISTError(
                f"The model card of {repo} cannot be read ({first_line(e)}); fix its YAML header first."
            ) from e
        kept = [
            r
            for r in card.data.eval_results or []
            if not (r.dataset_type == split.dataset and (r.dataset_config or DEFAULT_CONFIG) == split.config)
        ]
        card.data.eval_results = kept + new
        card.data.model_name = card.data.model_name or repo.split("/")[1]
        datasets = list(card.data.datasets or [])
        card.data.datasets = datasets + [split.dataset] if split.dataset not in datasets else datasets
        card.data.tags = sorted(set(card.data.tags or []) | {"ldmnist"})
        if read_block(card.text, "ldmnist-results") is not None:  # the card's table, of all its results
            card.text = with_block(card.text, "ldmnist-results", results_table(card.data.eval_results))
        return str(card)
    data = ModelCardData(
        model_name=repo.split("/")[1],
        license=LICENSE,
        datasets=[split.dataset],
        tags=["ldmnist"],
        eval_results=new,
    )
    return str(
        ModelCard.from_template(
            data,
            template_path=str(TEMPLATES / "submission_card.md"),
            model_name=repo.split("/")[1],
            dataset=split.dataset,
            results_table=results_table(new),
            description=description,
        )
    )


def submission_files(
    repo: str,
    split: TestSplit,
    predictions: np.ndarray,
    scores: dict,
    endpoint: str,
    existing_card=None,
    description: str = "",
    revision: str = "main",
    user: str | None = None,
) -> dict[str, bytes]:
    """Every file one submission writes into the model repository (also the baselines' repos of an export).

    `revision` is where the files will be (`main`, or a pull request's `refs/pr/N`): the results link to the
    predictions file there. `user` is credited in the results (`source.user`)."""
    url = f"{endpoint}/{repo}/blob/{quote(revision, safe='')}/{predictions_file(split.config)}"
    return {
        predictions_file(split.config): predictions_parquet(predictions),
        eval_results_file(split.config): eval_results_yaml(split, scores, url, user).encode(),
        "README.md": submission_card(repo, split, scores, url, existing_card, description).encode(),
    }


def _existing_card(api: HfApi, repo: str) -> str | None:
    try:
        return Path(api.hf_hub_download(repo, "README.md")).read_text()
    except Exception:  # noqa: BLE001 - no repository yet, or no card: a new card
        return None


def submit(
    predictions: str | os.PathLike,
    repo: str,
    dataset_repo: str,
    config: str = DEFAULT_CONFIG,
    token: str | None = None,
    endpoint: str | None = None,
    dry_run: bool = False,
    description: str = "",
) -> dict:
    """Scores a predictions file on a published LD-MNIST dataset and uploads it to the model repository `repo`.

    Args:
        predictions: a `.npy`, `.csv` or `.parquet` file of shape `(10000, latent_dim)`, test-split order.
        repo (`str`): the model repository, `USER/MODEL`.
        dataset_repo (`str`): the dataset, `NS/ldmnist`.
        config (`str`, defaults to `"default"`): the dataset config the predictions are for.
        token (`str`, *optional*): a write token (default: `$HF_TOKEN` or `hf auth login`'s).
        endpoint (`str`, *optional*): the Hub (default: `$HF_ENDPOINT`, else huggingface.co).
        dry_run (`bool`, defaults to `False`): check and score, upload nothing; the result says what would go.
        description (`str`, *optional*): a line about the model for a new model card.

    Returns:
        `dict`: `repo`, `dataset`, `config`, `revision`, `mse`, `reconstructed_accuracy`, `files` (path -> bytes
        count), `pull_request` (its URL when one was opened), `dry_run`.
    """
    check_repo_id(repo, "repo")
    check_repo_id(dataset_repo, "dataset_repo")
    if "<!--" in description or "-->" in description:
        raise LDMNISTError(
            "`description` holds an HTML comment marker (`<!--` or `-->`); the card's results table is marked "
            "with those, so a later submission would update the wrong one: write the description without them."
        )
    token = resolve_token(token)
    # a dry run sends the token too (to read a private dataset): the same rule for the endpoint
    endpoint = check_endpoint(endpoint, sends_token=bool(token))
    if not dry_run and not token:
        raise LDMNISTError("No Hub token: pass `token`, set HF_TOKEN, or log in once with `hf auth login`.")
    if not os.path.isfile(predictions):
        raise LDMNISTError(
            f"`predictions` {os.fspath(predictions)!r} is not a file; give a .npy, .csv or .parquet file."
        )
    api = HfApi(endpoint=endpoint, token=token or False)
    info, prefixes = dataset_configs(api, dataset_repo, config)
    split = fetch_test_split(api, dataset_repo, config, info.sha, prefixes[config])
    try:  # with the split's shape: a file of another shape is refused before its values are decoded
        array = metric_module().read_predictions(predictions, shape=split.references.shape)
    except ValueError as e:
        raise LDMNISTError(str(e)) from e
    scores = split.score(array)
    existing = _existing_card(api, repo)

    def files_at(revision: str, user: str | None = None) -> dict[str, bytes]:
        return submission_files(repo, split, array, scores, endpoint, existing, description, revision, user)

    files = files_at("main")
    result = {
        "repo": repo,
        "dataset": dataset_repo,
        "config": config,
        "revision": info.sha,
        **scores,
        "files": {path: len(data) for path, data in files.items()},
        "pull_request": None,
        "dry_run": dry_run,
    }
    if dry_run:
        return result
    result["pull_request"] = _upload(api, repo, dataset_repo, config, files_at, result)
    return result


def _pr_description(result: dict, user: str | None) -> str:
    """What a submission's pull request says: what was scored, on which revision, with what scores."""
    return (
        f"LD-MNIST results{f' by @{user}' if user else ''}, made with `ldmnist submit`: test-split predictions of "
        f"`y` for the `{result['config']}` config of {result['dataset']} (revision `{result['revision']}`), "
        f"scored there with the LD-MNIST metric: MSE {result['mse']:.6f} (lower is better), reconstructed "
        f"accuracy {result['reconstructed_accuracy']:.6f}. The pull request adds the predictions file "
        f"(`{predictions_file(result['config'])}`), the results (`{eval_results_file(result['config'])}`) and "
        f"the card's `model-index`; the leaderboard of {result['dataset']} recomputes the scores from the file."
    )


def _upload(api: HfApi, repo: str, dataset_repo: str, config: str, files_at, result: dict) -> str | None:
    """One commit to `repo`, or a pull request when the token may not write it; returns the PR's URL.

    A pull request is opened first, with its description; its files then go to its branch `refs/pr/N`, so
    that the results link to the predictions file where it is (main has it only once the PR is merged)."""
    from huggingface_hub import CommitOperationAdd

    try:
        user = api.whoami()
    except Exception as e:  # noqa: BLE001
        raise LDMNISTError(
            f"Could not reach the Hub with your token ({first_line(e)}); nothing was uploaded."
        ) from e
    orgs = [o for o in user.get("orgs") or [] if isinstance(o, dict)]
    names = {user.get("name")} | {o.get("name") for o in orgs if o.get("roleInOrg", "write") != "read"}
    operations = [CommitOperationAdd(path, data) for path, data in files_at("main").items()]
    message = f"LD-MNIST results on {dataset_repo} ({config})"
    with predictions_are_intended(), commits_to(api.endpoint):
        try:
            exists = api.repo_exists(repo)
            if repo.split("/")[0] in names:
                if not exists:
                    api.create_repo(repo)
                try:
                    api.create_commit(repo, operations=operations, commit_message=message)
                    logger.info("Uploaded the submission to %s", repo)
                    return None
                except Exception as e:  # noqa: BLE001
                    if not exists:  # nothing half-written: the repository this call created goes again
                        api.delete_repo(repo, missing_ok=True)
                    if getattr(getattr(e, "response", None), "status_code", None) != 403 or not exists:
                        raise
                    logger.info("Your token may not write %s: opening a pull request instead", repo)
            elif not exists:
                raise LDMNISTError(
                    f"{repo} does not exist and your token cannot create it (it is not your namespace); submit "
                    f"to a repository of your own, or ask its owner to create it."
                )
            pr = api.create_pull_request(
                repo, title=message, description=_pr_description(result, user.get("name"))
            )
            branch = f"refs/pr/{pr.num}"
            try:
                api.create_commit(
                    repo,
                    operations=[
                        CommitOperationAdd(path, data)
                        for path, data in files_at(branch, user.get("name")).items()
                    ],
                    commit_message=message,
                    revision=branch,
                )
            except Exception:
                api.change_discussion_status(repo, pr.num, "closed", comment="The upload failed; closed.")
                raise
        except LDMNISTError:
            raise
        except Exception as e:  # noqa: BLE001 - HTTP errors of the client, quoted without secrets
            raise LDMNISTError(f"Could not upload the submission to {repo} ({first_line(e)}).") from e
    pr_url = f"{api.endpoint}/{repo}/discussions/{pr.num}"
    logger.info("Opened a pull request on %s: %s", repo, pr_url)
    title = f"{SUBMISSION_TITLE}{repo} ({config})"
    try:  # how the leaderboard finds a pull request on a repository that reports nothing on main
        api.create_discussion(
            dataset_repo,
            title,
            description=f"Results of {repo} on the `{config}` config, in the pull request {pr_url}.",
            repo_type="dataset",
        )
    except Exception as e:  # noqa: BLE001 - the pull request stands; say how to finish by hand
        logger.warning(
            "The pull request %s is open, but the discussion that points the leaderboard to it could not be "
            "opened on %s (%s): open a discussion titled %r there by hand.",
            pr_url,
            dataset_repo,
            first_line(e),
            title,
        )
    return pr_url
