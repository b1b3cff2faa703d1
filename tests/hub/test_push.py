"""`ldmnist push` (hub/push.py): the plan, a token never printed, and an export that is not exactly what
`ldmnist export` wrote refused before any upload."""

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import IDS, NS
from helpers import bad_input_test, replace_file, run_ldmnist
from hub_stub import FAKE_TOKEN

from ldmnist_hf.cli import main
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.manifest import MANIFEST
from ldmnist_hf.hub.push import plan_text, push, read_export, upload_files
from ldmnist_hf.pretrained.loading import load_pretrained


def test_dry_run_prints_every_repo_with_its_files(exported, capsys):
    out, folders = exported
    assert main(["push", "--namespace", NS, "--export-dir", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    manifest = json.loads((out / MANIFEST).read_text())
    first = f"Dry run, nothing uploaded: {len(manifest['repos'])} repositories "
    assert printed.startswith(first) and "would go to https://huggingface.co:" in printed.splitlines()[0]
    for repo in manifest["repos"]:
        assert f"{repo['repo_id']} ({repo['repo_type']}): " in printed
        for path, size in upload_files(out / repo["folder"]):
            assert re.search(rf"^\s+{size:,}\s+{re.escape(path)}$", printed, flags=re.M), (repo, path)


def test_push_without_an_export_exports_the_same_repos(exported, benchmarked, variant16, caplog):
    """One code path: `push` with no --export-dir exports into a temporary folder, then uploads that.

    The 16-d variant was never benchmarked: the export says so, and what to run, instead of silently publishing
    a config without baselines."""
    out, _ = exported
    with caplog.at_level(logging.WARNING, logger="ldmnist_hf"):
        plan = push(NS, dry_run=True, dataset=benchmarked, variants={"ld16": variant16})
    assert plan.endswith("\n" + plan_text(out, read_export(out, NS)))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "'ld16' config" in warnings[0], warnings
    assert f"ldmnist benchmark --dataset {variant16}" in warnings[0]


def _copy_export(out: Path, dest: Path) -> Path:
    shutil.copytree(out, dest, copy_function=os.link)  # hard links: replace files, never edit them in place
    return dest


@pytest.mark.parametrize(
    "case, kwargs, error, fragment",
    [
        (
            "namespace with a slash",
            dict(namespace="me/you"),
            LDMNISTError,
            "is not a Hub user or organisation",
        ),
        (
            "namespace starting with -",
            dict(namespace="-me"),
            LDMNISTError,
            "is not a Hub user or organisation",
        ),
        ("empty namespace", dict(namespace=""), LDMNISTError, "is not a Hub user or organisation"),
        ("namespace with --", dict(namespace="a--b"), LDMNISTError, "is not a Hub user or organisation"),
        ("no token", dict(token=None), LDMNISTError, "No Hub token: pass `token`"),
        (
            "plain http elsewhere",
            dict(endpoint="http://example.com"),
            LDMNISTError,
            "over plain http to example.com",
        ),
        ("plain http on a LAN", dict(endpoint="http://192.168.1.5:8080"), LDMNISTError, "over plain http"),
        ("not a URL", dict(endpoint="ftp://hub"), LDMNISTError, "is not an http(s) URL"),
        (
            "unreachable endpoint",
            dict(endpoint="http://127.0.0.1:9"),
            LDMNISTError,
            "Could not reach http://127",
        ),
        ("other namespace", dict(namespace="someone-else"), LDMNISTError, "was exported for namespace"),
        ("not an export", dict(mutate="manifest"), LDMNISTError, "is not an export (no ldmnist_export.json)"),
        ("incomplete: no weights", dict(mutate="weights"), LDMNISTError, "is incomplete (missing: models/"),
        ("incomplete: no code", dict(mutate="code"), LDMNISTError, "modeling_class_vae.py"),
        ("incomplete: no parquet", dict(mutate="parquet"), LDMNISTError, "datasets/ldmnist/data/*.parquet"),
        (
            "stale: other class VAE",
            dict(mutate="stale"),
            LDMNISTError,
            "is stale: models/ldmnist-class-vae-32",
        ),
        ("metric default", dict(mutate="metric"), LDMNISTError, "does not name the exported class VAEs"),
    ],
)
def test_push_refuses_before_uploading(exported, tmp_path, monkeypatch, case, kwargs, error, fragment):
    out, _ = exported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no token saved by `hf auth login`
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    mutate = kwargs.pop("mutate", None)
    folder = out
    if mutate:
        folder = _copy_export(out, tmp_path / "export")
        cv = folder / "models" / "ldmnist-class-vae-32"
        if mutate == "manifest":
            (folder / MANIFEST).unlink()
        elif mutate == "weights":
            (cv / "model.safetensors").unlink()
        elif mutate == "code":
            (cv / "modeling_class_vae.py").unlink()
        elif mutate == "parquet":
            for p in (folder / "datasets" / "ldmnist" / "data").iterdir():
                p.unlink()
        elif mutate == "stale":
            from safetensors.torch import save_file

            torch.manual_seed(1)
            state = {k: torch.randn_like(v) for k, v in load_pretrained(cv).state_dict().items()}
            (cv / "model.safetensors").unlink()
            save_file(state, str(cv / "model.safetensors"), metadata={"format": "pt"})
        elif mutate == "metric":
            script = folder / "spaces" / "ldmnist" / "ldmnist.py"
            replace_file(script, script.read_bytes().replace(IDS["class_vae"].encode(), b"someone/else"))
    args = dict(namespace=NS, export_dir=folder, token="hf_test", endpoint="https://hub.invalid") | kwargs
    with pytest.raises(error, match=re.escape(fragment)):
        push(**args)


def _push_cli(hub, export_dir, tmp_path, token) -> subprocess.CompletedProcess:
    env = hub.env(tmp_path / "publisher", token=None)
    return run_ldmnist(["push", "--namespace", NS, "--export-dir", str(export_dir), "--token", token], env)


def test_a_crlf_token_pushes_and_no_token_is_ever_printed(hub, exported, tmp_path):
    token = "hf_" + "Zx9" * 11
    ok = _push_cli(hub, exported[0], tmp_path, token + "\r")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert token not in ok.stdout + ok.stderr
    bad = _push_cli(hub, exported[0], tmp_path, token[:8] + "\n" + token[8:])
    assert bad.returncode == 1 and token[:8] not in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stderr


# ----------------------------------------------------------------------------- a tampered export


def _edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    change(manifest)
    (folder / MANIFEST).unlink()
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _retarget(manifest, repo_id=None, folder=None):
    entry = manifest["repos"][0]
    entry["repo_id"] = repo_id or entry["repo_id"]
    entry["folder"] = folder or entry["folder"]


def _link_outside(folder: Path, tmp: Path) -> None:
    secret = tmp / "token"
    secret.write_text("hf_secret_that_must_stay_here")
    (folder / "models" / "ldmnist-class-vae-32" / "notes.txt").symlink_to(secret)


def _change_card(folder: Path, tmp: Path) -> None:
    card = folder / "models" / "ldmnist-class-vae-32" / "README.md"
    replace_file(card, card.read_bytes() + b"\nedited after the export\n")


def _flip_parquet_and_resign_manifest(folder: Path, tmp: Path) -> None:

    path = folder / "datasets" / "ldmnist" / "data" / "test-00000-of-00001.parquet"
    raw = bytearray(path.read_bytes())
    raw[-300] ^= 1
    replace_file(path, bytes(raw))
    record = {"sha256": hashlib.sha256(bytes(raw)).hexdigest(), "size": len(raw)}
    _edit_manifest(
        folder,
        lambda m: next(r for r in m["repos"] if r["role"] == "dataset")["files"].update(
            {"data/test-00000-of-00001.parquet": record}
        ),
    )


# (case, how the export is changed, fragment of the error); every case: nothing reaches the Hub.
TAMPERED = [
    (
        "manifest names another namespace's repo",
        lambda f, t: _edit_manifest(f, lambda m: _retarget(m, repo_id="someone-else/ldmnist-image-vae-32")),
        f"names other repositories than namespace '{NS}' and the registry give",
    ),
    (
        "manifest folder outside the export",
        lambda f, t: _edit_manifest(f, lambda m: _retarget(m, folder="../outside")),
        "names other repositories",
    ),
    (
        "manifest adds a repository",
        lambda f, t: _edit_manifest(
            f,
            lambda m: m["repos"].append(
                {**m["repos"][0], "repo_id": f"{NS}/extra", "folder": "models/extra"}
            ),
        ),
        "names other repositories",
    ),
    ("a link to a file outside", _link_outside, "is a symbolic link: refused"),
    ("a card changed after the export", _change_card, "has changed since the export"),
    (
        "a data file changed, the manifest re-signed",
        _flip_parquet_and_resign_manifest,
        "test-00000-of-00001.parquet has changed since the build",
    ),
    (
        "manifest claims the sibling's source dataset",
        lambda f, t: _edit_manifest(f, lambda m: m.update(source="fashion-mnist")),
        f"nothing is uploaded anywhere but {NS}/ld-fashion-mnist*",
    ),
    (
        "manifest names an unknown source dataset",
        lambda f, t: _edit_manifest(f, lambda m: m.update(source="kmnist")),
        "names the source dataset 'kmnist', not one of mnist, fashion-mnist",
    ),
]


@pytest.mark.parametrize("case, tamper, fragment", TAMPERED, ids=[t[0] for t in TAMPERED])
@pytest.mark.parametrize("dry_run", [False, True], ids=["push", "dry-run"])
def test_a_tampered_export_is_refused_before_any_upload(
    hub, exported, tmp_path, case, tamper, fragment, dry_run
):
    folder = _copy_export(exported[0], tmp_path / "export")
    tamper(folder, tmp_path)
    with pytest.raises(LDMNISTError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as e:
        push(NS, export_dir=folder, endpoint=hub.endpoint, token=FAKE_TOKEN, dry_run=dry_run)
    assert "hf_secret" not in str(e.value)
    assert hub.repos() == [] and not hub.requests("POST")


# ----------------------------------------------------------------------------- bad input: the source dataset


def _export_of(c, source: str) -> Path:
    """A folder holding only the manifest of an export of `source` (what `push` reads first)."""
    folder = c.tmp / "export"
    folder.mkdir()
    manifest = {"namespace": NS, "source": source, "configs": {"default": 32}, "repos": []}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


BAD_INPUT = [
    (
        "push-source-other-than-the-exports",
        lambda c: push(NS, export_dir=_export_of(c, "mnist"), source="fashion-mnist", dry_run=True),
        LDMNISTError,
        "is an export of ldmnist (source dataset mnist), not of ld-fashion-mnist (`source` fashion-mnist): "
        "export fashion-mnist first (`ldmnist export --source fashion-mnist`)",
    ),
    (
        "push-export-of-an-unknown-source",
        lambda c: push(NS, export_dir=_export_of(c, "kmnist"), dry_run=True),
        LDMNISTError,
        "ldmnist_export.json names the source dataset 'kmnist', not one of mnist, fashion-mnist",
    ),
    (
        "push-unknown-source",
        lambda c: push(NS, source="kmnist", dry_run=True),
        LDMNISTError,
        "Unknown source dataset 'kmnist' (`source`): the LD versions published as Hub repositories are those of "
        "mnist, fashion-mnist",
    ),
]
test_bad_input = bad_input_test(BAD_INPUT)
