"""A real round trip, offline: `ldmnist push` to a local stand-in of the Hub, then a user's Python loads it.

`ldmnist push --namespace NS` runs as a user runs it (a subprocess with `HF_ENDPOINT` pointed at the
stand-in of tests/hub_stub.py and a token) and uploads every repository through huggingface_hub's own
client. Then a fresh Python in which `ldmnist_hf` cannot be imported, and without any token, runs every
code snippet of the pushed cards as written: `load_dataset("NS/ldmnist")`,
`AutoModel.from_pretrained("NS/ldmnist-...", trust_remote_code=True)`, `evaluate.load("NS/ldmnist")`.
Its scores and model outputs must equal the package's own on the same inputs.
"""

import ast
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import EXPORTED_REPOS, NS
from helpers import ROOT, code_blocks, run_ldmnist, run_python
from hub_stub import DEFAULT_GITATTRIBUTES, FAKE_TOKEN, HubStub
from huggingface_hub import HfApi, ModelCard, hf_hub_download

import ldmnist_hf
from ldmnist_hf.data.read import load_latents
from ldmnist_hf.hub.push import read_export, upload_files
from ldmnist_hf.pretrained.loading import load_pretrained
from ldmnist_hf.rendering import read_block

IDS = {
    "image_vae": f"{NS}/ldmnist-image-vae-32",
    "class_vae": f"{NS}/ldmnist-class-vae-32",
    "middle_layers": f"{NS}/ldmnist-middle-layers-32",
    "dataset": f"{NS}/ldmnist",
    "metric": f"{NS}/ldmnist",
    "explorer": f"{NS}/ldmnist-explorer",
}
REPO_TYPES = {
    "image_vae": "model",
    "class_vae": "model",
    "middle_layers": "model",
    "dataset": "dataset",
    "metric": "space",
    "explorer": "space",
}
SCORE_TOLERANCE = 1e-7


def _check(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-6000:]}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def pushed(tmp_path_factory, exported):
    """A Hub stand-in to which `ldmnist push --namespace NS --export-dir EXPORT` has uploaded the session's export.

    Module-scoped (the `hub` fixture is per test) so that the push and the loads share one stand-in;
    like `hub`, it fails at teardown if any request arrived that the stand-in does not serve.
    """
    tmp = tmp_path_factory.mktemp("roundtrip")
    with HubStub(tmp / "hub") as stub:
        proc = run_ldmnist(
            ["push", "--namespace", NS, "--export-dir", str(exported[0])], stub.env(tmp / "publisher")
        )
        yield stub, proc
    stub.assert_no_unknown()


def test_push_uploads_every_repo_with_its_type(pushed, exported):
    hub, proc = pushed
    out, folders = exported
    assert _check(proc).strip().split("\n") == [f"{i} ({t})" for _, _, i, t in EXPORTED_REPOS]
    assert hub.repos() == sorted((t, i) for _, _, i, t in EXPORTED_REPOS)
    for repo in read_export(out, NS):
        stored = hub.repo_files(repo.repo_id, repo.repo_type)
        # exactly the exported folder (the stand-in's initial commit gives model and Space repos the Hub's
        # default .gitattributes; the dataset's export brings its own)
        expected = {".gitattributes": DEFAULT_GITATTRIBUTES.encode()}
        expected |= {
            path: (out / repo.folder / path).read_bytes() for path, _ in upload_files(out / repo.folder)
        }
        assert sorted(stored) == sorted(expected), repo
        stamped = ()
        if repo.role.startswith("baseline:"):  # results stamped with the dataset revision just pushed
            stamped = (".eval_results/ldmnist-default.yaml", "README.md")
            revision = HfApi(endpoint=hub.endpoint, token=False).dataset_info(IDS["dataset"]).sha
            rows = yaml.safe_load(stored[stamped[0]])
            assert {r["dataset"]["revision"] for r in rows} == {revision}, repo
            card, exported_card = (ModelCard(f[stamped[1]].decode()) for f in (stored, expected))
            assert {r.dataset_revision for r in card.data.eval_results} == {revision}, repo
            assert {r.dataset_revision for r in exported_card.data.eval_results} == {None}  # not known yet
            block = read_block(card.text, "ldmnist-results")
            assert (
                f"`{revision[:12]}`" in block
                and "the one `ldmnist push` uploads with it" in exported_card.text
            )
            assert card.text.replace(block, "") == exported_card.text.replace(
                read_block(exported_card.text, "ldmnist-results"), ""
            )
        for path, data in expected.items():
            assert stored[path] == data or path in stamped, (repo.repo_id, path)
        commits = hub.commits(repo.repo_id, repo.repo_type)
        assert [c["title"] for c in commits] == ["Upload LD-MNIST with ldmnist-hf", "initial commit"]
    assert HfApi(endpoint=hub.endpoint, token=False).space_info(IDS["metric"]).sdk == "gradio"
    # reachability and the token were checked first; every write carried the token
    assert hub.log[0].path == "/api/whoami-v2"
    writes = [r for r in hub.log if r.method == "POST" and "validate-yaml" not in r.path]
    n = len(EXPORTED_REPOS)
    assert len(writes) == 3 * n and all(r.authorized and r.status == 200 for r in writes)
    assert len(hub.requests("POST", "/commit/main")) == n


# Runs the snippets in one interpreter (each in its own namespace, as if pasted into a fresh session),
# then reports per snippet what it left behind: arrays, score dicts, models' modules, its stdout.
RUNNER = """
import contextlib, io, json
import numpy as np
import torch

with open(SNIPPETS) as f:
    snippets = json.load(f)
arrays, report = {}, {}
for name, code in snippets:
    scope, stdout = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code, f"<{name}>", "exec"), scope)
    report[name] = {"stdout": stdout.getvalue(), "modules": {}, "scores": {}}
    for var, value in scope.items():
        if isinstance(value, torch.nn.Module):
            report[name]["modules"][var] = type(value).__module__
        elif isinstance(value, torch.Tensor):
            arrays[f"{name}:{var}"] = value.detach().numpy()
        elif isinstance(value, np.ndarray):
            arrays[f"{name}:{var}"] = value
        elif isinstance(value, dict) and value and all(isinstance(v, float) for v in value.values()):
            report[name]["scores"][var] = value
np.savez(ARRAYS, **arrays)
print(json.dumps(report))
"""


def _snippets(hub: HubStub, cache: Path) -> list[tuple[str, str]]:
    """Every ```python block of the pushed cards, downloaded from the stand-in, as `(role#i, code)`."""
    out = []
    for role in ("dataset", "metric", "image_vae", "class_vae", "middle_layers"):
        card = hf_hub_download(
            IDS[role],
            "README.md",
            repo_type=REPO_TYPES[role],
            endpoint=hub.endpoint,
            cache_dir=cache,
            token=False,
        )
        blocks = code_blocks(Path(card).read_text())
        out += [(f"{role}#{i}", code) for i, code in enumerate(blocks, 1)]
    return out


def _readme_snippet() -> tuple[str, str]:
    """README's "Using LD-MNIST from the Hub" example, its namespace set to the one pushed."""
    readme = (ROOT / "README.md").read_text()
    (code,) = [b for b in code_blocks(readme) if 'NS = "your-namespace"' in b]
    return "README#1", code.replace('NS = "your-namespace"', f'NS = "{NS}"')


def _split(built: Path, split: str) -> tuple[np.ndarray, ...]:
    """`x`, `y`, `label`, `y_mean` of a split of the built folder (writable copies, for torch)."""
    columns = load_latents(str(built / "ldmnist"), split, columns=("x", "y", "label", "y_mean"))
    return tuple(np.array(c) for c in columns)


# Another config of the one dataset repository, as a user reaches it: its data, its metric, its class VAE.
CONFIG_SNIPPET = f"""
import evaluate
import torch
from datasets import load_dataset
from transformers import AutoModel

test16 = load_dataset("{NS}/ldmnist", "ld16", split="test").with_format("torch")[:]
metric16 = evaluate.load("{NS}/ldmnist", "ld16")  # the ld16 config's class decoder
class_vae16 = AutoModel.from_pretrained("{NS}/ldmnist-class-vae-16-ld16", trust_remote_code=True)
with torch.no_grad():
    classes16 = class_vae16.predict(test16["y"])
y16 = test16["y"]
scores16 = metric16.compute(predictions=test16["y_mean"], references=test16["y"], labels=test16["label"])
"""


def test_cards_snippets_run_from_the_hub_without_the_package(pushed, built, variant16, exported, tmp_path):
    hub, proc = pushed
    _check(proc)
    snippets = _snippets(hub, tmp_path / "cards")
    assert [name for name, _ in snippets] == [
        "dataset#1",
        "dataset#2",
        "metric#1",
        "metric#2",
        "image_vae#1",
        "class_vae#1",
        "middle_layers#1",
    ]
    for name, code in snippets:  # the namespace's repos, nothing else
        ids = set(re.findall(r'"([\w.-]+/[\w.-]+)"', code))
        assert ids and ids <= set(IDS.values()), (name, ids)
    snippets += [_readme_snippet(), ("config#ld16", CONFIG_SNIPPET)]
    (tmp_path / "snippets.json").write_text(json.dumps(snippets))
    seen = len(hub.log)
    header = f"SNIPPETS, ARRAYS = {str(tmp_path / 'snippets.json')!r}, {str(tmp_path / 'arrays.npz')!r}\n"
    user = run_python(header + RUNNER, hub.env(tmp_path / "user", token=None))  # no ldmnist_hf, no token
    report = json.loads(_check(user).strip().splitlines()[-1])
    got = dict(np.load(tmp_path / "arrays.npz"))

    # The user's Python talked to the stand-in only, read everything from it, sent no token, wrote nothing.
    user_requests = hub.log[seen:]
    assert user_requests and not any(r.authorized for r in user_requests)
    assert not [r for r in user_requests if r.method not in ("GET", "HEAD") and "paths-info" not in r.path]
    downloaded = {  # by branch or by the commit sha that the client resolved first
        re.sub(r"/resolve/[^/]+/", "/resolve/REV/", r.path.split("?")[0])
        for r in user_requests
        if r.method == "GET" and r.status in (200, 206) and "/resolve/" in r.path
    }
    assert {
        f"/{IDS['image_vae']}/resolve/REV/modeling_image_vae.py",
        f"/{IDS['class_vae']}/resolve/REV/modeling_class_vae.py",
        f"/{IDS['middle_layers']}/resolve/REV/modeling_middle_layers.py",
        f"/{IDS['class_vae']}/resolve/REV/model.safetensors",
        f"/datasets/{IDS['dataset']}/resolve/REV/data/test-00000-of-00001.parquet",
        f"/spaces/{IDS['metric']}/resolve/REV/ldmnist.py",
    } <= downloaded, sorted(downloaded)
    for name in report:  # every model came from the code in its Hub repo, not from a package
        for var, module in report[name]["modules"].items():
            assert module.startswith("transformers_modules."), (name, var, module)

    train_x, train_y, _, _ = _split(built, "train")
    test_x, test_y, test_labels, test_y_mean = _split(built, "test")
    image_vae, class_vae, middle_layers = (
        load_pretrained(n).eval() for n in ("image-vae-32", "class-vae-32", "middle-layers-32")
    )
    metric = ldmnist_hf.load_metric()  # the package's metric and class decoder

    def package_scores(predictions):
        return metric.compute(predictions=predictions, references=test_y, labels=test_labels)

    def assert_scores(hub_scores, predictions):
        expected = package_scores(predictions)
        assert sorted(hub_scores) == ["mse", "reconstructed_accuracy"]
        for key, value in expected.items():
            assert abs(hub_scores[key] - value) <= SCORE_TOLERANCE, (key, hub_scores[key], value)

    # dataset card: the splits as built
    np.testing.assert_array_equal(got["dataset#1:x"], train_x)
    np.testing.assert_array_equal(got["dataset#1:y"], train_y)
    # dataset card: linear least squares scored by the Hub metric, decoded by the Hub models
    predictions = got["dataset#2:predictions"]
    assert predictions.shape == test_y.shape
    assert_scores(ast.literal_eval(report["dataset#2"]["stdout"].strip()), predictions)
    with torch.no_grad():
        np.testing.assert_array_equal(
            got["dataset#2:classes"], class_vae.predict(torch.from_numpy(predictions).float()).numpy()
        )
        np.testing.assert_array_equal(
            got["dataset#2:digits"], image_vae.decode(torch.from_numpy(test_x[:8])).sample.numpy()
        )
    # metric card: the same scoring with `results = ...`, and the small example's printed value
    assert_scores(report["metric#1"]["scores"]["results"], got["metric#1:predictions"])
    assert report["metric#2"]["stdout"] == "{'mse': 0.5}\n"
    # model cards: the Hub models' outputs equal the package classes' on the same inputs
    np.testing.assert_array_equal(got["image_vae#1:x"], test_x[:8])
    with torch.no_grad():
        images = image_vae.decode(torch.from_numpy(test_x[:8])).sample
        np.testing.assert_array_equal(got["image_vae#1:images"], images.numpy())
        np.testing.assert_array_equal(got["image_vae#1:z"], image_vae.encode(images).latent_dist.mean.numpy())
        y = class_vae.encode(torch.arange(10)).latent_dist.sample(torch.Generator().manual_seed(0))
        np.testing.assert_array_equal(got["class_vae#1:y"], y.numpy())
        np.testing.assert_array_equal(got["class_vae#1:classes"], np.arange(10))  # what the card says
        outputs = middle_layers(torch.from_numpy(test_x)).outputs.numpy()
    np.testing.assert_array_equal(got["middle_layers#1:predictions"], outputs)
    assert_scores(report["middle_layers#1"]["scores"]["scores"], outputs)
    # the ld16 config: its own data, scored with its own class decoder
    y16, labels16, y16_mean = (
        np.array(c) for c in load_latents(variant16, "test", columns=("y", "label", "y_mean"))
    )
    np.testing.assert_array_equal(got["config#ld16:y16"], y16)
    folder16 = exported[0] / "models" / "ldmnist-class-vae-16-ld16"
    expected16 = ldmnist_hf.load_metric(str(folder16)).compute(
        predictions=y16_mean, references=y16, labels=labels16
    )
    assert report["config#ld16"]["scores"]["scores16"] == pytest.approx(expected16, abs=SCORE_TOLERANCE)
    with torch.no_grad():
        classes16 = load_pretrained(folder16).predict(torch.from_numpy(y16)).numpy()
    np.testing.assert_array_equal(got["config#ld16:classes16"], classes16)
    # README's example: the dataset's own y_mean scored by the Hub metric, y decoded by the Hub class VAE
    assert_scores(ast.literal_eval(report["README#1"]["stdout"].strip()), test_y_mean)
    with torch.no_grad():
        np.testing.assert_array_equal(
            got["README#1:classes"], class_vae.predict(torch.from_numpy(test_y)).numpy()
        )


def _stopped_endpoint(tmp_path: Path) -> str:
    with HubStub(tmp_path / "gone") as gone:
        return gone.endpoint  # nothing listens there once the block ends


# (case, namespace, token in the environment, endpoint, message fragment); endpoint: "stub" is the
# running stand-in (through HF_ENDPOINT), "stopped" a stand-in's URL after it stopped, else a URL.
BAD_PUSHES = [
    ("bad namespace", "me/you", True, "stub", "--namespace 'me/you' is not a Hub user or organisation"),
    ("no token", NS, False, "stub", "No Hub token: pass --token, set HF_TOKEN"),
    ("unreachable endpoint", NS, True, "stopped", "Could not reach http://127.0.0.1:"),
    (
        "plain http elsewhere",
        NS,
        True,
        "http://192.168.1.5:8080",
        "Refusing to send your Hub token over plain",
    ),
]


@pytest.mark.parametrize(
    ("case", "namespace", "token", "endpoint", "fragment"), BAD_PUSHES, ids=[row[0] for row in BAD_PUSHES]
)
def test_bad_push_fails_before_any_upload(
    hub, exported, tmp_path, case, namespace, token, endpoint, fragment
):
    out, _ = exported
    env = hub.env(tmp_path / "publisher", token=FAKE_TOKEN if token else None)
    if endpoint == "stopped":
        env["HF_ENDPOINT"] = _stopped_endpoint(tmp_path)
    elif endpoint != "stub":
        env["HF_ENDPOINT"] = endpoint
    proc = run_ldmnist(["push", "--namespace", namespace, "--export-dir", str(out)], env)
    assert proc.returncode == 1, (case, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("ldmnist push: error:")]
    assert fragment in line, (case, line)
    # nothing created, nothing committed: not one request reached the stand-in (nor, through its proxy
    # guard, any other host)
    assert hub.repos() == [] and hub.log == []
