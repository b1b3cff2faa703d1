"""`ldmnist push`: uploads an export (hub/export.py) through huggingface_hub's client, checked first.

Everything is checked before the first upload: the namespace, the token, the endpoint, and the export:
every repository id is derived from `namespace`, the source dataset and the registry (a manifest that names
another is refused), every folder lies inside the export, no file is a link, every file has the SHA-256 and
size the export recorded, each dataset config's data files match their build record, and each config encodes
the export's source dataset with the models the dataset was built from. The bytes that were checked are the bytes uploaded (one commit per repository).

Tokens: stripped of surrounding whitespace (a token read from a CRLF file ends in `\\r`), sent over plain
http only to this machine, and never printed: any library message quoted in our errors is redacted.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path, PurePosixPath

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

from ..data.read import verify_dataset
from ..data.records import LEADERBOARD_FILE
from ..data.schema import BUILD_RECORD
from ..errors import LDMNISTError, first_line, redact
from ..files.paths import read_json, sha256_file
from ..registry import BASELINES, KINDS, SOURCE_SETS, config_prefix, family
from .auth import check_endpoint, commits_to, resolve_token
from .export import export
from .ids import check_config_name, check_namespace
from .manifest import MANIFEST, REQUIRED, Repo, config_ids, plan_repos
from .results import eval_results_file, ld_title, predictions_are_intended, predictions_file, submission_files
from .scoring import fetch_test_split, metric_module
from .space_repos import class_vaes_line

logger = logging.getLogger(__name__)

_FIX = "Run `ldmnist export` again."


def _read_manifest(export_dir: Path, namespace: str) -> dict:
    path = export_dir / MANIFEST
    if not path.is_file():
        raise LDMNISTError(f"{export_dir} is not an export (no {MANIFEST}): write one with `ldmnist export`.")
    manifest = read_json(path, fix=_FIX)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("repos"), list):
        raise LDMNISTError(f"{path} is damaged (not an export manifest). {_FIX}")
    if manifest.get("namespace") != namespace:
        raise LDMNISTError(
            f"{export_dir} was exported for namespace {manifest.get('namespace')!r}, not {namespace!r}: its "
            f"cards name those repositories. Export again with `namespace={namespace}`."
        )
    return manifest


def _source(export_dir: Path, manifest: dict) -> str:
    """The source dataset the export publishes the LD version of (an export from before siblings: MNIST)."""
    source = manifest.get("source", "mnist")
    if not isinstance(source, str) or source not in SOURCE_SETS:
        raise LDMNISTError(
            f"{export_dir / MANIFEST} names the source dataset {str(source)[:80]!r}, not one of "
            f"{', '.join(SOURCE_SETS)}. {_FIX}"
        )
    return source


def _expected_repos(export_dir: Path, manifest: dict, namespace: str) -> list[Repo]:
    """The repositories `namespace`, the source dataset and the registry give for the manifest's configs; the
    manifest must agree."""
    source = _source(export_dir, manifest)
    configs = manifest.get("configs")
    if not isinstance(configs, dict) or not configs:
        raise LDMNISTError(f"{export_dir / MANIFEST} lists no configs. {_FIX}")
    for name, latent_dim in configs.items():
        check_config_name(name)
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or not 1 <= latent_dim <= 4096:
            raise LDMNISTError(
                f"{export_dir / MANIFEST} gives config {name!r} latent size {latent_dim!r}. {_FIX}"
            )
    baselines = manifest.get("baselines") or {}
    if not isinstance(baselines, dict) or any(
        c not in configs or not isinstance(keys, list) or not set(keys) <= set(BASELINES)
        for c, keys in baselines.items()
    ):
        raise LDMNISTError(f"{export_dir / MANIFEST} lists baselines the registry does not know. {_FIX}")
    expected = plan_repos(namespace, configs, baselines, source)
    listed = []
    for entry in manifest["repos"]:
        try:
            listed.append(Repo(**{k: v for k, v in entry.items() if k != "files"}))
        except TypeError as e:
            raise LDMNISTError(f"{export_dir / MANIFEST} has a malformed repository entry. {_FIX}") from e
    if listed != expected:
        wrong = sorted(
            {f"{r.repo_id} ({r.repo_type}) in {r.folder}" for r in listed}
            - {f"{r.repo_id} ({r.repo_type}) in {r.folder}" for r in expected}
        )
        raise LDMNISTError(
            f"{export_dir / MANIFEST} names other repositories than namespace {namespace!r} and the registry give "
            f"({', '.join(wrong) or 'another order or set'}): refused, nothing is uploaded anywhere but "
            f"{namespace}/{family(source).name}*. {_FIX}"
        )
    return expected


def _inside(export_dir: Path, folder: str) -> Path:
    """`export_dir / folder`, refused unless it is a real folder inside the export (no `..`, no links)."""
    rel = PurePosixPath(folder)
    path = export_dir / rel
    if rel.is_absolute() or ".." in rel.parts or path.is_symlink():
        raise LDMNISTError(f"{folder!r} is not a folder inside the export {export_dir}; refused. {_FIX}")
    try:
        inside = path.resolve().is_relative_to(export_dir.resolve())
    except OSError:
        inside = False
    if not inside or not path.is_dir():
        raise LDMNISTError(f"{export_dir / folder} is missing or lies outside the export. {_FIX}")
    return path


def _repo_files(folder: Path, recorded) -> dict[str, bytes]:
    """Every file of one repository folder, read once and checked against the manifest's record."""
    if not isinstance(recorded, dict):
        raise LDMNISTError(f"The manifest records no files for {folder}. {_FIX}")
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise LDMNISTError(
                f"{path} is a symbolic link: refused (it could publish a file from outside the export). {_FIX}"
            )
        if path.is_file():
            found[rel] = path
    if sorted(found) != sorted(recorded):
        extra, missing = sorted(set(found) - set(recorded)), sorted(set(recorded) - set(found))
        raise LDMNISTError(
            f"{folder} has changed since the export ("
            + "; ".join(
                x
                for x in (extra and f"new: {', '.join(extra)}", missing and f"gone: {', '.join(missing)}")
                if x
            )
            + f"). {_FIX}"
        )
    data = {}
    for rel, path in found.items():
        content = path.read_bytes()
        entry = recorded[rel]
        digest = hashlib.sha256(content).hexdigest()
        if not isinstance(entry, dict) or len(content) != entry.get("size") or digest != entry.get("sha256"):
            raise LDMNISTError(f"{path} has changed since the export (its SHA-256 or size differs). {_FIX}")
        data[rel] = content
    return data


def _missing_files(folder: Path, repo: Repo, source: str) -> list[str]:
    """What one repo's folder lacks for `push` to accept it (relative paths, or what is wrong)."""
    if repo.role.startswith("baseline:"):  # a baseline's predictions, results and card: no weights
        required = (
            "README.md",
            predictions_file(repo.config, source),
            eval_results_file(repo.config, source),
        )
    else:
        script = (family(source).metric_script,) if repo.role == "metric" else ()
        required = REQUIRED[repo.repo_type] + script
    missing = [f"{repo.folder}/{name}" for name in required if not (folder / name).is_file()]
    if repo.repo_type == "dataset" and not list(folder.glob("data/*.parquet")):
        missing.append(f"{repo.folder}/data/*.parquet")
    if repo.role in KINDS and (folder / "config.json").is_file():
        config = read_json(folder / "config.json", fix=_FIX)
        auto_map = config.get("auto_map") if isinstance(config, dict) else None
        auto_map = auto_map if isinstance(auto_map, dict) else {}
        if set(auto_map) != {"AutoConfig", "AutoModel"}:
            missing.append(f"{repo.folder}/config.json auto_map (AutoConfig, AutoModel)")
        modules = [str(ref).split(".")[0] for ref in auto_map.values()]
        missing += [f"{repo.folder}/{m}.py" for m in modules if not (folder / f"{m}.py").is_file()]
    return missing


def _check_fresh(export_dir: Path, repos: list[Repo], manifest: dict, source: str) -> None:
    """Each config's models are those its dataset was built from (middle layers: the manifest's), each config
    encodes the export's source dataset, and the metric knows each config's class VAE."""
    dataset = next(r for r in repos if r.role == "dataset")
    recorded = manifest.get("weights_sha256")
    recorded = recorded if isinstance(recorded, dict) else {}
    for repo in (r for r in repos if r.role in KINDS):
        folder = export_dir / dataset.folder / config_prefix(repo.config)
        record = read_json(folder / BUILD_RECORD, fix=_FIX)
        built = record.get("source", "mnist") if isinstance(record, dict) else None
        if built != source:
            raise LDMNISTError(
                f"The export in {export_dir} publishes {family(source).name}, but its {repo.config!r} config's "
                f"build record names the source dataset {str(built)[:80]!r}. {_FIX}"
            )
        published = sha256_file(export_dir / repo.folder / "model.safetensors")
        if repo.role == "middle_layers":
            by_kind = recorded.get(repo.config)
            expected = by_kind.get(repo.role) if isinstance(by_kind, dict) else None
        else:
            expected = record.get(f"{repo.role}_sha256") if isinstance(record, dict) else None
        if published != expected:
            what = "the dataset was built from" if repo.role != "middle_layers" else "the export recorded"
            raise LDMNISTError(
                f"The export in {export_dir} is stale: {repo.folder}/model.safetensors (sha256 {published[:12]}) "
                f"is not the {KINDS[repo.role].title} {what} ({str(expected)[:12]}). {_FIX}"
            )
    metric = next(r for r in repos if r.role == "metric")
    script = (export_dir / metric.folder / family(source).metric_script).read_text()
    if class_vaes_line(config_ids(repos)) not in script:
        raise LDMNISTError(
            f"The metric in {export_dir / metric.folder} does not name the exported class VAEs. {_FIX}"
        )


def read_export(export_dir: str | Path, namespace: str) -> list[Repo]:
    """The repositories of an export, after checking it is complete, for `namespace`, unchanged and fresh.

    Args:
        export_dir: a folder written by `ldmnist export`.
        namespace (`str`): the namespace it must have been exported for.

    Returns:
        `list[Repo]`: in upload order, each id derived from `namespace` and the registry.
    """
    check_namespace(namespace)
    export_dir = Path(export_dir)
    manifest = _read_manifest(export_dir, namespace)
    repos = _expected_repos(export_dir, manifest, namespace)
    source = _source(export_dir, manifest)
    missing = [name for r in repos for name in _missing_files(_inside(export_dir, r.folder), r, source)]
    if missing:
        raise LDMNISTError(
            f"The export in {export_dir} is incomplete (missing: {', '.join(missing)}). {_FIX}"
        )
    _check_fresh(export_dir, repos, manifest, source)
    return repos


def checked_files(export_dir: str | Path, namespace: str, repo: Repo) -> dict[str, bytes]:
    """The files of one repository of an export, checked right before upload: what `push` sends.

    The manifest's SHA-256 and size of every file, and for the dataset every data file against its build
    record (`verify_dataset`).
    """
    export_dir = Path(export_dir)
    manifest = _read_manifest(export_dir, namespace)
    folder = _inside(export_dir, repo.folder)
    entry = next((e for e in manifest["repos"] if e.get("folder") == repo.folder), {})
    data = _repo_files(folder, entry.get("files"))
    if repo.repo_type == "dataset":
        verify_dataset(folder)  # every config's data files, against their build records
    kept = set(filter_repo_objects(list(data), ignore_patterns=DEFAULT_IGNORE_PATTERNS))
    return {p: b for p, b in data.items() if p in kept}


def upload_files(folder: str | Path) -> list[tuple[str, int]]:
    """`(path in repo, size in bytes)` of what `push` sends from `folder`, sorted."""
    folder = Path(folder)
    paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    kept = filter_repo_objects(paths, ignore_patterns=DEFAULT_IGNORE_PATTERNS)
    return [(p, (folder / p).stat().st_size) for p in kept]


def plan_text(export_dir: str | Path, repos: list[Repo]) -> str:
    """What `push` uploads: per repo, its id, type and files with sizes."""
    lines = []
    for repo in repos:
        files = upload_files(Path(export_dir) / repo.folder)
        total = sum(size for _, size in files)
        lines.append(f"{repo.repo_id} ({repo.repo_type}): {len(files)} files, {total:,} bytes")
        lines += [f"  {size:>12,}  {path}" for path, size in files]
    return "\n".join(lines)


def push(
    namespace: str,
    export_dir: str | Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    dry_run: bool = False,
    private: bool = False,
    source: str | None = None,
    **export_kwargs,
) -> str:
    """Uploads every repository of an export through huggingface_hub's client; returns what it did.

    Args:
        namespace (`str`): the Hub user or organisation.
        export_dir (*optional*): a folder written by `ldmnist export` for `namespace`; default: export now
            into a temporary folder (with `export_kwargs`, `source` among them: `export`'s arguments).
        endpoint (`str`, *optional*): the Hub (default: `$HF_ENDPOINT`, else huggingface_hub's).
        token (`str`, *optional*): default: `$HF_TOKEN` or the token saved by `hf auth login`.
        dry_run (`bool`, defaults to `False`): check everything, print the plan, upload nothing.
        private (`bool`, defaults to `False`): create the repositories private.
        source (`str`, *optional*): the source dataset whose LD version is pushed (`export`'s `source`;
            default `"mnist"`); with `export_dir`, the export's, which it must be when given.

    Returns:
        The plan (dry run) or one line per uploaded repository.
    """
    check_namespace(namespace)
    token = None if dry_run else resolve_token(token)
    if not dry_run and not token:
        raise LDMNISTError(
            "No Hub token: pass `token`, set HF_TOKEN, or log in once with `hf auth login` (a write token)."
        )
    endpoint = check_endpoint(endpoint, sends_token=not dry_run)
    if export_dir is None:
        with tempfile.TemporaryDirectory(prefix="ldmnist-export-") as tmp:
            export(namespace, Path(tmp) / "export", source=source or "mnist", **export_kwargs)
            return _push(namespace, Path(tmp) / "export", endpoint, token, dry_run, private)
    if source is not None:
        exported = _source(Path(export_dir), _read_manifest(Path(export_dir), namespace))
        if exported != source:
            raise LDMNISTError(
                f"{export_dir} is an export of {family(exported).name} (source dataset {exported}), not of "
                f"{family(source).name} (`source` {source}): export {source} first (`ldmnist export --source "
                f"{source}`), or push this one without `source`."
            )
    return _push(namespace, Path(export_dir), endpoint, token, dry_run, private)


def _push(namespace, export_dir: Path, endpoint: str, token, dry_run: bool, private: bool) -> str:
    repos = read_export(export_dir, namespace)
    title = ld_title(_source(export_dir, _read_manifest(export_dir, namespace)))
    # Every file of every repository is read and checked before the first request; those bytes are sent.
    contents = {repo.repo_id + repo.repo_type: checked_files(export_dir, namespace, repo) for repo in repos}
    if dry_run:
        files = sum(len(c) for c in contents.values())
        return (
            f"Dry run, nothing uploaded: {len(repos)} repositories ({files} files, all checked) would go to "
            f"{endpoint}:\n{plan_text(export_dir, repos)}"
        )
    api = HfApi(endpoint=endpoint, token=token)
    try:
        user = api.whoami()  # reachability and the token, before anything is created
    except Exception as e:  # network and HTTP errors of several libraries: report them in one line
        raise LDMNISTError(
            f"Could not reach {endpoint} with your token ({first_line(e)}); nothing was uploaded. Check the "
            f"network, the endpoint and the token (`hf auth login`)."
        ) from e
    name = user.get("name", "?") if isinstance(user, dict) else "?"
    logger.info("Pushing to %s as %s", endpoint, redact(str(name)))
    done, revision = [], None
    for repo in repos:
        files = contents[repo.repo_id + repo.repo_type]
        try:
            if repo.role.startswith("baseline:"):
                files = _stamped_baseline(api, repo, files, repos, revision, endpoint)
            if repo.role == "dataset" and LEADERBOARD_FILE not in files:
                _warn_if_leaderboard_is_reset(api, repo.repo_id)
            api.create_repo(
                repo.repo_id,
                repo_type=repo.repo_type,
                private=private,
                exist_ok=True,
                **({"space_sdk": "gradio"} if repo.repo_type == "space" else {}),
            )
            with predictions_are_intended(), commits_to(endpoint):
                info = api.create_commit(
                    repo.repo_id,
                    repo_type=repo.repo_type,
                    operations=[CommitOperationAdd(path, content) for path, content in files.items()],
                    commit_message=f"Upload {title} with ldmnist-hf",
                )
        except Exception as e:  # as above: one line, and what was already uploaded
            raise LDMNISTError(
                f"Could not push {repo.repo_id} ({repo.repo_type}) to {endpoint}: {first_line(e)}. Already "
                f"pushed: {', '.join(done) or 'nothing'}; run the same command again to finish."
            ) from e
        done.append(repo.repo_id)
        if repo.role == "dataset":
            revision = info.oid  # the baselines that follow are scored on this revision
        logger.info("  %s (%s): %s", repo.repo_id, repo.repo_type, getattr(info, "commit_url", info))
    return "\n".join(f"{r.repo_id} ({r.repo_type})" for r in repos)


def _stamped_baseline(
    api: HfApi, repo: Repo, files: dict[str, bytes], repos: list[Repo], revision: str, endpoint: str
) -> dict[str, bytes]:
    """A baseline's files as `ldmnist submit` writes them: its predictions scored on the dataset revision just
    pushed, that revision in its results (model-index and `.eval_results`), its exported card kept."""
    dataset = next(r.repo_id for r in repos if r.role == "dataset")
    split = fetch_test_split(api, dataset, repo.config, revision, config_prefix(repo.config))
    with tempfile.TemporaryDirectory(prefix="ldmnist-baseline-") as tmp:
        path = Path(tmp) / "predictions.parquet"
        path.write_bytes(files[predictions_file(repo.config, split.source)])
        predictions = metric_module().read_predictions(path)
    scores = split.score(predictions)
    card = files["README.md"].decode("utf-8")
    return {**files, **submission_files(repo.repo_id, split, predictions, scores, endpoint, card)}


def _warn_if_leaderboard_is_reset(api: HfApi, dataset: str) -> None:
    """The card about to be pushed has no leaderboard; say so when the Hub's copy has one."""
    try:
        published = api.file_exists(dataset, LEADERBOARD_FILE, repo_type="dataset")
    except Exception:  # noqa: BLE001 - a new repository
        published = False
    if published:
        logger.warning(
            "%s has a leaderboard; this push resets its card's leaderboard block (leaderboard.json stays). Run "
            "`ldmnist leaderboard --dataset-repo %s --push` afterwards, or export with --leaderboard FILE.",
            dataset,
            dataset,
        )
