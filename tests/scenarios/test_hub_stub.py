"""The Hub stand-in (tests/hub_stub.py) serves what the real clients ask for: each path runs end to end.

Uploads go through huggingface_hub's own client (in this process with an explicit endpoint, or in a
subprocess with `hub.env`), loads run in fresh interpreters that cannot import `ldmnist_hf` (nor the
test's own model package), as a user of the Hub would run them.
"""

import json
import socket
import subprocess
import sys
import textwrap

import huggingface_hub
import numpy as np
import pytest
from helpers import run_python
from hub_stub import DEFAULT_GITATTRIBUTES, FAKE_TOKEN, HubStub, git_blob_sha1
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

# The stand-in answers huggingface_hub >= 1.0 as these self-tests drive it (httpx2, RepoUrl.repo_type,
# branch creation). The package's own round trip (test_hub_roundtrip.py) also runs on the floor versions.
needs_hub_client_1 = pytest.mark.skipif(
    int(huggingface_hub.__version__.split(".")[0]) < 1,
    reason="the stand-in's self-tests use huggingface_hub >= 1.0 client features",
)


def _check(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-6000:]}"
    )
    return proc.stdout


def _last_json(stdout: str):
    return json.loads(stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- (1) datasets

DATASET_CARD = """\
---
license: mit
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: data/test-*
---
# tiny

Two splits of (x, y) rows.
"""


def test_the_suite_never_touches_the_users_hugging_face_cache():
    """conftest points HF_HOME at a scratch folder before huggingface_hub is imported: every cache and the
    token path are inside it, so no test reads what an earlier run (or the user) left in ~/.cache/huggingface."""
    import os
    from pathlib import Path

    import datasets.config
    from huggingface_hub import constants

    home = Path(os.environ["HF_HOME"])
    assert home != Path.home() / ".cache" / "huggingface"
    for path in (constants.HF_HUB_CACHE, constants.HF_TOKEN_PATH, datasets.config.HF_DATASETS_CACHE):
        assert Path(path).is_relative_to(home), path


def _write_dataset(folder):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "data").mkdir(parents=True)
    rows = {
        "train": {"x": [[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]], "y": [0, 1, 2]},
        "test": {"x": [[9.0, 8.0]], "y": [7]},
    }
    for split, columns in rows.items():
        table = pa.table(
            {"x": pa.array(columns["x"], pa.list_(pa.float32(), 2)), "y": pa.array(columns["y"], pa.int64())}
        )
        pq.write_table(table, folder / "data" / f"{split}-00000-of-00001.parquet")
    (folder / "README.md").write_text(DATASET_CARD)
    return rows


@needs_hub_client_1
def test_dataset_upload_folder_then_load_dataset(hub, tmp_path):
    rows = _write_dataset(tmp_path / "tiny")
    upload = f"""
import json
from huggingface_hub import HfApi
api = HfApi()
url = api.create_repo("ns/tiny", repo_type="dataset")
info = api.upload_folder(folder_path={str(tmp_path / "tiny")!r}, repo_id="ns/tiny", repo_type="dataset")
print(json.dumps({{"url": str(url), "repo_id": url.repo_id, "repo_type": url.repo_type, "oid": info.oid}}))
"""
    # HF_HUB_DISABLE_XET=1 (hub.env's default): upload_folder takes the single create_commit path
    out = _last_json(_check(run_python(upload, hub.env(tmp_path / "up"))))
    assert out["url"] == f"{hub.endpoint}/datasets/ns/tiny"
    assert (out["repo_id"], out["repo_type"]) == ("ns/tiny", "dataset")
    assert out["oid"] == hub.commits("ns/tiny", "dataset")[0]["sha"]
    stored = hub.repo_files("ns/tiny", "dataset")
    assert sorted(stored) == [
        ".gitattributes",
        "README.md",
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
    ]
    assert stored["README.md"].decode() == DATASET_CARD
    assert hub.requests("POST", "/api/validate-yaml"), "create_commit validates README.md's YAML first"

    load = """
import json
from datasets import load_dataset
ds = load_dataset("ns/tiny")
print(json.dumps({split: {"n": ds[split].num_rows, "features": str(ds[split].features), **ds[split].to_dict()} for split in ds}))
"""
    got = _last_json(_check(run_python(load, hub.env(tmp_path / "user", token=None))))
    assert sorted(got) == ["test", "train"]
    for split, columns in rows.items():
        assert got[split]["n"] == len(columns["y"])
        assert got[split]["x"] == columns["x"] and got[split]["y"] == columns["y"]
    assert "List(Value('float32'), length=2)" in got["train"]["features"]
    # datasets asked the dataset viewer (through the proxy guard) and was told there is no export
    assert hub.requests("GET", "datasets-server.")


def test_a_bad_card_is_refused_before_the_upload(hub, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "README.md").write_text("---\nconfigs: [unclosed\n---\n")
    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    api.create_repo("ns/bad", repo_type="dataset")
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.upload_folder(folder_path=folder, repo_id="ns/bad", repo_type="dataset")
    assert sorted(hub.repo_files("ns/bad", "dataset")) == [".gitattributes"]


# ---------------------------------------------------------------------------- (2) evaluate

METRIC = '''\
"""Mean absolute error, the tiniest evaluate metric."""
import datasets
import evaluate


class Tiny(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="mean absolute error",
            citation="",
            inputs_description="predictions, references: floats",
            features=datasets.Features({"predictions": datasets.Value("float32"), "references": datasets.Value("float32")}),
        )

    def _compute(self, predictions, references):
        return {"mae": sum(abs(p - r) for p, r in zip(predictions, references)) / len(predictions)}
'''


@needs_hub_client_1
def test_space_metric_then_evaluate_load(hub, tmp_path):
    folder = tmp_path / "space"
    folder.mkdir()
    (folder / "tiny.py").write_text(METRIC)
    (folder / "README.md").write_text(
        "---\ntitle: tiny\nsdk: gradio\napp_file: app.py\ntags: [evaluate, metric]\n---\n# tiny\n"
    )
    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    url = api.create_repo("ns/tiny", repo_type="space", space_sdk="gradio")
    assert url == f"{hub.endpoint}/spaces/ns/tiny"
    # in this process hf_xet is enabled: upload_folder takes the pipelined path (no validate-yaml call)
    api.upload_folder(folder_path=folder, repo_id="ns/tiny", repo_type="space")
    assert hub.repo_files("ns/tiny", "space")["tiny.py"].decode() == METRIC
    assert api.space_info("ns/tiny").sdk == "gradio"

    code = """
import json, evaluate
metric = evaluate.load("ns/tiny")
print(json.dumps(metric.compute(predictions=[1.0, 2.0, 4.0], references=[1.0, 3.0, 1.0])))
"""
    got = _last_json(_check(run_python(code, hub.env(tmp_path / "user", token=None))))
    assert got == {"mae": pytest.approx(4 / 3)}
    assert hub.requests("GET", "/spaces/ns/tiny/resolve/main/tiny.py")


# ---------------------------------------------------------------------------- (3) transformers

CONFIGURATION = """\
from transformers import PretrainedConfig


class TinyxConfig(PretrainedConfig):
    model_type = "tinyx"

    def __init__(self, width=3, **kwargs):
        self.width = width
        super().__init__(**kwargs)
"""

MODELING = """\
import torch
from transformers import PreTrainedModel

from .configuration_tinyx import TinyxConfig


class TinyxModel(PreTrainedModel):
    config_class = TinyxConfig
    main_input_name = "x"

    def __init__(self, config):
        super().__init__(config)
        self.linear = torch.nn.Linear(config.width, 2)
        self.post_init()

    def forward(self, x):
        return torch.tanh(self.linear(x))
"""


@needs_hub_client_1
def test_custom_code_model_then_from_pretrained_without_the_package(hub, tmp_path, monkeypatch):
    import torch

    package = tmp_path / "src" / "tinyx_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "configuration_tinyx.py").write_text(CONFIGURATION)
    (package / "modeling_tinyx.py").write_text(MODELING)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    from tinyx_pkg.configuration_tinyx import TinyxConfig
    from tinyx_pkg.modeling_tinyx import TinyxModel

    try:
        TinyxConfig.register_for_auto_class()
        TinyxModel.register_for_auto_class("AutoModel")
        torch.manual_seed(0)
        model = TinyxModel(TinyxConfig(width=3)).eval()
        model.save_pretrained(tmp_path / "model")
        x = torch.linspace(-1, 1, 6).reshape(2, 3)
        with torch.no_grad():
            expected = model(x).tolist()
    finally:
        for name in [m for m in sys.modules if m.startswith("tinyx_pkg")]:
            monkeypatch.delitem(sys.modules, name)
    saved = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert saved == ["config.json", "configuration_tinyx.py", "model.safetensors", "modeling_tinyx.py"]

    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    api.create_repo("ns/tiny-model")
    api.upload_folder(folder_path=tmp_path / "model", repo_id="ns/tiny-model")

    code = """
import json, torch
from transformers import AutoModel
model = AutoModel.from_pretrained("ns/tiny-model", trust_remote_code=True)
with torch.no_grad():
    out = model(torch.linspace(-1, 1, 6).reshape(2, 3))
print(json.dumps({"module": type(model).__module__, "out": out.tolist()}))
"""
    proc = run_python(code, hub.env(tmp_path / "user", token=None), blocked=("ldmnist_hf", "tinyx_pkg"))
    got = _last_json(_check(proc))
    assert got["module"].startswith("transformers_modules.") and got["module"].endswith("modeling_tinyx")
    np.testing.assert_array_equal(np.array(got["out"]), np.array(expected))
    downloaded = {
        r.path.rsplit("/", 1)[1] for r in hub.requests("GET", "/ns/tiny-model/resolve/") if r.status == 200
    }
    assert downloaded == {"config.json", "configuration_tinyx.py", "modeling_tinyx.py", "model.safetensors"}


# ---------------------------------------------------------------------------- (4) downloads and listings


@needs_hub_client_1
def test_hf_hub_download_and_hffilesystem_see_every_commit(hub, tmp_path):
    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    api.create_repo("ns/files", repo_type="dataset")
    first = api.upload_file(
        path_or_fileobj=b"one", path_in_repo="a/b/c.txt", repo_id="ns/files", repo_type="dataset"
    )
    api.upload_file(path_or_fileobj=b"top", path_in_repo="top.txt", repo_id="ns/files", repo_type="dataset")
    second = api.upload_file(
        path_or_fileobj=b"two!", path_in_repo="a/b/c.txt", repo_id="ns/files", repo_type="dataset"
    )
    assert len(first.oid) == 40 and first.oid != second.oid
    assert [c["title"] for c in hub.commits("ns/files", "dataset")][-1] == "initial commit"

    def download(revision):
        path = hf_hub_download(
            "ns/files",
            "a/b/c.txt",
            repo_type="dataset",
            revision=revision,
            endpoint=hub.endpoint,
            cache_dir=tmp_path / "cache",
        )
        with open(path, "rb") as f:
            return f.read()

    assert download("main") == b"two!"
    assert download(first.oid) == b"one"  # a commit sha as revision
    assert api.dataset_info("ns/files").sha == second.oid
    assert api.dataset_info("ns/files", revision=first.oid).sha == first.oid
    assert [r.name for r in api.list_repo_refs("ns/files", repo_type="dataset").branches] == ["main"]

    tree = {f.path: f for f in api.list_repo_tree("ns/files", repo_type="dataset", recursive=True)}
    assert sorted(tree) == [".gitattributes", "a", "a/b", "a/b/c.txt", "top.txt"]
    assert tree["a/b/c.txt"].size == 4 and tree["a/b/c.txt"].blob_id == git_blob_sha1(b"two!")
    expanded = api.get_paths_info(
        "ns/files", ["a/b/c.txt", "top.txt", "nope"], repo_type="dataset", expand=True
    )
    assert [(p.path, p.last_commit.oid) for p in expanded] == [
        ("a/b/c.txt", second.oid),
        ("top.txt", hub.commits("ns/files", "dataset")[1]["sha"]),
    ]
    assert api.file_exists("ns/files", "top.txt", repo_type="dataset")
    assert not api.file_exists("ns/files", "missing.txt", repo_type="dataset")

    fs = HfFileSystem(endpoint=hub.endpoint, token=FAKE_TOKEN)
    assert sorted(fs.ls("datasets/ns/files", detail=False)) == [
        "datasets/ns/files/.gitattributes",
        "datasets/ns/files/a",
        "datasets/ns/files/top.txt",
    ]
    assert fs.glob("datasets/ns/files/**/*.txt") == [
        "datasets/ns/files/a/b/c.txt",
        "datasets/ns/files/top.txt",
    ]
    assert fs.info("datasets/ns/files/a/b/c.txt")["size"] == 4
    assert fs.cat(f"datasets/ns/files@{first.oid}/a/b/c.txt") == b"one"
    with fs.open("datasets/ns/files/a/b/c.txt", "rb", block_size=2) as f:  # ranged reads
        f.seek(1)
        assert f.read(2) == b"wo"
    assert hub.repo_files("ns/files", "dataset")[".gitattributes"] == DEFAULT_GITATTRIBUTES.encode()


BAD_READS = [
    # (repo_id, filename, revision, exception, message fragment)
    ("ns/absent", "x.txt", None, RepositoryNotFoundError, "Repository Not Found"),
    ("ns/here", "x.txt", "no-such-branch", RevisionNotFoundError, "Revision Not Found"),
    ("ns/here", "missing.txt", None, EntryNotFoundError, "Entry Not Found"),
]


@pytest.mark.parametrize(("repo_id", "filename", "revision", "error", "fragment"), BAD_READS)
def test_bad_reads_raise_the_hub_errors(hub, tmp_path, repo_id, filename, revision, error, fragment):
    HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN).create_repo("ns/here")
    with pytest.raises(error, match=fragment):
        hf_hub_download(repo_id, filename, revision=revision, endpoint=hub.endpoint, cache_dir=tmp_path / "c")


@needs_hub_client_1
def test_repo_lifecycle_private_repos_and_chunked_bodies(hub):
    import httpx2

    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    url = api.create_repo("ns/life", private=True)
    assert api.create_repo("ns/life", exist_ok=True) == url
    with pytest.raises(HfHubHTTPError, match="409"):
        api.create_repo("ns/life")
    assert api.model_info("ns/life").private is True
    with pytest.raises(RepositoryNotFoundError):  # a private repo is invisible without a token
        HfApi(endpoint=hub.endpoint, token=False).model_info("ns/life")
    api.delete_repo("ns/life")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("ns/life")
    assert api.whoami()["name"] == "stub-user"
    assert api.create_repo("mine").repo_id == "stub-user/mine"  # no namespace: the user's

    chunked = httpx2.post(
        hub.endpoint + "/api/repos/create",
        content=iter([b'{"name": "chunked", ', b'"organization": "ns", "type": "dataset"}']),
        headers={"Authorization": f"Bearer {FAKE_TOKEN}"},
    )
    assert chunked.status_code == 200 and api.dataset_info("ns/chunked").id == "ns/chunked"


# ---------------------------------------------------------------------------- (5) writes need a token


def test_writes_without_a_token_get_401(hub, tmp_path):
    anonymous = HfApi(endpoint=hub.endpoint, token=False)
    with pytest.raises(HfHubHTTPError, match="401") as info:
        anonymous.create_repo("ns/nope")
    assert info.value.response.status_code == 401
    assert "Authorization: Bearer <token>" in str(info.value)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info("ns/nope")  # nothing was created

    HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN).create_repo("ns/yes")
    with pytest.raises(HfHubHTTPError, match="401"):
        anonymous.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="ns/yes")
    assert sorted(hub.repo_files("ns/yes")) == [".gitattributes"]
    assert hub.repos() == [("model", "ns/yes")]
    # the log says which requests carried a token
    assert [(r.path, r.authorized) for r in hub.requests("POST", "/api/repos/create")] == [
        ("/api/repos/create", False),
        ("/api/repos/create", True),
    ]

    # a user without HF_TOKEN, in a subprocess
    code = 'from huggingface_hub import create_repo\ncreate_repo("ns/sub", repo_type="dataset")'
    proc = run_python(code, hub.env(tmp_path / "anon", token=None))
    assert proc.returncode == 1 and "401" in proc.stderr and "HF_TOKEN" in proc.stderr


# ---------------------------------------------------------------------------- the stub itself


@needs_hub_client_1
def test_unknown_requests_and_requests_beyond_loopback_are_recorded(hub, tmp_path):
    api = HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)
    api.create_repo("ns/x")
    with pytest.raises(HfHubHTTPError):
        api.create_branch("ns/x", branch="dev")  # not served by the stand-in
    code = textwrap.dedent(
        """
        import httpx2
        for url in ("http://example.invalid/x", "https://huggingface.co/api/models/gpt2"):
            try:
                print(httpx2.get(url, timeout=5).status_code)
            except httpx2.HTTPError as err:
                print(type(err).__name__)
        """
    )
    out = _check(run_python(code, hub.env(tmp_path / "env"), blocked=()))
    assert out.split() == ["502", "ProxyError"]
    unknown = hub.unknown
    assert unknown[0] == "POST /api/models/ns/x/branch/dev"
    assert "http://example.invalid/x" in unknown[1] and unknown[2].startswith("CONNECT huggingface.co:443")
    hub.clear_unknown()  # provoked on purpose


def test_the_env_hides_real_settings_and_the_python_hides_the_package(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_real_token_must_not_leak")
    env = hub.env(tmp_path / "home")
    assert env["HF_ENDPOINT"] == hub.endpoint and env["HF_TOKEN"] == FAKE_TOKEN
    assert "HF_HUB_OFFLINE" not in env and env["HF_HUB_DISABLE_XET"] == "1"
    assert "HF_TOKEN" not in hub.env(tmp_path / "home", token=None)

    probe = "import ldmnist_hf; print(ldmnist_hf.__file__)"
    assert _check(run_python(probe, env, blocked=())).strip().endswith("__init__.py")  # the editable install
    blocked = run_python(probe, env)
    assert blocked.returncode == 1 and "ModuleNotFoundError: No module named 'ldmnist_hf'" in blocked.stderr
    blocked = run_python("from ldmnist_hf.errors import LDMNISTError", env)
    assert "No module named 'ldmnist_hf" in blocked.stderr


def test_stop_frees_the_port(tmp_path):
    with HubStub(tmp_path) as stub:
        port = stub.port
        HfApi(endpoint=stub.endpoint, token=FAKE_TOKEN).create_repo("ns/a")
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert (tmp_path / "repos" / "models" / "ns" / "a.json").is_file()
