"""`ldmnist submit`: a model's test-split predictions, scored and uploaded to its model repository.

What lands in the submitter's repository `USER/MODEL` for a dataset config `C` (of LD-MNIST; a sibling's files
are named after its family, `ld-fashion-mnist/...`, `hub.results`):

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

import logging
import os
from pathlib import Path

from huggingface_hub import HfApi

from ..errors import LDMNISTError, first_line
from ..registry import DEFAULT_CONFIG
from .auth import check_endpoint, commits_to, public_url, resolve_token
from .ids import check_repo_id
from .results import (
    SUBMISSION_TITLE,
    eval_results_file,
    ld_title,
    predictions_are_intended,
    predictions_file,
    submission_files,
)
from .scoring import TestSplit, dataset_configs, fetch_test_split, metric_module

logger = logging.getLogger(__name__)


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
    """Scores a predictions file on a published LD-MNIST dataset (or a sibling, such as LD-Fashion-MNIST) and
    uploads it to the model repository `repo`.

    Args:
        predictions: a `.npy`, `.csv` or `.parquet` file of shape `(10000, latent_dim)`, test-split order.
        repo (`str`): the model repository, `USER/MODEL`.
        dataset_repo (`str`): the dataset, `NS/ldmnist` (a sibling: `NS/ld-fashion-mnist`); its build record
            names its source dataset, which names the files written (`hub.results.predictions_file`).
        config (`str`, defaults to `"default"`): the dataset config the predictions are for.
        token (`str`, *optional*): a write token (default: `$HF_TOKEN` or `hf auth login`'s).
        endpoint (`str`, *optional*): the Hub (default: `$HF_ENDPOINT`, else huggingface.co).
        dry_run (`bool`, defaults to `False`): check and score, upload nothing; the result says what would go.
        description (`str`, *optional*): a line about the model for a new model card.

    Returns:
        `dict`: `repo`, `dataset`, `config`, `revision`, `mse`, `reconstructed_accuracy`, `files` (path -> bytes
        count), `pull_request` (its URL when one was opened), `dry_run`.
    """
    token, endpoint = _check_arguments(predictions, repo, dataset_repo, description, token, endpoint, dry_run)
    api = HfApi(endpoint=endpoint, token=token or False)
    info, prefixes = dataset_configs(api, dataset_repo, config)
    split = fetch_test_split(api, dataset_repo, config, info.sha, prefixes[config])
    try:  # with the split's shape: a file of another shape is refused before its values are decoded
        array = metric_module().read_predictions(predictions, shape=split.references.shape)
    except ValueError as e:
        raise LDMNISTError(str(e)) from e
    scores = split.score(array)
    _warn_if_it_uses_the_targets(split, array, scores)
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
    result["pull_request"] = _upload(api, repo, dataset_repo, config, files_at, result, split.source)
    return result


def _warn_if_it_uses_the_targets(split: TestSplit, predictions, scores: dict) -> None:
    used = split.uses_targets(predictions, scores["mse"])
    if used:
        logger.warning(
            "These predictions use the public test targets (%s): the leaderboard will show them as "
            "uses-targets, without a rank.",
            used,
        )


def _check_arguments(predictions, repo, dataset_repo, description, token, endpoint, dry_run):
    """Every check `submit` can make before reading anything; returns the token and endpoint to use."""
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
    return token, endpoint


def _pr_description(result: dict, user: str | None, source: str = "mnist") -> str:
    """What a submission's pull request says: what was scored, on which revision, with what scores."""
    config, title = result["config"], ld_title(source)
    return (
        f"{title} results{f' by @{user}' if user else ''}, made with `ldmnist submit`: test-split predictions of "
        f"`y` for the `{config}` config of {result['dataset']} (revision `{result['revision']}`), "
        f"scored there with the {title} metric: MSE {result['mse']:.6f} (lower is better), reconstructed "
        f"accuracy {result['reconstructed_accuracy']:.6f}. The pull request adds the predictions file "
        f"(`{predictions_file(config, source)}`), the results (`{eval_results_file(config, source)}`) and "
        f"the card's `model-index`; the leaderboard of {result['dataset']} recomputes the scores from the file."
    )


def _upload(
    api: HfApi, repo: str, dataset_repo: str, config: str, files_at, result: dict, source: str = "mnist"
) -> str | None:
    """One commit to `repo`, or a pull request when the token may not write it; returns the PR's URL.

    A pull request is opened first, with its description; its files then go to its branch `refs/pr/N`, so
    that the results link to the predictions file where it is (main has it only once the PR is merged)."""
    user, names = _who(api)
    message = f"{ld_title(source)} results on {dataset_repo} ({config})"
    with predictions_are_intended(), commits_to(api.endpoint):
        try:
            if _commit_to_main(api, repo, names, files_at("main", user), message):
                return None
            description = _pr_description(result, user, source)
            pr_url = _pull_request(api, repo, files_at, user, message, description)
        except LDMNISTError:
            raise
        except Exception as e:  # noqa: BLE001 - HTTP errors of the client, quoted without secrets
            raise LDMNISTError(f"Could not upload the submission to {repo} ({first_line(e)}).") from e
    logger.info("Opened a pull request on %s: %s", repo, pr_url)
    _point_the_dataset_to(api, dataset_repo, repo, config, pr_url)
    return pr_url


def _who(api: HfApi) -> tuple[str | None, set]:
    """The token's user, and the namespaces it may write (its own and its organisations')."""
    try:
        user = api.whoami()
    except Exception as e:  # noqa: BLE001
        raise LDMNISTError(
            f"Could not reach the Hub with your token ({first_line(e)}); nothing was uploaded."
        ) from e
    orgs = [o for o in user.get("orgs") or [] if isinstance(o, dict)]
    names = {user.get("name")} | {o.get("name") for o in orgs if o.get("roleInOrg", "write") != "read"}
    return user.get("name"), names


def _commit_to_main(api: HfApi, repo: str, names: set, files: dict[str, bytes], message: str) -> bool:
    """Commits to `repo`'s main branch when the token may (creating the repository in its own namespace);
    `False` when a pull request is the way in."""
    from huggingface_hub import CommitOperationAdd

    exists = api.repo_exists(repo)
    if repo.split("/")[0] not in names:
        if not exists:
            raise LDMNISTError(
                f"{repo} does not exist and your token cannot create it (it is not your namespace); submit "
                f"to a repository of your own, or ask its owner to create it."
            )
        return False
    if not exists:
        api.create_repo(repo)
    try:
        api.create_commit(
            repo, operations=[CommitOperationAdd(p, d) for p, d in files.items()], commit_message=message
        )
    except Exception as e:  # noqa: BLE001
        if not exists:  # nothing half-written: the repository this call created goes again
            api.delete_repo(repo, missing_ok=True)
        if getattr(getattr(e, "response", None), "status_code", None) != 403 or not exists:
            raise
        logger.info("Your token may not write %s: opening a pull request instead", repo)
        return False
    logger.info("Uploaded the submission to %s", repo)
    return True


def _pull_request(api: HfApi, repo: str, files_at, user: str | None, message: str, description: str) -> str:
    """Opens a pull request on `repo` and commits the files, linking to where they are, to its branch."""
    from huggingface_hub import CommitOperationAdd

    pr = api.create_pull_request(repo, title=message, description=description)
    branch = f"refs/pr/{pr.num}"
    try:
        files = files_at(branch, user)
        api.create_commit(
            repo,
            operations=[CommitOperationAdd(p, d) for p, d in files.items()],
            commit_message=message,
            revision=branch,
        )
    except Exception:
        api.change_discussion_status(repo, pr.num, "closed", comment="The upload failed; closed.")
        raise
    return f"{public_url(api.endpoint)}/{repo}/discussions/{pr.num}"


def _point_the_dataset_to(api: HfApi, dataset_repo: str, repo: str, config: str, pr_url: str) -> None:
    """The dataset discussion through which the leaderboard finds a pull request on a repository that reports
    nothing on main."""
    title = f"{SUBMISSION_TITLE}{repo} ({config})"
    try:
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
