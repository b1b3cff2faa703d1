"""`ldmnist export` / `ldmnist push`: what lands in each Hub repository, and that it works without the package.

Everything runs against local folders: the exported repositories are loaded in a Python where `ldmnist_hf`
cannot be imported, as a user who never installed it would load them from the Hub.
"""

import difflib
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import EXPORTED_REPOS, NS
from helpers import ROOT

import ldmnist_hf
from ldmnist_hf.cli import main
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.export import export
from ldmnist_hf.hub.manifest import MANIFEST
from ldmnist_hf.hub.push import check_endpoint, plan_text, push, read_export, upload_files
from ldmnist_hf.hub.space_repos import SPACES
from ldmnist_hf.pretrained.loading import PRETRAINED_DIR, load_pretrained
from ldmnist_hf.rendering import render_metric_card

IDS = {
    "image_vae": f"{NS}/ldmnist-image-vae-32",
    "class_vae": f"{NS}/ldmnist-class-vae-32",
    "class_vae16": f"{NS}/ldmnist-class-vae-16-ld16",
    "middle_layers": f"{NS}/ldmnist-middle-layers-32",
    "dataset": f"{NS}/ldmnist",
    "metric": f"{NS}/ldmnist",
    "explorer": f"{NS}/ldmnist-explorer",
}
TYPES = {"dataset": "dataset", "metric": "space", "explorer": "space"}
CODE = {
    "image_vae": ["configuration_image_vae.py", "modeling_image_vae.py", "distributions.py"],
    "class_vae": ["configuration_class_vae.py", "modeling_class_vae.py", "distributions.py"],
    "middle_layers": ["configuration_middle_layers.py", "modeling_middle_layers.py"],
}
EVALUATION = json.loads((PRETRAINED_DIR / "evaluation.json").read_text())


def test_one_folder_per_repo_with_only_what_it_needs(exported):
    out, folders = exported
    manifest = json.loads((out / MANIFEST).read_text())
    assert [
        (r["role"], r["config"], r["repo_id"], r["repo_type"]) for r in manifest["repos"]
    ] == EXPORTED_REPOS
    for key in ("linear", "middle", "mlp", "zero"):  # the benchmark's baselines: predictions, results, card
        assert sorted(p for p, _ in upload_files(folders[f"baseline:{key}"])) == [
            ".eval_results/ldmnist-default.yaml",
            "README.md",
            "ldmnist/predictions-default.parquet",
        ]
    for kind, code in CODE.items():
        names = sorted(p for p, _ in upload_files(folders[kind]))
        common = [
            "README.md",
            "config.json",
            "configuration_utils.py",
            "model.safetensors",
            "modeling_utils.py",
        ]
        assert names == sorted(common + code), kind  # no other model's code: no cross-registration
        config = json.loads((folders[kind] / "config.json").read_text())
        stem = code[1][: -len(".py")]
        assert config["auto_map"]["AutoModel"] == f"{stem}.{type(load_pretrained(folders[kind])).__name__}"
        for path in folders[kind].glob("*.py"):
            assert not re.search(r"^\s*(from|import)\s+ldmnist_hf", path.read_text(), flags=re.M), path
    shots = ["screenshot.png"] if (SPACES / "metric" / "screenshot.png").exists() else []
    assert sorted(p for p, _ in upload_files(folders["metric"])) == sorted(
        ["README.md", "app.py", "ldmnist.py", "requirements.txt", "space.json", *shots]
    )
    shots = ["screenshot.png"] if (SPACES / "explorer" / "screenshot.png").exists() else []
    assert sorted(p for p, _ in upload_files(folders["explorer"])) == sorted(
        ["README.md", "app.py", "explorer.py", "requirements.txt", "space.json", *shots]
    )
    for space in ("metric", "explorer"):  # the Spaces never need this package
        for path in folders[space].glob("*.py"):
            assert not re.search(r"^\s*(from|import)\s+ldmnist_hf", path.read_text(), flags=re.M), path
    data = sorted(p for p, _ in upload_files(folders["dataset"]))
    assert {".gitattributes", "README.md", "ldmnist_build.json", "benchmark.json"} <= set(data)
    assert "eval.yaml" not in data  # the Hub refuses an evaluation framework not on its allow-list
    assert [p for p in data if "data/" in p] == [
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
        "ld16/data/test-00000-of-00001.parquet",
        "ld16/data/train-00000-of-00001.parquet",
    ]
    assert not [p for p in data if "benchmark_predictions" in p]  # those went to the baselines' repos


def test_dataset_card_and_gitattributes(exported):
    from huggingface_hub import DatasetCard

    _, folders = exported
    card = DatasetCard.load(folders["dataset"] / "README.md")
    infos = {i["config_name"]: i for i in card.data.dataset_info}  # one per config
    assert set(infos) == {"default", "ld16"}
    for name, folder in (("default", folders["dataset"]), ("ld16", folders["dataset"] / "ld16")):
        assert infos[name]["download_size"] == sum(p.stat().st_size for p in (folder / "data").iterdir())
    assert card.data.license == "mit" and card.data.task_categories == ["tabular-regression"]
    for kind in ("image_vae", "class_vae"):
        assert f"(https://huggingface.co/{IDS[kind]})" in card.text
    assert f"(https://huggingface.co/spaces/{IDS['metric']})" in card.text
    attributes = (folders["dataset"] / ".gitattributes").read_text().splitlines()
    patterns = {line.split()[0] for line in attributes if line and not line.startswith("#")}
    # the Hub's default list for a new dataset repository, media types included
    for p in ("*.parquet", "*.safetensors", "*.npy", "*.arrow", "*.zst", "*tfevents*", "*.png", "*.mp4"):
        assert p in patterns
    assert len(patterns) == 54 and all(
        line.endswith("filter=lfs diff=lfs merge=lfs -text")
        for line in attributes
        if line and not line.startswith("#")
    )


def test_built_dataset_records_the_weights_it_was_made_from(built):
    from ldmnist_hf.data.read import read_build_info
    from ldmnist_hf.files import sha256_file

    info = read_build_info(built / "ldmnist")
    for kind, name in (("image_vae", "image-vae-32"), ("class_vae", "class-vae-32")):
        assert info[f"{kind}_sha256"] == sha256_file(PRETRAINED_DIR / name / "model.safetensors")


def test_model_cards_carry_the_release_evaluation(exported):
    from huggingface_hub import ModelCard

    _, folders = exported
    m = EVALUATION["metrics"]
    expected = {
        "image_vae": {},
        "class_vae": {"accuracy": m["class_vae_accuracy_mean"]},
        "middle_layers": {"mse": m["middle_layers_test_mse"], "accuracy": m["middle_layers_accuracy"]},
    }
    for kind, metrics in expected.items():
        card = ModelCard.load(folders[kind] / "README.md")
        results = card.data.eval_results or []
        assert {r.metric_type: r.metric_value for r in results} == metrics
        assert all(r.source_url == f"https://huggingface.co/{IDS[kind]}" and r.source_name for r in results)
        # `model_name` names the model-index: only a card with results has one (the image VAE has none)
        assert card.data.model_name == (IDS[kind].split("/")[1] if card.data.eval_results else None)
        assert card.data.datasets == ["ylecun/mnist"]  # what it was trained on
        assert IDS["dataset"] in card.text
        assert f'AutoModel.from_pretrained("{IDS[kind]}", trust_remote_code=True)' in card.text
        assert "pretrained_path" not in card.text and "import ldmnist_hf" not in card.text


def test_space_script_differs_from_the_package_metric_in_one_line(exported):
    _, folders = exported
    package = (Path(ldmnist_hf.METRIC_PATH) / "ldmnist.py").read_text().splitlines()
    space = (folders["metric"] / "ldmnist.py").read_text().splitlines()
    changed = [line for line in difflib.unified_diff(package, space, lineterm="", n=0) if line[:1] in "+-"]
    assert changed == [
        "--- ",
        "+++ ",
        "-CLASS_VAES = {}",
        f'+CLASS_VAES = {{"default": "{IDS["class_vae"]}", "ld16": "{IDS["class_vae16"]}"}}',
    ]
    for space in ("metric", "explorer"):
        pins = [
            line for line in (folders[space] / "requirements.txt").read_text().splitlines() if line[:1] != "#"
        ]
        assert pins and all(re.fullmatch(r"[\w-]+==[\w.]+", line) for line in pins), pins  # pinned


# The keys of the Hub's Spaces configuration reference (hub-docs spaces-config-reference.md).
SPACE_KEYS = {
    "title",
    "emoji",
    "colorFrom",
    "colorTo",
    "sdk",
    "python_version",
    "sdk_version",
    "suggested_hardware",
    "suggested_storage",
    "app_file",
    "app_port",
    "base_path",
    "fullWidth",
    "header",
    "short_description",
    "models",
    "datasets",
    "tags",
    "thumbnail",
    "pinned",
    "hf_oauth",
    "hf_oauth_scopes",
    "hf_oauth_expiration_minutes",
    "hf_oauth_authorized_org",
    "disable_embedding",
    "startup_duration_timeout",
    "custom_headers",
    "preload_from_hub",
    "license",
}


def _front_matter(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text().split("---\n")[1])


def test_space_cards_follow_the_spaces_reference(exported):
    from huggingface_hub import SpaceCard

    from ldmnist_hf.rendering import SPACE_PYTHON, SPACE_SDK_VERSION

    _, folders = exported
    for space, models, datasets in (
        ("metric", [IDS["class_vae"], IDS["class_vae16"]], [IDS["dataset"]]),  # every config's class VAE
        ("explorer", [IDS["image_vae"], IDS["class_vae"]], [IDS["dataset"], "ylecun/mnist"]),
    ):
        front = _front_matter(folders[space] / "README.md")
        assert set(front) <= SPACE_KEYS, set(front) - SPACE_KEYS
        data = SpaceCard.load(folders[space] / "README.md").data
        assert (data.sdk, data.sdk_version, data.app_file) == ("gradio", SPACE_SDK_VERSION, "app.py")
        assert str(front["python_version"]) == SPACE_PYTHON and front["license"] == "mit"
        assert front["models"] == models and front["datasets"] == datasets
        assert 0 < len(front["short_description"]) <= 60


def test_model_and_dataset_cards_follow_the_hub_conventions(exported):
    from huggingface_hub import DatasetCard, ModelCard

    _, folders = exported
    ids = {"accuracy", "mse"}  # metric ids of the Hub; bce and accuracy_std are not
    for kind, pipeline in (("image_vae", None), ("class_vae", None), ("middle_layers", "tabular-regression")):
        card = ModelCard.load(folders[kind] / "README.md")
        assert card.data.pipeline_tag == pipeline, kind
        assert {r.metric_type for r in card.data.eval_results or []} <= ids
        assert set(card.data.metrics or []) == {r.metric_type for r in card.data.eval_results or []}
        sections = re.findall(r"^## (.+)$", card.text, flags=re.M)
        assert {"Uses", "Limitations", "Training", "How to use", "Citation"} <= set(sections), sections
        assert "revision=" in card.text and "lecun1998mnist" in card.text and "ldmnist2020" in card.text
    card = DatasetCard.load(folders["dataset"] / "README.md")
    sections = re.findall(r"^## (.+)$", card.text, flags=re.M)
    for section in (
        "Dataset Details",
        "Uses",
        "Dataset Structure",
        "Dataset Creation",
        "Bias, Risks, and Limitations",
        "Citation",
    ):
        assert section in sections
    assert (
        "Fidelity" not in card.text and "Run `ldmnist" not in card.text
    )  # no section waits for a maintainer
    assert "cache" not in card.text.split("## Dataset Creation")[0]  # what MNIST is, not where it came from
    record = json.loads((folders["dataset"] / "ldmnist_build.json").read_text())
    assert not [
        v for v in record.values() if isinstance(v, str) and v.startswith("/")
    ]  # no build-machine paths
    assert record["image_vae_source"] == IDS["image_vae"]


def test_metric_card_follows_evaluate_template(exported):
    _, folders = exported
    text = (folders["metric"] / "README.md").read_text()
    front = _front_matter(folders["metric"] / "README.md")
    assert front["sdk"] == "gradio" and front["app_file"] == "app.py" and "evaluate" in front["tags"]
    sections = re.findall(r"^#+ (.+)$", text, flags=re.M)
    for section in (
        "Metric Description",
        "How to Use",
        "Inputs",
        "Output Values",
        "Examples",
        "Limitations and Bias",
        "Citation",
    ):
        assert section in sections
    assert "lower is better" in text and "higher is better" in text
    # the package's own copy is the same template, rendered for the package
    assert (Path(ldmnist_hf.METRIC_PATH) / "README.md").read_text() == render_metric_card()


def _hub_cache(cache: Path, repo_id: str, folder: Path) -> None:
    """Puts a model folder into a huggingface_hub cache as if downloaded, so the unmodified repo id loads offline."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    shutil.copytree(folder, repo / "snapshots" / ("0" * 40))


def _local(code: str, folders: dict) -> str:
    """The dataset and metric ids of a snippet pointed at the exported folders (literal or f-string ids)."""
    for ref in (f'"{IDS["dataset"]}"', 'f"{NS}/ldmnist"'):
        code = code.replace(f"load_dataset({ref}", f"load_dataset({str(folders['dataset'])!r}")
        code = code.replace(f"evaluate.load({ref}", f"evaluate.load({str(folders['metric'])!r}")
    return code


def test_readme_hub_example_runs_without_the_package(exported, isolated_python, tmp_path):
    _, folders = exported
    cache = tmp_path / "hub-cache"
    for kind in CODE:
        _hub_cache(cache, IDS[kind], folders[kind])
    readme = (ROOT / "README.md").read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if 'NS = "your-namespace"' in b]
    code = _local(code.replace('NS = "your-namespace"', f'NS = "{NS}"'), folders)
    out = isolated_python(code, env={"HF_HUB_CACHE": str(cache)})
    assert "'reconstructed_accuracy': 1.0" in out


def test_export_command_prints_what_it_wrote(tmp_path, built, capsys):
    out = tmp_path / "hub"
    assert (
        main(["export", "--namespace", NS, "--output-dir", str(out), "--dataset", str(built / "ldmnist")])
        == 0
    )
    assert capsys.readouterr().out.strip() == plan_text(out, read_export(out, NS))


def test_card_snippets_run_without_the_package(exported, isolated_python, tmp_path):
    """Every ```python block of every exported card, as written, in a Python without ldmnist_hf.

    The model repos sit in an offline Hub cache under their repo ids; the dataset and metric ids, which
    the cards give to `load_dataset` and `evaluate.load`, are pointed at the exported folders.
    """
    _, folders = exported
    cache = tmp_path / "hub-cache"
    for kind in CODE:
        _hub_cache(cache, IDS[kind], folders[kind])
    cards = [folders[role] / "README.md" for role in ("dataset", "metric", *CODE)]
    snippets = [
        (card, s) for card in cards for s in re.findall(r"```python\n(.*?)```", card.read_text(), re.S)
    ]
    assert len(snippets) == 7
    for card, code in snippets:
        ids = set(re.findall(r'"([\w.-]+/[\w.-]+)"', code))
        assert ids and ids <= set(IDS.values()), (card, ids)  # the namespace's repos, nothing else
        code = code.replace(f'load_dataset("{IDS["dataset"]}"', f"load_dataset({str(folders['dataset'])!r}")
        code = code.replace(f'evaluate.load("{IDS["metric"]}"', f"evaluate.load({str(folders['metric'])!r}")
        isolated_python(code, env={"HF_HUB_CACHE": str(cache)})


def test_remote_code_outputs_equal_the_package(exported, isolated_python, tmp_path):
    """AutoModel(trust_remote_code=True) in a Python without ldmnist_hf returns the same outputs as the package."""
    _, folders = exported
    out = tmp_path / "outputs.npz"
    code = f"""
import numpy as np, torch
from transformers import AutoModel
torch.manual_seed(0)
images = torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8)
latents = torch.randn(16, 32)
folders = { ({k: str(v) for k, v in folders.items()})!r}
iv, cv, ml = (AutoModel.from_pretrained(folders[k], trust_remote_code=True).eval()
              for k in ("image_vae", "class_vae", "middle_layers"))
assert not type(cv).__module__.startswith("ldmnist_hf"), type(cv).__module__
with torch.no_grad():
    g = torch.Generator().manual_seed(1)
    np.savez({str(out)!r},
        mean=iv.encode(images).latent_dist.mean.numpy(), pixels=iv.decode(latents).sample.numpy(),
        loss=iv(images).loss.numpy(), class_mean=cv.encode(torch.arange(10)).latent_dist.mean.numpy(),
        sample=cv.encode(torch.arange(10)).latent_dist.sample(g).numpy(),
        probs=cv.decode(latents).probs.numpy(), middle=ml(latents).outputs.numpy())
"""
    isolated_python(code)
    remote = np.load(out)
    iv, cv, ml = (load_pretrained(n) for n in ("image-vae-32", "class-vae-32", "middle-layers-32"))
    torch.manual_seed(0)
    images = torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8)
    latents = torch.randn(16, 32)
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        local = dict(
            mean=iv.encode(images).latent_dist.mean,
            pixels=iv.decode(latents).sample,
            loss=iv(images).loss,
            class_mean=cv.encode(torch.arange(10)).latent_dist.mean,
            sample=cv.encode(torch.arange(10)).latent_dist.sample(g),
            probs=cv.decode(latents).probs,
            middle=ml(latents).outputs,
        )
    for key, value in local.items():
        np.testing.assert_array_equal(remote[key], value.numpy(), err_msg=key)


def test_package_loads_exported_folders_without_remote_code(exported, tmp_path):
    """With the package installed, `import ldmnist_hf` is light and AutoModel then returns its classes."""
    import subprocess
    import sys

    _, folders = exported
    code = f"""
import sys
import ldmnist_hf
heavy = [m for m in ("torch", "transformers", "datasets") if m in sys.modules]
assert not heavy, heavy
from transformers import AutoConfig, AutoModel
for folder in {[str(folders[k]) for k in CODE] + [str(PRETRAINED_DIR / "class-vae-32")]!r}:
    model = AutoModel.from_pretrained(folder)  # no trust_remote_code
    assert type(model).__module__.startswith("ldmnist_hf."), type(model).__module__
    assert type(AutoConfig.from_pretrained(folder)).__module__.startswith("ldmnist_hf.")
print("ok")
"""
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert not (tmp_path / "modules").exists() or not list((tmp_path / "modules").rglob("modeling_*.py"))


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


def _replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


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
            _replace(script, script.read_bytes().replace(IDS["class_vae"].encode(), b"someone/else"))
    args = dict(namespace=NS, export_dir=folder, token="hf_test", endpoint="https://hub.invalid") | kwargs
    with pytest.raises(error, match=re.escape(fragment)):
        push(**args)


@pytest.mark.parametrize(
    "endpoint, token, ok",
    [
        ("https://huggingface.co", True, True),
        ("http://127.0.0.1:8080", True, True),
        ("http://127.5.0.1", True, True),
        ("http://localhost:5564/", True, True),
        ("http://[::1]:8080", True, True),
        ("http://example.com", False, True),  # a dry run sends no token
        ("http://example.com", True, False),
        ("http://localhost.example.com", True, False),
        ("http://10.0.0.1", True, False),
    ],
)
def test_token_goes_over_plain_http_only_to_loopback(endpoint, token, ok):
    if ok:
        assert check_endpoint(endpoint, sends_token=token) == endpoint.rstrip("/")
    else:
        with pytest.raises(LDMNISTError, match="Refusing to send your Hub token over plain http"):
            check_endpoint(endpoint, sends_token=token)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(namespace="bad name"), "is not a Hub user or organisation"),
        (dict(stale_dataset=True), "was built from other class VAE weights"),
        (dict(class_vae=str(PRETRAINED_DIR / "image-vae-32")), "holds a ImageVAE, expected a ClassVAE"),
        (dict(image_vae="/nonexistent/folder"), "No model '/nonexistent/folder': not a shipped name"),
        (dict(flipped_byte=True), "train-00000-of-00001.parquet has changed since the build"),
        (dict(link_inside=True), "is a symbolic link; a dataset folder to publish holds regular files only"),
        (dict(foreign_output=True, overwrite=True), "holds files this command did not write"),
        (dict(same_build_twice=True), "The configs 'default' and 'again' are the same build"),
    ],
)
def test_export_refuses_bad_input(tmp_path, built, kwargs, fragment):
    dataset = built / "ldmnist"
    stale, flipped, link = (kwargs.pop(k, False) for k in ("stale_dataset", "flipped_byte", "link_inside"))
    if stale or flipped or link:  # a copy to damage (hard links: files are replaced, never edited)
        dataset = tmp_path / "ds"
        shutil.copytree(built / "ldmnist", dataset, copy_function=os.link)
    if stale:
        record = json.loads((dataset / "ldmnist_build.json").read_text())
        record["class_vae_sha256"] = "0" * 64
        _replace(dataset / "ldmnist_build.json", json.dumps(record).encode())
    if flipped:
        path = dataset / "data" / "train-00000-of-00001.parquet"
        raw = bytearray(path.read_bytes())
        raw[-200] ^= 1
        _replace(path, bytes(raw))
    if link:
        (tmp_path / "secret").write_text("not to be published")
        (dataset / "report").mkdir(exist_ok=True)
        (dataset / "report" / "notes.txt").symlink_to(tmp_path / "secret")
    if kwargs.pop("foreign_output", False):
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "thesis.txt").write_text("years of work")
    if kwargs.pop("same_build_twice", False):
        kwargs["variants"] = {"again": dataset}
    args = dict(namespace=NS, output_dir=tmp_path / "out", dataset=dataset) | kwargs
    with pytest.raises(LDMNISTError, match=re.escape(fragment)):
        export(**args)
    out = tmp_path / "out"
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == ["thesis.txt"]  # nothing half-written


def test_unknown_model_set(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["export", "--namespace", NS, "--output-dir", str(tmp_path / "o"), "--models", "huge"])
    assert e.value.code == 2
    assert "invalid choice: 'huge' (choose from fast, reference)" in capsys.readouterr().err.replace(
        "'fast', 'reference'", "fast, reference"
    )
