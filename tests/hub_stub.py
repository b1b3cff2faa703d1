"""A local stand-in for the Hugging Face Hub's HTTP API, for tests that must not leave the machine.

`HubStub` serves, on 127.0.0.1 and a free port, the endpoints that huggingface_hub 2.4, datasets 5.2,
evaluate 0.4.6 and transformers 5.24 call to publish and load repositories: repo creation and info,
`preupload` (every file "regular": uploads go inline in the commit, no LFS, no Xet), ndjson commits,
tree and paths-info listings, commit history and `resolve` downloads (HEAD and GET, with ranges).
Repositories (model, dataset, space) keep their history: each commit gets a 40-hex sha, each branch
points at its latest commit, and every read accepts a branch name or a commit sha as revision. File
contents live on disk under the folder given to the stub (content-addressed by git blob sha1).

Clients read `HF_ENDPOINT` when they are imported, so real round trips run in subprocesses with the
environment from `HubStub.env` (which also routes any request that is not for 127.0.0.1 through the
stub's proxy guard, so a library that tries to reach beyond loopback shows up as an unknown request
instead of a DNS lookup). Requests the stub does not know are answered with an error and recorded in
`HubStub.unknown`; the `hub` fixture fails the test when any were seen, so gaps show.

Writes need an `Authorization: Bearer <token>` header (any token is accepted); without one they get
401, as on the Hub, so "no token" paths can be tested.

The module is a pytest plugin (tests/conftest.py loads it): use the `hub` fixture, or `HubStub` as a
context manager for other scopes. `helpers.run_python(code, env)` runs a client in a fresh interpreter in
which `ldmnist_hf` (or any package named) cannot be imported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

# Any token works; this one is what `HubStub.env` hands to clients.
FAKE_TOKEN = "hf_stub_not_a_real_token"
STUB_USER = "stub-user"

# The Hub's default .gitattributes for a new repository (its classic LFS patterns). The stub writes it
# in the "initial commit" of every repo it creates, as the Hub does.
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in [
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.lfs.*",
        "*.mlmodel",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "saved_model/**/*",
        "*.tar.*",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    ]
)

_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_SPACE_SDKS = ("gradio", "streamlit", "docker", "static")
# Environment variables that would point clients elsewhere, hand them a real token or make them offline.
_CLIENT_VARS_DROPPED = (
    "HF_ENDPOINT",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_EVALUATE_OFFLINE",
    "HUGGINGFACE_CO_STAGING",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "HF_MODULES_CACHE",
    "HF_XET_CACHE",
)


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob: what the Hub reports as a regular file's oid and ETag.

    Args:
        data (`bytes`): file content.

    Returns:
        `str`: 40 hex digits.

    >>> git_blob_sha1(b"")
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _front_matter(text: str) -> tuple[dict | None, str | None]:
    """The YAML block at the top of a README: (mapping or None, error message or None)."""
    import yaml  # a dependency of huggingface_hub, datasets and transformers

    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.DOTALL)
    if match is None:
        return None, None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as err:
        return None, f"Invalid YAML in README.md front matter: {err}"
    if data is not None and not isinstance(data, dict):
        return None, f"README.md front matter must be a YAML mapping, got {type(data).__name__}"
    return data or {}, None


@dataclass
class Request:
    """One request the stub answered: `known` is False when no endpoint of the stub matched it;
    `authorized` is True when it carried an `Authorization: Bearer` token."""

    method: str
    path: str
    status: int
    known: bool
    authorized: bool = False


class HubError(Exception):
    """An error answer: HTTP status, the Hub's X-Error-Code (if any) and a message."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}
        self.extra = extra or {}  # more fields of the JSON answer


class _UnknownRequest(HubError):
    pass


def stub_api(endpoint: str, token=None):
    """An `HfApi` for the stand-in whose commits also work on huggingface_hub < 1.0: there a commit's answer is
    parsed against `constants.ENDPOINT` (the import-time HF_ENDPOINT), not the endpoint given, and fails after
    the commit was made (the package's own commits do the same, `ldmnist_hf.hub.auth.commits_to`)."""
    from huggingface_hub import HfApi

    from ldmnist_hf.hub.auth import commits_to

    class StubApi(HfApi):
        def create_commit(self, *args, **kwargs):
            with commits_to(self.endpoint):
                return super().create_commit(*args, **kwargs)

        def upload_file(self, *args, **kwargs):
            with commits_to(self.endpoint):
                return super().upload_file(*args, **kwargs)

    return StubApi(endpoint=endpoint, token=token)


class HubStub:
    """A stand-in for the Hugging Face Hub on 127.0.0.1, with repositories stored under `root`.

    Args:
        root (`Path`): folder for the stored file contents and repository records (created if missing).
        user (`str`, *optional*, defaults to `"stub-user"`): the account `whoami` reports and the
            namespace of repos created without one.

    Attributes:
        endpoint (`str`): `http://127.0.0.1:<port>` once started.
        log (`list[Request]`): every request answered, in order.

    >>> import tempfile, urllib.request, json
    >>> with tempfile.TemporaryDirectory() as tmp, HubStub(tmp) as hub:
    ...     req = urllib.request.Request(hub.endpoint + "/api/whoami-v2", headers={"Authorization": "Bearer x"})
    ...     json.load(urllib.request.urlopen(req))["name"]
    'stub-user'
    """

    def __init__(self, root: str | os.PathLike, user: str = STUB_USER, users: dict[str, str] | None = None):
        self.root = Path(root)
        self.user = user
        # tokens of ordinary accounts: each may write its own namespace only (other repos: pull requests);
        # any other token writes everywhere, as the publisher's tests need
        self.users = dict(users or {})
        self.log: list[Request] = []
        self._repos: dict[tuple[str, str], dict] = {}  # (repo_type, repo_id) -> record
        self._lock = threading.RLock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HubStub:
        """Bind 127.0.0.1 on a free port and serve in a background thread; returns self."""
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        (self.root / "repos").mkdir(parents=True, exist_ok=True)
        handler = type("_BoundHandler", (_Handler,), {"stub": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="hub-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (the port is free afterwards)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> HubStub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ for tests

    @property
    def unknown(self) -> list[str]:
        """The requests no endpoint of the stub matched, as "METHOD path" lines."""
        with self._lock:
            return [f"{r.method} {r.path}" for r in self.log if not r.known]

    def assert_no_unknown(self) -> None:
        """Fail the test if a request reached the stub that no endpoint of it serves."""
        if self.unknown:
            pytest.fail("The Hub stand-in got requests it does not serve:\n  " + "\n  ".join(self.unknown))

    def clear_unknown(self) -> None:
        """Forget unknown requests (for a test that provokes one on purpose)."""
        with self._lock:
            self.log = [r for r in self.log if r.known]

    def requests(self, method: str | None = None, contains: str = "") -> list[Request]:
        """Requests answered so far, filtered by method and by a fragment of the path."""
        with self._lock:
            return [r for r in self.log if (method is None or r.method == method) and contains in r.path]

    def env(
        self, home: str | os.PathLike, token: str | None = FAKE_TOKEN, xet: bool = False
    ) -> dict[str, str]:
        """The environment for a client subprocess that talks to this stub and nothing else.

        Args:
            home (`Path`): a scratch folder for the caches (HF_HOME, datasets, evaluate); created.
            token (`str` or `None`, *optional*): put in HF_TOKEN; `None` leaves the client without token.
            xet (`bool`, *optional*, defaults to `False`): leave hf_xet enabled, as it is in a user's
                Python where it is installed: upload_folder then takes huggingface_hub's pipelined upload
                path instead of one create_commit (the stub answers "regular" either way).

        Returns:
            `dict[str, str]`: os.environ without Hub settings, plus HF_ENDPOINT and friends.
        """
        home = Path(home)
        home.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _CLIENT_VARS_DROPPED and not k.lower().endswith("_proxy")
        }
        env.update(
            HF_ENDPOINT=self.endpoint,
            HF_HOME=str(home / "hf"),
            HF_DATASETS_CACHE=str(home / "datasets"),
            HF_EVALUATE_CACHE=str(home / "evaluate"),
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
            HF_HUB_DISABLE_UPDATE_CHECK="1",
            HF_UPDATE_DOWNLOAD_COUNTS="0",  # evaluate would HEAD an S3 bucket on every load
            DISABLE_TELEMETRY="1",
        )
        if not xet:
            env["HF_HUB_DISABLE_XET"] = "1"
        if token is not None:
            env["HF_TOKEN"] = token
        # Proxy guard: whatever is not for 127.0.0.1/localhost goes to the stub, which records it as
        # unknown (and answers the dataset viewer, which datasets asks at `datasets-server.<endpoint host>`).
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            env[name] = env[name.upper()] = self.endpoint
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        return env

    def repos(self) -> list[tuple[str, str]]:
        """Every repository on the stub, as sorted `(repo_type, repo_id)` pairs."""
        with self._lock:
            return sorted(self._repos)

    def repo_files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> dict[str, bytes]:
        """The files of a repo at a revision, as {path: content}."""
        with self._lock:
            repo = self._repo(repo_type, repo_id, check_access=False)
            tree = repo["commits"][self._resolve(repo, revision)]["tree"]
            return {path: self._blob(oid) for path, oid in sorted(tree.items())}

    def commits(self, repo_id: str, repo_type: str = "model", branch: str = "main") -> list[dict]:
        """The commits of a branch, newest first: dicts with sha, title, description, parent, date."""
        with self._lock:
            repo = self._repo(repo_type, repo_id, check_access=False)
            return [{k: v for k, v in c.items() if k != "tree"} for c in self._history(repo, branch)]

    # ------------------------------------------------------------------ storage

    def _blob(self, oid: str) -> bytes:
        return (self.root / "blobs" / oid).read_bytes()

    def _size(self, oid: str) -> int:
        return (self.root / "blobs" / oid).stat().st_size

    def _put_blob(self, data: bytes) -> str:
        oid = git_blob_sha1(data)
        path = self.root / "blobs" / oid
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return oid

    def _save(self, repo: dict) -> None:
        # The repository record beside the blobs, for a human looking into a failed test.
        path = self.root / "repos" / f"{repo['type']}s" / f"{repo['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(repo, indent=1))
        tmp.replace(path)

    def _repo(
        self, repo_type: str, repo_id: str, token: str | None = None, check_access: bool = True
    ) -> dict:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None or (check_access and repo["private"] and not token):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _resolve(self, repo: dict, revision: str) -> str:
        if revision in repo["refs"]:
            return repo["refs"][revision]
        if _SHA_RE.match(revision) and revision in repo["commits"]:
            return revision
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def _history(self, repo: dict, revision: str) -> list[dict]:
        sha, out = self._resolve(repo, revision), []
        while sha is not None:
            out.append(repo["commits"][sha])
            sha = repo["commits"][sha]["parent"]
        return out

    def _commit(self, repo: dict, branch: str, tree: dict, title: str, description: str = "") -> str:
        self._counter += 1
        parent = repo["refs"].get(branch)
        sha = hashlib.sha1(
            json.dumps([repo["type"], repo["id"], parent, tree, title, description, self._counter]).encode()
        ).hexdigest()
        repo["commits"][sha] = {
            "sha": sha,
            "parent": parent,
            "title": title,
            "description": description,
            "date": _now(),
            "tree": tree,
        }
        repo["refs"][branch] = sha
        repo["lastModified"] = repo["commits"][sha]["date"]
        self._save(repo)
        return sha

    def _url(self, repo: dict) -> str:
        return f"{self.endpoint}/{_URL_PREFIX[repo['type']]}{repo['id']}"

    # ------------------------------------------------------------------ endpoints

    def handle(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        """Answer one request: (status, headers, body). Raises HubError for error answers."""
        token = _bearer(headers)
        if raw_path.startswith(("http://", "https://")):  # came through the proxy guard
            return self._proxied(method, raw_path)
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        parts = path.strip("/").split("/")
        with self._lock:
            if path == "/api/whoami-v2" and method == "GET":
                return self._whoami(token)
            if path == "/api/repos/create" and method == "POST":
                return self._create_repo(token, json.loads(body or b"{}"))
            if path == "/api/repos/delete" and method in ("POST", "DELETE"):
                return self._delete_repo(token, json.loads(body or b"{}"))
            if path == "/api/validate-yaml" and method == "POST":
                return self._validate_yaml(json.loads(body or b"{}"))
            if path == "/api/models" and method == "GET":
                return self._list_models(query)
            if len(parts) >= 4 and parts[0] == "api" and parts[1] in _REPO_TYPES:
                repo_type, repo_id = _REPO_TYPES[parts[1]], unquote(parts[2]) + "/" + unquote(parts[3])
                return self._repo_api(method, repo_type, repo_id, parts[4:], query, token, body)
            if method in ("GET", "HEAD") and "resolve" in parts:
                return self._resolve_file(method, parts, headers, token)
        raise _UnknownRequest(404, f"The Hub stand-in has no endpoint for {method} {path}")

    def _proxied(self, method: str, url: str) -> tuple[int, dict, bytes]:
        split = urlsplit(url)
        host = split.hostname or ""
        if host.startswith("datasets-server.") and split.path in ("/info", "/parquet"):
            # datasets asks the dataset viewer for a Parquet export; a freshly pushed repo has none.
            raise HubError(404, "The dataset viewer has no export for this dataset (Hub stand-in)")
        raise _UnknownRequest(502, f"Request beyond loopback refused by the Hub stand-in: {method} {url}")

    def _may_write(self, token: str | None, namespace: str) -> bool:
        """Whether `token` may write to repos of `namespace` directly (else only through pull requests)."""
        return token not in self.users or self.users[token] == namespace

    def _whoami(self, token: str | None) -> tuple[int, dict, bytes]:
        if not token:
            raise HubError(401, "Invalid credentials in Authorization header")
        name = self.users.get(token, self.user)
        return _json(
            {
                "type": "user",
                "id": "0" * 24,
                "name": name,
                "fullname": name,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "stub", "role": "write"}},
            }
        )

    def _create_repo(self, token: str | None, payload: dict) -> tuple[int, dict, bytes]:
        _require_token(token)
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or self.users.get(token, self.user)
        name = payload.get("name") or ""
        if repo_type not in _URL_PREFIX:
            raise HubError(400, f"Invalid repo type {repo_type!r}; expected one of {sorted(_URL_PREFIX)}")
        for part in (namespace, name):
            if not _NAME_RE.match(part) or "--" in part or ".." in part:
                raise HubError(400, f"Invalid repo name part {part!r}: use letters, digits, '-', '_', '.'")
        if repo_type == "space" and payload.get("sdk") not in _SPACE_SDKS:
            raise HubError(400, f"A Space needs sdk in {_SPACE_SDKS}, got {payload.get('sdk')!r}")
        repo_id = f"{namespace}/{name}"
        existing = self._repos.get((repo_type, repo_id))
        if existing is None and not self._may_write(token, namespace):
            raise HubError(
                403, f"You don't have the rights to create a repo under the namespace {namespace!r}"
            )
        if existing is not None:
            # create_repo(exist_ok=True) reads the url from this answer
            raise HubError(
                409, f"You already created this {repo_type} repo", extra={"url": self._url(existing)}
            )
        private = payload.get("private") or payload.get("visibility") in ("private", "protected")
        repo = {
            "type": repo_type,
            "id": repo_id,
            "private": bool(private),
            "sdk": payload.get("sdk"),
            "createdAt": _now(),
            "refs": {},
            "commits": {},
            "discussions": [],
        }
        self._repos[(repo_type, repo_id)] = repo
        self._commit(
            repo, "main", {".gitattributes": self._put_blob(DEFAULT_GITATTRIBUTES.encode())}, "initial commit"
        )
        return _json({"url": self._url(repo), "name": repo_id, "id": repo_id})

    def _delete_repo(self, token: str | None, payload: dict) -> tuple[int, dict, bytes]:
        _require_token(token)
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload.get('organization') or self.user}/{payload.get('name')}"
        self._repo(repo_type, repo_id, token)
        del self._repos[(repo_type, repo_id)]
        (self.root / "repos" / f"{repo_type}s" / f"{repo_id}.json").unlink(missing_ok=True)
        return _json({})

    def _validate_yaml(self, payload: dict) -> tuple[int, dict, bytes]:
        _, error = _front_matter(payload.get("content", ""))
        if error is not None:
            return _json({"errors": [{"message": error}], "warnings": []}, status=400)
        return _json({"errors": [], "warnings": []})

    def _repo_api(self, method, repo_type, repo_id, rest, query, token, body) -> tuple[int, dict, bytes]:
        repo = self._repo(repo_type, repo_id, token)
        head = rest[0] if rest else ""
        if method == "GET" and head in ("", "revision"):
            revision = unquote(rest[1]) if head == "revision" and len(rest) == 2 else "main"
            if head == "revision" and len(rest) != 2:
                raise _UnknownRequest(404, "revision needs exactly one (quoted) segment")
            expand = query.get("expand[]") or query.get("expand")
            return self._repo_info(repo, revision, expand)
        if method == "GET" and head == "tree" and len(rest) >= 2:
            path_in_repo = "/".join(unquote(p) for p in rest[2:]).strip("/")
            recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
            expand = query.get("expand", ["false"])[0].lower() in ("1", "true")
            return _json(self._tree(repo, unquote(rest[1]), path_in_repo, recursive, expand))
        if method == "POST" and head == "paths-info" and len(rest) == 2:
            form = parse_qs(body.decode(), keep_blank_values=True)
            expand = form.get("expand", ["false"])[0].lower() in ("1", "true")
            return _json(self._paths_info(repo, unquote(rest[1]), form.get("paths", []), expand))
        if method == "GET" and head == "commits" and len(rest) == 2:
            return _json(
                [
                    {
                        "id": c["sha"],
                        "authors": [{"user": self.user}],
                        "date": c["date"],
                        "title": c["title"],
                        "message": c["description"],
                    }
                    for c in self._history(repo, unquote(rest[1]))
                ]
            )
        if method == "GET" and head == "refs" and len(rest) == 1:
            branches = [
                {"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in repo["refs"].items()
            ]
            return _json({"branches": branches, "converts": [], "tags": []})
        if method == "POST" and head == "preupload" and len(rest) == 2:
            _require_token(token)
            return self._preupload(repo, unquote(rest[1]), json.loads(body or b"{}"), query)
        if method == "POST" and head == "commit" and len(rest) == 2:
            _require_token(token)
            pr = bool(query.get("create_pr"))
            branch = unquote(rest[1])
            own_pr = any(  # as on the Hub, a pull request's author may push to its branch
                f"refs/pr/{d['num']}" == branch and d["author"] == self.users.get(token, self.user)
                for d in repo["discussions"]
                if d["isPullRequest"] and d["status"] == "open"
            )
            if not pr and not own_pr and not self._may_write(token, repo["id"].split("/")[0]):
                raise HubError(
                    403, f"You don't have write access to {repo['id']}; open a pull request instead"
                )
            return self._commit_api(repo, unquote(rest[1]), body, query, self.users.get(token, self.user))
        if head == "discussions":
            return self._discussions_api(method, repo, rest[1:], query, token, body)
        raise _UnknownRequest(404, f"The Hub stand-in has no repo endpoint {method} {'/'.join(rest)}")

    def _repo_info(
        self, repo: dict, revision: str, expand: list[str] | None = None
    ) -> tuple[int, dict, bytes]:
        sha = self._resolve(repo, revision)
        if expand:  # as the Hub does: the requested properties only (with the id)
            return _json(
                {"_id": hashlib.sha1(repo["id"].encode()).hexdigest()[:24], "id": repo["id"], "sha": sha}
            )
        tree = repo["commits"][sha]["tree"]
        namespace = repo["id"].split("/")[0]
        info = {
            "_id": hashlib.sha1(repo["id"].encode()).hexdigest()[:24],
            "id": repo["id"],
            "author": namespace,
            "sha": sha,
            "lastModified": repo["commits"][sha]["date"],
            "createdAt": repo["createdAt"],
            "private": repo["private"],
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": [
                {"rfilename": p, "size": self._size(oid), "blobId": oid} for p, oid in sorted(tree.items())
            ],
        }
        if "README.md" in tree:
            card, _ = _front_matter(self._blob(tree["README.md"]).decode("utf-8", errors="replace"))
            if card:
                info["cardData"] = card
                info["tags"] = self._card_tags(repo, sha)
        if repo["type"] == "space":
            info.update(sdk=repo["sdk"], runtime={"stage": "RUNNING", "hardware": {"current": "cpu-basic"}})
        return _json(info)

    def _card_tags(self, repo: dict, sha: str) -> list[str]:
        """As the Hub does: the card's tags, and `dataset:ID` for each dataset it names."""
        tree = repo["commits"][sha]["tree"]
        if "README.md" not in tree:
            return []
        card, _ = _front_matter(self._blob(tree["README.md"]).decode("utf-8", errors="replace"))
        card = card or {}
        tags = card.get("tags") if isinstance(card.get("tags"), list) else []
        datasets = card.get("datasets") if isinstance(card.get("datasets"), list) else []
        return [str(t) for t in tags] + [f"dataset:{d}" for d in datasets]

    def _last_commit(self, repo: dict, sha: str, path: str) -> dict:
        """The newest commit in `sha`'s history that changed `path` (a file, or anything under a folder)."""

        def snapshot(tree: dict) -> dict:
            return {p: o for p, o in tree.items() if p == path or p.startswith(path + "/")}

        commit = repo["commits"][sha]
        while commit["parent"] is not None:
            parent = repo["commits"][commit["parent"]]
            if snapshot(parent["tree"]) != snapshot(commit["tree"]):
                break
            commit = parent
        return {"id": commit["sha"], "title": commit["title"], "date": commit["date"]}

    def _entries(self, repo: dict, sha: str, paths: list[str], expand: bool) -> list[dict]:
        tree = repo["commits"][sha]["tree"]
        out = []
        for path in paths:
            if path in tree:
                entry = {"type": "file", "oid": tree[path], "size": self._size(tree[path]), "path": path}
            else:
                below = sorted((p, o) for p, o in tree.items() if p.startswith(path + "/"))
                if not below:
                    continue
                oid = hashlib.sha1(json.dumps(below).encode()).hexdigest()
                entry = {"type": "directory", "oid": oid, "size": 0, "path": path}
            if expand:
                entry["lastCommit"] = self._last_commit(repo, sha, path)
            out.append(entry)
        return out

    def _tree(
        self, repo: dict, revision: str, path_in_repo: str, recursive: bool, expand: bool
    ) -> list[dict]:
        sha = self._resolve(repo, revision)
        prefix = path_in_repo + "/" if path_in_repo else ""
        below = [p[len(prefix) :] for p in repo["commits"][sha]["tree"] if p.startswith(prefix)]
        if path_in_repo and not below:
            raise HubError(
                404, f"{path_in_repo} does not exist on {revision}", "EntryNotFound", {"X-Repo-Commit": sha}
            )
        names: set[str] = set()
        for rel in below:
            parts = rel.split("/")
            depth = len(parts) if recursive else 1
            names.update(prefix + "/".join(parts[: i + 1]) for i in range(min(depth, len(parts))))
        # The Hub lists folders before files at each level ("tree first").
        ordered = sorted(names, key=lambda p: (p.count("/"), p not in repo["commits"][sha]["tree"], p))
        return self._entries(repo, sha, ordered, expand)

    def _paths_info(self, repo: dict, revision: str, paths: list[str], expand: bool) -> list[dict]:
        sha = self._resolve(repo, revision)
        return self._entries(repo, sha, [p.strip("/") for p in paths], expand)

    def _preupload(self, repo: dict, revision: str, payload: dict, query: dict) -> tuple[int, dict, bytes]:
        tree = repo["commits"][self._resolve(repo, revision)]["tree"]
        files = [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": tree.get(f["path"])}
            for f in payload.get("files", [])
        ]
        return _json({"files": files, "commitOid": repo["refs"].get(revision)})

    def _commit_api(
        self, repo: dict, revision: str, body: bytes, query: dict, author: str = STUB_USER
    ) -> tuple[int, dict, bytes]:
        pr = None
        if query.get(
            "create_pr"
        ):  # a pull request: a new branch refs/pr/N from the revision, and its discussion
            if revision not in repo["refs"]:
                raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            num = len(repo["discussions"]) + 1
            pr = {"num": num, "branch": f"refs/pr/{num}", "base": revision, "author": author}
            repo["refs"][pr["branch"]] = repo["refs"][revision]
            revision = pr["branch"]
        if revision not in repo["refs"]:
            raise HubError(
                404, f"Invalid rev id: {revision} (commits go to an existing branch)", "RevisionNotFound"
            )
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "A commit payload starts with a header line")
        header = lines[0]["value"]
        parent = header.get("parentCommit")
        if parent is not None and parent != repo["refs"][revision]:
            raise HubError(412, f"A commit has happened since {parent}; the head of {revision} moved")
        tree = dict(repo["commits"][repo["refs"][revision]]["tree"])
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = value.get("path", "").strip("/")
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"Unsupported encoding {value.get('encoding')!r} for {path}")
                tree[path] = self._put_blob(base64.b64decode(value["content"]))
            elif key == "deletedFile":
                if tree.pop(path, None) is None:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            elif key == "deletedFolder":
                for p in [p for p in tree if p.startswith(path + "/")]:
                    del tree[p]
            elif key == "lfsFile":
                raise _UnknownRequest(
                    400, f"LFS upload of {path}: the stand-in answers 'regular' to preupload"
                )
            else:
                raise _UnknownRequest(400, f"Unknown commit operation {key!r}")
        sha = self._commit(repo, revision, tree, header.get("summary", ""), header.get("description", ""))
        answer = {"commitUrl": f"{self._url(repo)}/commit/{sha}", "commitOid": sha, "success": True}
        if pr is not None:
            repo["discussions"].append(
                {
                    "num": pr["num"],
                    "title": header.get("summary", "") or f"Pull request {pr['num']}",
                    "description": header.get("description", ""),
                    "isPullRequest": True,
                    "status": "open",
                    "author": pr["author"],
                    "createdAt": _now(),
                    "base": pr["base"],
                }
            )
            self._save(repo)
            answer["pullRequestUrl"] = f"{self._url(repo)}/discussions/{pr['num']}"
        return _json(answer)

    # ------------------------------------------------------------------ discussions and pull requests

    def _discussion_json(self, repo: dict, d: dict) -> dict:
        return {
            "num": d["num"],
            "title": d["title"],
            "status": d["status"],
            "isPullRequest": d["isPullRequest"],
            "createdAt": d["createdAt"],
            "author": {"name": d["author"]},
            "repo": {"name": repo["id"], "type": repo["type"]},
            "pinned": False,
        }

    def _discussions_api(self, method, repo, rest, query, token, body) -> tuple[int, dict, bytes]:
        if method == "GET" and not rest:
            kind = query.get("type", ["all"])[0]
            status = query.get("status", ["all"])[0]
            found = [
                self._discussion_json(repo, d)
                for d in reversed(repo["discussions"])
                if (kind == "all" or (kind == "pull_request") == d["isPullRequest"])
                and (status == "all" or d["status"] == status)
            ]
            return _json({"discussions": found, "count": len(found), "start": 0, "numClosedDiscussions": 0})
        if method == "POST" and not rest:
            _require_token(token)
            payload = json.loads(body or b"{}")
            num = len(repo["discussions"]) + 1
            repo["discussions"].append(
                {
                    "num": num,
                    "title": payload.get("title", ""),
                    "description": payload.get("description", ""),
                    "isPullRequest": bool(payload.get("pullRequest")),
                    "status": "open",
                    "author": self.users.get(token, self.user),
                    "createdAt": _now(),
                    "base": "main",
                }
            )
            if payload.get("pullRequest"):
                repo["refs"][f"refs/pr/{num}"] = repo["refs"]["main"]
            self._save(repo)
            return _json({"num": num, "url": f"{self._url(repo)}/discussions/{num}"})
        if method == "GET" and len(rest) == 1 and rest[0].isdigit():
            d = next((d for d in repo["discussions"] if d["num"] == int(rest[0])), None)
            if d is None:
                raise HubError(404, "Discussion not found")
            details = self._discussion_json(repo, d)
            details["events"] = [
                {
                    "id": f"{d['num']:024d}",
                    "type": "comment",
                    "createdAt": d["createdAt"],
                    "author": {"name": d["author"]},
                    "data": {"edited": False, "hidden": False, "latest": {"raw": d["description"]}},
                }
            ]
            if d["isPullRequest"]:
                details["changes"] = {"base": f"refs/heads/{d['base']}"}
                details["filesWithConflicts"] = []
            return _json(details)
        raise _UnknownRequest(404, f"The Hub stand-in has no discussions endpoint {method} {'/'.join(rest)}")

    def _list_models(self, query: dict) -> tuple[int, dict, bytes]:
        """`GET /api/models`: the model repos whose card matches every `filter` (tags, `dataset:ID`)."""
        filters, out = query.get("filter", []), []
        for (repo_type, repo_id), repo in sorted(self._repos.items()):
            if repo_type != "model" or repo["private"]:
                continue
            sha = self._resolve(repo, "main")
            tags = self._card_tags(
                repo, sha
            )  # from the parsed card: never serialised (an alias tree stays small)
            if all(f in tags for f in filters) and (
                not query.get("author") or repo_id.startswith(query["author"][0] + "/")
            ):
                out.append(
                    {
                        "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                        "id": repo_id,
                        "author": repo_id.split("/")[0],
                        "sha": sha,
                        "lastModified": repo["commits"][sha]["date"],
                        "private": repo["private"],
                        "tags": tags,
                    }
                )
        return _json(out[: int(query["limit"][0])] if query.get("limit") else out)

    def _resolve_file(self, method: str, parts: list[str], headers, token) -> tuple[int, dict, bytes]:
        # /{ns}/{name}/resolve/{rev}/{path} for models, /{datasets|spaces}/{ns}/{name}/resolve/... otherwise
        at = 3 if parts[0] in ("datasets", "spaces") else 2
        if len(parts) < at + 3 or parts[at] != "resolve":
            raise _UnknownRequest(404, "Not a resolve URL")
        repo_type = _REPO_TYPES[parts[0]] if at == 3 else "model"
        repo_id = unquote(parts[at - 2]) + "/" + unquote(parts[at - 1])
        repo = self._repo(repo_type, repo_id, token)
        revision = unquote(parts[at + 1])
        filename = unquote("/".join(parts[at + 2 :]))
        sha = self._resolve(repo, revision)
        tree = repo["commits"][sha]["tree"]
        if filename not in tree:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        data, oid = self._blob(tree[filename]), tree[filename]
        out_headers = {"X-Repo-Commit": sha, "ETag": f'"{oid}"', "Accept-Ranges": "bytes"}
        status, payload = 200, data
        match = re.match(r"bytes=(\d*)-(\d*)$", headers.get("Range", "") or "")
        if match and data:
            start = int(match.group(1)) if match.group(1) else max(0, len(data) - int(match.group(2) or 0))
            end = int(match.group(2)) if match.group(1) and match.group(2) else len(data) - 1
            if start >= len(data):
                raise HubError(
                    416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"}
                )
            end = min(end, len(data) - 1)
            status, payload = 206, data[start : end + 1]
            out_headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        out_headers["Content-Type"] = "application/octet-stream"
        return status, out_headers, payload


def _bearer(headers) -> str | None:
    value = headers.get("Authorization") or ""
    if not value.lower().startswith("bearer "):
        return None
    return value[7:].strip() or None


def _require_token(token: str | None) -> None:
    if not token:
        raise HubError(
            401,
            "Unauthorized: this write needs `Authorization: Bearer <token>` (set HF_TOKEN or pass token=...)",
        )


def _json(data, status: int = 200) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # HfFileSystem lists sub-trees from many threads at once


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into `HubStub.handle` calls; HTTP/1.0, one request per connection."""

    stub: HubStub
    server_version = "HubStub/1.0"

    def _dispatch(self) -> None:
        body = self._read_body()
        known = True
        try:
            status, headers, payload = self.stub.handle(self.command, self.path, self.headers, body)
        except HubError as err:
            known = not isinstance(err, _UnknownRequest)
            status, headers, payload = _json({"error": err.message, **err.extra}, status=err.status)
            headers.update(err.headers)
            headers["X-Error-Message"] = err.message
            if err.code:
                headers["X-Error-Code"] = err.code
        except Exception as err:  # a bug in the stub: answer 500 and make the test fail
            known = False
            status, headers, payload = _json({"error": f"Hub stand-in crashed: {err!r}"}, status=500)
        with self.stub._lock:
            authorized = _bearer(self.headers) is not None
            self.stub.log.append(Request(self.command, self.path, status, known, authorized))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
            while self.rfile.readline().strip():  # trailers, up to the empty line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_CONNECT = _dispatch

    def log_message(self, format, *args) -> None:  # keep pytest output clean; `HubStub.log` has it all
        pass


# ---------------------------------------------------------------------- pytest fixture


@pytest.fixture
def hub(tmp_path_factory):
    """A running `HubStub`; the test fails if any request it does not know reached it.

    Clients in subprocesses: `subprocess.run(..., env=hub.env(tmp_path))` or
    `run_python(code, hub.env(tmp_path))`. In-process: `HfApi(endpoint=hub.endpoint, token=FAKE_TOKEN)`.
    """
    with HubStub(tmp_path_factory.mktemp("hub")) as stub:
        yield stub
    if os.environ.get("HUB_STUB_LOG"):  # HUB_STUB_LOG=1 pytest -s ...: what the clients asked for
        print(
            "".join(
                f"\n  {r.status} {r.method} {r.path}" + ("" if r.known else "  <- UNKNOWN") for r in stub.log
            )
        )
    stub.assert_no_unknown()
