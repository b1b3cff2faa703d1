"""Strict loading (pretrained/loading.py): LD-MNIST models only, safetensors only, every weight from the file."""

import os

import pytest
import torch
from helpers import bad_input_test
from safetensors.torch import load_file, save_file

from ldmnist_hf import ClassVAE
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.pretrained.loading import load_pretrained


def test_partly_random_model_is_refused(tmp_path, tiny_kw):
    """Item 5: a class VAE without decoder.weight loaded with random values."""
    from ldmnist_hf import load_pretrained

    folder = tmp_path / "cv"
    ClassVAE.from_pretrained(tiny_kw["class_vae"]).save_pretrained(folder)
    sd = load_file(folder / "model.safetensors")
    del sd["decoder.weight"]
    save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(LDMNISTError, match="missing: decoder.weight"):
        load_pretrained(folder)


# ----------------------------------------------------------------------------- bad input


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


def _from_an_unreachable_hub(c, repo_id):
    """`load_pretrained(repo_id)` where no such folder exists and the Hub cannot be reached."""

    def unreachable(*args, **kwargs):
        raise OSError("unreachable")

    c.monkeypatch.setattr("ldmnist_hf.pretrained.loading.snapshot_download", unreachable)
    c.monkeypatch.chdir(c.tmp)
    return load_pretrained(repo_id)


def _folder_named_like(c, repo_id):
    """`load_pretrained(repo_id)` where a folder of that name, not a model's, is in the current folder."""
    (c.tmp / repo_id).mkdir(parents=True)
    c.monkeypatch.chdir(c.tmp)
    return load_pretrained(repo_id)


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    ("model-missing-folder", lambda c: load_pretrained(c.tmp / "nothing"), LDMNISTError, "no such folder"),
    (
        "model-unknown-name",
        lambda c: load_pretrained("image-vae-16"),
        LDMNISTError,
        "not a shipped name (image-vae-32",
    ),
    (
        "model-path-is-file",
        lambda c: load_pretrained(c.file()),
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
        "config.json holds an array ([...]), not a JSON object ({...}); save or download the model again",
    ),
    (
        "model-config-is-a-number",
        lambda c: ((c.copy("cv") / "config.json").write_text("3.5"), load_pretrained(c.tmp / "cv")),
        LDMNISTError,
        "config.json holds a number, not a JSON object",
    ),
    (
        "model-config-is-a-string",
        lambda c: ((c.copy("cv") / "config.json").write_text('"ClassVAE"'), load_pretrained(c.tmp / "cv")),
        LDMNISTError,
        "config.json holds a string, not a JSON object",
    ),
    (
        "model-hub-id-not-downloaded",
        lambda c: _from_an_unreachable_hub(c, "someone/ldmnist-class-vae-32"),
        LDMNISTError,
        "so it was taken for a Hub repository id, and the download failed (OSError: unreachable). For a Hub "
        "repository, check its name or the network (HF_HUB_OFFLINE); for a folder, check its path "
        "(./someone/ldmnist-class-vae-32 is always read as a folder)",
    ),
    (
        "model-folder-named-like-a-hub-id",
        lambda c: _folder_named_like(c, "someone/ldmnist-class-vae-32"),
        LDMNISTError,
        "(someone/ldmnist-class-vae-32 was read as this local folder, not as the Hub repository of that name)",
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
]

test_bad_input = bad_input_test(BAD_INPUT)
