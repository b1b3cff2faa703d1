"""LD-MNIST as Hugging Face Hub repositories: `export` writes one folder per repo, `push` uploads them.

Repositories for a namespace `NS` (see README, "Publishing"):

- dataset `NS/ldmnist`: `data/*.parquet`, the card, the figures, the build record, `.gitattributes`;
- models `NS/ldmnist-image-vae-32`, `NS/ldmnist-class-vae-32`, `NS/ldmnist-middle-layers-32`
  (`NS/ldmnist-<shipped name>` for another shipped set, `NS/ldmnist-<kind>-<L>` for a folder): weights,
  config.json with `auto_map`, the configuration and modeling code, the card with `model-index`;
- metric Space `NS/ldmnist`: the metric script, `app.py`, `requirements.txt`, the metric card.

`push` uploads an export as written (after checking it), or exports first: one code path. Everything is
checked before the first upload: the namespace, the export, the token, the endpoint.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from huggingface_hub import HfApi, SpaceCard, SpaceCardData, constants, get_token, hf_hub_download
from huggingface_hub.utils import (
    DEFAULT_IGNORE_PATTERNS,
    HFValidationError,
    filter_repo_objects,
    validate_repo_id,
)

from . import METRIC_PATH
from .builder import build_dataset, latent_statistics, render_card
from .loading import MODEL_CLASSES, PRETRAINED, load_pretrained, pretrained_path
from .readers import load_latents, read_build_info
from .release import render_model_card
from .training_args import MODEL_DIRS, with_older_metrics
from .utils import LDMNISTError, atomic_dir, log, read_json, replace_block, sha256_file

KINDS = ("image_vae", "class_vae", "middle_layers")
MANIFEST = "ldmnist_export.json"
DATASET_NAME = METRIC_NAME = "ldmnist"
# What each repo must hold for `push` to accept it (beyond what the manifest lists).
REQUIRED = {
    "dataset": ("README.md", ".gitattributes", "ldmnist_build.json"),
    "model": ("README.md", "config.json", "model.safetensors"),
    "space": ("README.md", f"{METRIC_NAME}.py", "app.py", "requirements.txt"),
}
_DEFAULT_LINE = "DEFAULT_CLASS_VAE = None\n"  # the package metric's line that the Space's copy fills in
_NAMESPACE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")


@dataclasses.dataclass(frozen=True)
class Repo:
    """One Hub repository of an export.

    Args:
        role (`str`): `"dataset"`, `"metric"` or one of `KINDS`.
        repo_id (`str`): `"NS/name"`.
        repo_type (`str`): `"dataset"`, `"model"` or `"space"`.
        folder (`str`): its folder, relative to the export folder.
    """

    role: str
    repo_id: str
    repo_type: str
    folder: str


def check_namespace(namespace: str) -> str:
    """The namespace, if it can own Hub repositories (a user or organisation name); else a clear error."""
    ok = isinstance(namespace, str) and bool(_NAMESPACE.match(namespace)) and "--" not in namespace
    if ok:
        try:
            validate_repo_id(f"{namespace}/{DATASET_NAME}")
        except HFValidationError:
            ok = False
    if not ok or ".." in namespace:
        raise LDMNISTError(
            f"--namespace {namespace!r} is not a Hub user or organisation name: use letters, digits, '-', "
            f"'_' or '.', starting and ending with a letter or digit (for example: your Hub user name)."
        )
    return namespace


def repo_ids(namespace: str, model_names: dict[str, str]) -> dict[str, str]:
    """The repository id of each role: `dataset`, `metric` and the three models.

    Args:
        namespace (`str`): the Hub user or organisation.
        model_names (`dict`): per kind, the model's name (a shipped name like `"class-vae-32"`).
    """
    ids = {"dataset": f"{namespace}/{DATASET_NAME}", "metric": f"{namespace}/{METRIC_NAME}"}
    ids.update({kind: f"{namespace}/ldmnist-{model_names[kind]}" for kind in KINDS})
    return ids


def model_set(name: str) -> dict[str, str]:
    """The shipped names of a model set: `"fast"` (the default: `image-vae-32`, ...) or `"<set>"`, whose
    models are shipped as `image-vae-32-<set>`, ... (adding them to `PRETRAINED` is all it takes)."""
    suffix = "" if name == "fast" else f"-{name}"
    names = {kind: f"{MODEL_DIRS[kind]}-32{suffix}" for kind in KINDS}
    if not all(n in PRETRAINED for n in names.values()):
        sets = ["fast"] + sorted(
            {k[len("image-vae-32-") :] for k in PRETRAINED if k.startswith("image-vae-32-")}
            & {k[len("class-vae-32-") :] for k in PRETRAINED if k.startswith("class-vae-32-")}
            & {k[len("middle-layers-32-") :] for k in PRETRAINED if k.startswith("middle-layers-32-")}
        )
        raise LDMNISTError(f"Unknown model set {name!r}; shipped sets: {', '.join(sets)}.")
    return names


def _weights_file(source) -> Path:
    """The `model.safetensors` behind a shipped name, a folder or a Hub id (downloaded to the cache)."""
    if str(source) in PRETRAINED:
        return pretrained_path(str(source)) / "model.safetensors"
    if Path(source).is_dir():
        return Path(source) / "model.safetensors"
    return Path(hf_hub_download(str(source), "model.safetensors"))


def _evaluation_for(weights: Path, kind: str, sha256: str) -> dict:
    """The `ldmnist release` evaluation (beside the model folder) that measured exactly these weights."""
    candidates = sorted(weights.parent.parent.glob("evaluation*.json"))
    for path in candidates:
        evaluation = read_json(path, fix="run `ldmnist release` again for those models.")
        if not isinstance(evaluation, dict) or "metrics" not in evaluation:
            continue  # not a release's evaluation
        if evaluation.get("models", {}).get(kind, {}).get("sha256") == sha256:
            return {**evaluation, "metrics": with_older_metrics(evaluation["metrics"])}
    raise LDMNISTError(
        f"No evaluation of the weights in {weights.parent} (looked in "
        f"{', '.join(map(str, candidates)) or f'{weights.parent.parent}/evaluation*.json, none found'}): "
        f"its model card needs the figures `ldmnist release` measures. Run `ldmnist release` for it first."
    )


def _copy_tree(src: Path, dst: Path, skip: tuple[str, ...]) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_file() and rel.parts[0] not in skip and not rel.name.startswith(".~"):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


def _block(text: str, name: str) -> str | None:
    """The content of a `<!-- name:start -->` ... `<!-- name:end -->` block of a card."""
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, flags=re.S)
    return match.group(1) if match else None


def _export_dataset(dataset_dir: Path, out: Path, repos: dict, weights_sha: dict) -> None:
    """The dataset repo: the built folder's files, a card with the Hub ids, the Hub's `.gitattributes`."""
    info = read_build_info(dataset_dir)
    for kind in ("image_vae", "class_vae"):
        built_from = info.get(f"{kind}_sha256")
        if built_from != weights_sha[kind]:
            raise LDMNISTError(
                f"The dataset in {dataset_dir} was built from other {kind.replace('_', ' ')} weights than the "
                f"model repository {repos[kind]} holds (sha256 {str(built_from)[:12]} vs "
                f"{weights_sha[kind][:12]}): a stale export. Rebuild it with `ldmnist build --image-vae ... "
                f"--class-vae ...` from these models, or export without --dataset to build it."
            )
    if not list((dataset_dir / "data").glob("*.parquet")):
        raise LDMNISTError(
            f"{dataset_dir} holds no data/*.parquet: is it a folder written by `ldmnist build`?"
        )
    _copy_tree(dataset_dir, out, skip=("README.md", ".gitattributes"))
    x, y = load_latents(dataset_dir, "train")
    info["download_size"] = sum(p.stat().st_size for p in (out / "data").glob("*.parquet"))
    built_card = (dataset_dir / "README.md").read_text()
    card = render_card(info, latent_statistics(x, y), _block(built_card, "benchmark"), repos=repos)
    (out / "README.md").write_text(card)
    report = _block(built_card, "report")
    if report is not None:  # the figures `ldmnist report` embedded, with their relative links
        replace_block(out / "README.md", "report", report)
    shutil.copy(Path(__file__).parent / "cards" / "gitattributes", out / ".gitattributes")


class MetricCard(SpaceCard):
    """The metric Space's card, as its template renders it.

    `SpaceCard` re-dumps the YAML header when turned into text, which would refold the description that
    evaluate's metric-card layout writes as a folded block (`>-`); the parsed `data` is the same either way.
    """

    def __init__(self, content: str, ignore_metadata_errors: bool = False):
        super().__init__(content, ignore_metadata_errors=ignore_metadata_errors)
        self.rendered = content

    def __str__(self) -> str:
        return self.rendered


def _metric_card_context(repos: dict | None) -> dict:
    """What differs between the Space's card (`repos` given: Hub ids) and the package's copy."""
    if repos is None:
        return {
            "dataset": DATASET_NAME,
            "class_vae_note": "here the shipped class VAE, through `ldmnist_hf.load_metric()`",
            "imports": "import ldmnist_hf",
            "load": "metric = ldmnist_hf.load_metric()  # class decoder: the shipped 32-d class VAE",
            "other": 'ldmnist_hf.load_metric(class_vae="path/or/hub-id")',
        }
    class_vae, metric = repos["class_vae"], repos["metric"]
    return {
        "dataset": repos["dataset"],
        "class_vae_note": f"by default the class VAE [{class_vae}](https://huggingface.co/{class_vae})",
        "imports": "import evaluate",
        "load": f'metric = evaluate.load("{metric}")  # class decoder: {class_vae}',
        "other": f'evaluate.load("{metric}", class_vae="path/or/hub-id")',
    }


def render_metric_card(repos: dict | None = None) -> str:
    """The metric card (evaluate's template) for the Space (`repos` given) or the package's copy.

    Args:
        repos (`dict`, *optional*): the Hub ids by role (`repo_ids`); without them, the card of the
            package's metric (`ldmnist_hf/metrics/ldmnist/README.md`).

    Returns:
        `str`: the card, front matter and body, rendered from `cards/metric_card.md` by `SpaceCard`.
    """
    context = _metric_card_context(repos)
    card = MetricCard.from_template(
        SpaceCardData(sdk="gradio", app_file="app.py", datasets=[context["dataset"]]),
        template_path=str(Path(__file__).parent / "cards" / "metric_card.md"),
        **context,
    )
    return str(card)


def _export_metric(out: Path, repos: dict) -> None:
    """The metric Space: the package's metric script with the namespace's class VAE as its default."""
    script = (Path(METRIC_PATH) / f"{METRIC_NAME}.py").read_text()
    if script.count(_DEFAULT_LINE) != 1:  # the one line that differs; a test keeps it there
        raise LDMNISTError(
            f"{METRIC_PATH}/{METRIC_NAME}.py has no line {_DEFAULT_LINE.strip()!r} to fill in."
        )
    (out / f"{METRIC_NAME}.py").write_text(
        script.replace(_DEFAULT_LINE, f"DEFAULT_CLASS_VAE = {repos['class_vae']!r}\n")
    )
    (out / "app.py").write_text(
        "import evaluate\nfrom evaluate.utils import launch_gradio_widget\n\n"
        f'module = evaluate.load("{repos["metric"]}")\nlaunch_gradio_widget(module)\n'
    )
    (out / "requirements.txt").write_text(
        "evaluate>=0.4.3\ndatasets>=4.0\nnumpy>=1.26\nsafetensors>=0.4.3\nhuggingface_hub>=0.26\n"
    )
    (out / "README.md").write_text(render_metric_card(repos))


def _model_names(sources: dict, models: dict) -> dict[str, str]:
    """Each model's repo name: its shipped name, or `<kind name>-<L>` for a folder; one latent size for all."""
    dims = {kind: m.config.latent_dim for kind, m in models.items()}
    if len(set(dims.values())) != 1:
        raise LDMNISTError(f"The models have different latent sizes {dims}; export a set trained together.")
    L = dims["image_vae"]
    return {
        kind: str(src) if str(src) in PRETRAINED else f"{MODEL_DIRS[kind]}-{L}"
        for kind, src in sources.items()
    }


def plan_repos(ids: dict[str, str]) -> list[Repo]:
    """The repositories of an export in upload order (models, dataset, metric), from `repo_ids`."""
    return [
        *(Repo(kind, ids[kind], "model", f"models/{ids[kind].split('/')[1]}") for kind in KINDS),
        Repo("dataset", ids["dataset"], "dataset", f"datasets/{DATASET_NAME}"),
        Repo("metric", ids["metric"], "space", f"spaces/{METRIC_NAME}"),
    ]


def _export_model(folder: Path, kind: str, model, weights: Path, evaluation: dict, ids: dict) -> None:
    """A model repo: config.json with auto_map and the modeling code, the weights, the card."""
    model.save_pretrained(folder)
    # The weights byte for byte as they were loaded: the file the dataset's build record names.
    shutil.copyfile(weights, folder / "model.safetensors")
    card = render_model_card(kind, model.config.to_dict(), evaluation["metrics"], evaluation["training"], ids)
    (folder / "README.md").write_text(card)


def export(
    namespace: str,
    output_dir: str | Path,
    dataset: str | Path | None = None,
    image_vae: str | Path = "image-vae-32",
    class_vae: str | Path = "class-vae-32",
    middle_layers: str | Path = "middle-layers-32",
    overwrite: bool = False,
    mnist_source="auto",
) -> list[Repo]:
    """Writes one folder per Hub repository into `output_dir` (atomically) and its manifest.

    Args:
        namespace (`str`): the Hub user or organisation that will own the repositories.
        output_dir: the export folder to create.
        dataset (*optional*): a folder written by `ldmnist build` from these VAEs; default: build it here.
        image_vae, class_vae, middle_layers: shipped names or folders (written by `ldmnist release`).
        overwrite (`bool`, defaults to `False`): replace an existing `output_dir`.
        mnist_source: MNIST for the build when `dataset` is not given (see `load_mnist`).

    Returns:
        The repositories, in upload order (models, dataset, metric).
    """
    check_namespace(namespace)
    sources = {"image_vae": image_vae, "class_vae": class_vae, "middle_layers": middle_layers}
    models = {kind: load_pretrained(src, MODEL_CLASSES[kind]) for kind, src in sources.items()}
    ids = repo_ids(namespace, _model_names(sources, models))
    repos = plan_repos(ids)
    weights = {kind: _weights_file(src) for kind, src in sources.items()}
    sha = {kind: sha256_file(path) for kind, path in weights.items()}
    evaluations = {kind: _evaluation_for(weights[kind], kind, sha[kind]) for kind in KINDS}
    output_dir = Path(output_dir)
    with atomic_dir(output_dir, overwrite=overwrite) as tmp:
        for repo in repos[:3]:
            k = repo.role
            _export_model(tmp / repo.folder, k, models[k], weights[k], evaluations[k], ids)
        if dataset is None:
            dataset = build_dataset(
                tmp / ".build", image_vae=str(image_vae), class_vae=str(class_vae), mnist_source=mnist_source
            )
        (tmp / repos[3].folder).mkdir(parents=True)
        _export_dataset(Path(dataset), tmp / repos[3].folder, ids, sha)
        shutil.rmtree(tmp / ".build", ignore_errors=True)
        (tmp / repos[4].folder).mkdir(parents=True)
        _export_metric(tmp / repos[4].folder, ids)
        manifest = {
            "namespace": namespace,
            "repos": [dataclasses.asdict(r) for r in repos],
            "weights_sha256": sha,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"Exported {len(repos)} repositories for {namespace} to {output_dir}")
    return repos


def _read_manifest(export_dir: Path, namespace: str) -> dict:
    path = export_dir / MANIFEST
    if not path.is_file():
        raise LDMNISTError(f"{export_dir} is not an export (no {MANIFEST}): write one with `ldmnist export`.")
    manifest = json.loads(path.read_text())
    if manifest["namespace"] != namespace:
        raise LDMNISTError(
            f"{export_dir} was exported for namespace {manifest['namespace']!r}, not {namespace!r}: its cards "
            f"name those repositories. Export again with --namespace {namespace}."
        )
    return manifest


def _missing_files(export_dir: Path, repo: Repo) -> list[str]:
    """What one repo's folder lacks for `push` to accept it (relative paths, or what is wrong)."""
    folder = export_dir / repo.folder
    missing = [f"{repo.folder}/{name}" for name in REQUIRED[repo.repo_type] if not (folder / name).is_file()]
    if repo.repo_type == "dataset" and not list(folder.glob("data/*.parquet")):
        missing.append(f"{repo.folder}/data/*.parquet")
    if repo.repo_type == "model" and (folder / "config.json").is_file():
        auto_map = json.loads((folder / "config.json").read_text()).get("auto_map", {})
        if set(auto_map) != {"AutoConfig", "AutoModel"}:
            missing.append(f"{repo.folder}/config.json auto_map (AutoConfig, AutoModel)")
        modules = [ref.split(".")[0] for ref in auto_map.values()]
        missing += [f"{repo.folder}/{m}.py" for m in modules if not (folder / f"{m}.py").is_file()]
    return missing


def _check_fresh(export_dir: Path, by_role: dict, manifest: dict) -> None:
    """Each model's weights are those the dataset was built from (middle layers: the manifest's), and the
    metric defaults to the exported class VAE."""
    record = json.loads((export_dir / by_role["dataset"].folder / "ldmnist_build.json").read_text())
    for kind in KINDS:
        published = sha256_file(export_dir / by_role[kind].folder / "model.safetensors")
        expected = (
            record.get(f"{kind}_sha256") if kind != "middle_layers" else manifest["weights_sha256"][kind]
        )
        if published != expected:
            what = "the dataset was built from" if kind != "middle_layers" else "the export recorded"
            raise LDMNISTError(
                f"The export in {export_dir} is stale: {by_role[kind].folder}/model.safetensors (sha256 "
                f"{published[:12]}) is not the {kind.replace('_', ' ')} {what} ({str(expected)[:12]}). "
                f"Run `ldmnist export` again."
            )
    script = (export_dir / by_role["metric"].folder / f"{METRIC_NAME}.py").read_text()
    if f"DEFAULT_CLASS_VAE = {by_role['class_vae'].repo_id!r}\n" not in script:
        raise LDMNISTError(
            f"The metric in {export_dir}/{by_role['metric'].folder} does not default to the class VAE "
            f"{by_role['class_vae'].repo_id}; run `ldmnist export` again."
        )


def read_export(export_dir: str | Path, namespace: str) -> list[Repo]:
    """The repositories of an export, after checking it is complete, for `namespace` and not stale.

    Args:
        export_dir: a folder written by `ldmnist export`.
        namespace (`str`): the namespace it must have been exported for.

    Returns:
        `list[Repo]`: in upload order.
    """
    export_dir = Path(export_dir)
    manifest = _read_manifest(export_dir, namespace)
    repos = [Repo(**r) for r in manifest["repos"]]
    by_role = {r.role: r for r in repos}
    missing = [name for repo in repos for name in _missing_files(export_dir, repo)]
    if set(by_role) != {"dataset", "metric", *KINDS}:
        missing.append(f"repositories {sorted({'dataset', 'metric', *KINDS} - set(by_role))}")
    if missing:
        raise LDMNISTError(
            f"The export in {export_dir} is incomplete (missing: {', '.join(missing)}); run `ldmnist export` again."
        )
    _check_fresh(export_dir, by_role, manifest)
    return repos


def upload_files(folder: str | Path) -> list[tuple[str, int]]:
    """`(path in repo, size in bytes)` of what `upload_folder` sends from `folder`, sorted."""
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


def check_endpoint(endpoint: str, sends_token: bool) -> str:
    """The endpoint URL, refused when a token would go over plain http to another host than loopback."""
    url = urlparse(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise LDMNISTError(
            f"--endpoint {endpoint!r} is not an http(s) URL (for example https://huggingface.co)."
        )
    if url.scheme == "http" and sends_token:
        host = url.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise LDMNISTError(
                f"Refusing to send your Hub token over plain http to {host}: use an https endpoint "
                f"(plain http is allowed only to this machine: 127.0.0.1, localhost, ::1)."
            )
    return endpoint.rstrip("/")


def push(
    namespace: str,
    export_dir: str | Path | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    dry_run: bool = False,
    private: bool = False,
    **export_kwargs,
) -> str:
    """Uploads every repository of an export through huggingface_hub's client; returns what it did.

    Args:
        namespace (`str`): the Hub user or organisation.
        export_dir (*optional*): a folder written by `ldmnist export` for `namespace`; default: export now
            into a temporary folder (with `export_kwargs`).
        endpoint (`str`, *optional*): the Hub (default: `$HF_ENDPOINT`, else huggingface_hub's).
        token (`str`, *optional*): default: `$HF_TOKEN` or the token saved by `hf auth login`.
        dry_run (`bool`, defaults to `False`): check everything, print the plan, upload nothing.
        private (`bool`, defaults to `False`): create the repositories private.

    Returns:
        The plan (dry run) or one line per uploaded repository.
    """
    check_namespace(namespace)
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT
    token = None if dry_run else (token or get_token())
    if not dry_run and not token:
        raise LDMNISTError(
            "No Hub token: pass --token, set HF_TOKEN, or log in once with `hf auth login` (a write token)."
        )
    endpoint = check_endpoint(endpoint, sends_token=not dry_run)
    if export_dir is None:
        with tempfile.TemporaryDirectory(prefix="ldmnist-export-") as tmp:
            export(namespace, Path(tmp) / "export", **export_kwargs)
            return _push(namespace, Path(tmp) / "export", endpoint, token, dry_run, private)
    return _push(namespace, Path(export_dir), endpoint, token, dry_run, private)


def _push(namespace, export_dir: Path, endpoint: str, token, dry_run: bool, private: bool) -> str:
    repos = read_export(export_dir, namespace)
    if dry_run:
        return plan_text(export_dir, repos)
    api = HfApi(endpoint=endpoint, token=token)
    try:
        user = api.whoami()  # reachability and the token, before anything is created
    except Exception as e:  # network and HTTP errors of several libraries: report them in one line
        raise LDMNISTError(
            f"Could not reach {endpoint} with your token ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}); nothing was uploaded. Check the network, the "
            f"endpoint and the token (`hf auth login`)."
        ) from e
    log(f"Pushing to {endpoint} as {user.get('name', '?')}")
    done = []
    for repo in repos:
        try:
            api.create_repo(
                repo.repo_id,
                repo_type=repo.repo_type,
                private=private,
                exist_ok=True,
                **({"space_sdk": "gradio"} if repo.repo_type == "space" else {}),
            )
            info = api.upload_folder(
                folder_path=str(export_dir / repo.folder),
                repo_id=repo.repo_id,
                repo_type=repo.repo_type,
                commit_message="Upload LD-MNIST with ldmnist-hf",
            )
        except Exception as e:  # as above: one line, and what was already uploaded
            raise LDMNISTError(
                f"Could not push {repo.repo_id} ({repo.repo_type}) to {endpoint}: {type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}. Already pushed: "
                f"{', '.join(done) or 'nothing'}; run the same command again to finish."
            ) from e
        done.append(repo.repo_id)
        log(f"  {repo.repo_id} ({repo.repo_type}): {info}")
    return "\n".join(f"{r.repo_id} ({r.repo_type})" for r in repos)
