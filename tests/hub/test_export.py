"""`ldmnist export` (hub/export.py): what lands in each Hub repository, and that it works without the package.

Everything runs against local folders: the exported repositories are loaded in a Python where `ldmnist_hf`
cannot be imported, as a user who never installed it would load them from the Hub.
"""

import json
import os
import re
import shutil

import pytest
from conftest import CODE, EXPORTED_REPOS, IDS, NS
from helpers import bad_input_test, code_blocks, hub_cache, replace_file
from huggingface_hub import ModelCard

from ldmnist_hf.cli import main
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.export import export
from ldmnist_hf.hub.manifest import MANIFEST
from ldmnist_hf.hub.push import plan_text, read_export, upload_files
from ldmnist_hf.hub.space_repos import SPACES
from ldmnist_hf.pretrained.loading import PRETRAINED_DIR, load_pretrained
from ldmnist_hf.registry import MODEL_SETS


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


def test_model_and_dataset_cards_follow_the_hub_conventions(exported):
    from huggingface_hub import DatasetCard

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
        hub_cache(cache, IDS[kind], folders[kind])
    cards = [folders[role] / "README.md" for role in ("dataset", "metric", *CODE)]
    snippets = [(card, s) for card in cards for s in code_blocks(card.read_text())]
    assert len(snippets) == 7
    for card, code in snippets:
        ids = set(re.findall(r'"([\w.-]+/[\w.-]+)"', code))
        assert ids and ids <= set(IDS.values()), (card, ids)  # the namespace's repos, nothing else
        code = code.replace(f'load_dataset("{IDS["dataset"]}"', f"load_dataset({str(folders['dataset'])!r}")
        code = code.replace(f'evaluate.load("{IDS["metric"]}"', f"evaluate.load({str(folders['metric'])!r}")
        isolated_python(code, env={"HF_HUB_CACHE": str(cache)})


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(namespace="bad name"), "is not a Hub user or organisation"),
        (dict(stale_dataset=True), "was built from other class VAE weights"),
        (dict(class_vae=str(PRETRAINED_DIR / "image-vae-32")), "holds a ImageVAE, expected a ClassVAE"),
        (
            dict(image_vae="/nonexistent/image-vae-32"),
            "No model '/nonexistent/image-vae-32': not a shipped name",
        ),
        (dict(image_vae="/nonexistent/folder"), "give their folder with `middle_layers`"),
        (dict(image_vae_without_middle=True), "they were looked for beside it"),
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
        replace_file(dataset / "ldmnist_build.json", json.dumps(record).encode())
    if flipped:
        path = dataset / "data" / "train-00000-of-00001.parquet"
        raw = bytearray(path.read_bytes())
        raw[-200] ^= 1
        replace_file(path, bytes(raw))
    if link:
        (tmp_path / "secret").write_text("not to be published")
        (dataset / "report").mkdir(exist_ok=True)
        (dataset / "report" / "notes.txt").symlink_to(tmp_path / "secret")
    if kwargs.pop("foreign_output", False):
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "thesis.txt").write_text("years of work")
    if kwargs.pop("image_vae_without_middle", False):  # never paired with another set's middle layers
        shutil.copytree(PRETRAINED_DIR / "image-vae-32", tmp_path / "mine" / "image-vae-32")
        kwargs["image_vae"] = str(tmp_path / "mine" / "image-vae-32")
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
    err = capsys.readouterr().err.replace("'", "")
    assert f"invalid choice: huge (choose from {', '.join(MODEL_SETS)})" in err


def test_unknown_source(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["export", "--namespace", NS, "--output-dir", str(tmp_path / "o"), "--source", "kmnist"])
    assert e.value.code == 2
    err = capsys.readouterr().err.replace("'", "")
    assert "argument --source: invalid choice: kmnist (choose from mnist, fashion-mnist)" in err


# ----------------------------------------------------------------------------- bad input: the source dataset


def _built_from(c, source: str):
    """A copy of the tiny dataset whose build record names the source dataset `source`, as a build of it does."""
    return c.edit_json(c.copy("ds") / "ldmnist_build.json", lambda r: r.update(source=source)).parent


def _fashion_export(c, **kwargs):
    """`export` of LD-Fashion-MNIST whose default config is a build of Fashion-MNIST, with `kwargs`."""
    return export(
        NS, c.tmp / "out", dataset=_built_from(c, "fashion-mnist"), source="fashion-mnist", **kwargs
    )


BAD_INPUT = [
    (
        "export-unknown-source",
        lambda c: export(NS, c.tmp / "out", dataset=c.ds, source="kmnist"),
        LDMNISTError,
        "Unknown source dataset 'kmnist' (`source`): the LD versions published as Hub repositories are those of "
        "mnist, fashion-mnist. Give one of them.",
    ),
    (
        "export-mnist-build-as-fashion-mnist",
        lambda c: export(NS, c.tmp / "out", dataset=c.ds, source="fashion-mnist"),
        LDMNISTError,
        "encodes MNIST (source 'mnist' in its build record), not Fashion-MNIST: this export publishes Fashion-MNIST's LD version "
        "(ld-fashion-mnist). To publish it, export it with `source='mnist'`",
    ),
    (
        "export-fashion-mnist-build-as-mnist",
        lambda c: export(NS, c.tmp / "out", dataset=_built_from(c, "fashion-mnist")),
        LDMNISTError,
        "encodes Fashion-MNIST (source 'fashion-mnist' in its build record), not MNIST: this export publishes MNIST's LD version "
        "(ldmnist). To publish it, export it with `source='fashion-mnist'`, as its own repositories, or give a "
        "build of MNIST (`ldmnist build --source mnist`).",
    ),
    (
        "export-build-of-another-dataset",
        lambda c: export(NS, c.tmp / "out", dataset=_built_from(c, "someone/digits")),
        LDMNISTError,
        "encodes the source dataset 'someone/digits', whose LD version has no Hub repositories here, not MNIST",
    ),
    (
        "export-fashion-mnist-with-an-mnist-variant",
        lambda c: _fashion_export(c, variants={"ld6": c.ds}, variant_middle_layers={"ld6": c.iv}),
        LDMNISTError,
        "The 'ld6' config's build",
    ),
    (
        "export-fashion-mnist-variant-named-default",
        lambda c: _fashion_export(c, variants={"default": c.ds}),
        LDMNISTError,
        "Config name 'default' is the default config's name",
    ),
    (
        "export-fashion-mnist-variant-named-leaderboard",
        lambda c: _fashion_export(c, variants={"leaderboard": c.ds}),
        LDMNISTError,
        "Config name 'leaderboard' is reserved",
    ),
    (
        "export-fashion-mnist-variant-twice",
        lambda c: _fashion_export(c, variants=[("ld6", c.ds), ("ld6", c.ds)]),
        LDMNISTError,
        "Config name 'ld6' is given twice",
    ),
    (
        "export-fashion-mnist-ids-too-long-for-the-hub",
        lambda c: export(
            "n" * 80, c.tmp / "out", dataset=_built_from(c, "fashion-mnist"), source="fashion-mnist"
        ),
        LDMNISTError,
        "characters; at most 96",
    ),
]
test_bad_input = bad_input_test(BAD_INPUT)
