"""Property-based tests of input validation: any value gives a correct result or one of our clear errors.

Hypothesis draws the inputs of the metric, the model configurations and a training checkpoint's metadata;
each example must either work (and then be right) or raise our error type with a message, never another
exception type from deep inside numpy, torch or transformers.
"""

import json
import math
import os
import shutil

import numpy as np
import pytest
import torch
from helpers import tiny_args
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ldmnist_hf
from ldmnist_hf import ClassVAEConfig, ImageVAEConfig, MiddleLayersConfig
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.training.trainer import train

# PROPERTY_EXAMPLES=2000 pytest tests/test_properties.py searches harder than the default run does.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --------------------------------------------------------------------------------------------- the metric

_dtypes = st.sampled_from(
    [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_, np.complex64]
)
_shapes = st.one_of(
    st.tuples(st.integers(0, 5), st.sampled_from([0, 1, 16, 32])), st.tuples(st.integers(0, 5)), st.just(())
)
_arrays = hnp.arrays(_dtypes, _shapes, elements=None)
_values = st.one_of(
    _arrays,
    st.none(),
    st.text(max_size=3),
    st.lists(st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=1)), max_size=3), max_size=3),
)


@pytest.fixture(scope="module")
def metric():
    return ldmnist_hf.load_metric()


@SETTINGS
@given(predictions=_values, references=_values, labels=st.one_of(st.none(), _values))
def test_metric_any_input_scores_right_or_says_why(metric, predictions, references, labels):
    try:
        out = metric.compute(predictions=predictions, references=references, labels=labels)
    except ValueError as e:
        assert str(e).strip(), "an error without a message"
        return
    p = np.asarray(predictions, np.float64)
    r = np.asarray(references, np.float32).astype(np.float64)
    assert math.isfinite(out["mse"])
    assert out["mse"] == pytest.approx(
        np.mean((p.astype(np.float32).astype(np.float64) - r) ** 2), rel=1e-6, abs=1e-9
    )
    if labels is not None:
        assert 0.0 <= out["reconstructed_accuracy"] <= 1.0


# -------------------------------------------------------------------------------------- model configs

_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.integers(-5, 200), max_size=4),
    st.just("reference"),
    st.just("standard"),
)
_FIELDS = {
    ImageVAEConfig: (
        "latent_dim",
        "image_size",
        "encoder_hidden_sizes",
        "decoder_hidden_sizes",
        "dropout",
        "leaky_relu_slope",
        "batch_norm_eps",
        "batch_norm_momentum",
        "kl_weight",
        "sampling",
    ),
    ClassVAEConfig: ("latent_dim", "num_classes", "kl_weight", "sampling"),
    MiddleLayersConfig: (
        "latent_dim",
        "hidden_sizes",
        "dropout",
        "leaky_relu_slope",
        "batch_norm_eps",
        "batch_norm_momentum",
    ),
}


@SETTINGS
@given(data=st.data(), config_class=st.sampled_from(list(_FIELDS)))
def test_model_configs_are_valid_or_refused(data, config_class):
    """A configuration either builds a model whose forward runs on finite inputs with finite outputs, or it is
    refused with a ValueError naming the field."""
    fields = data.draw(st.lists(st.sampled_from(_FIELDS[config_class]), unique=True, max_size=3))
    kwargs = {f: data.draw(_anything, label=f) for f in fields}
    try:
        config = config_class(**kwargs)
    except ValueError as e:
        assert any(f"`{f}" in str(e) for f in fields), str(e)
        return
    from ldmnist_hf.registry import KINDS

    kind = next(k for k in KINDS.values() if k.config_class is config_class)
    with torch.device("meta"):  # the sizes must be buildable; the meta device allocates nothing
        kind.model_class(config)
    small = all(v <= 512 for f, v in kwargs.items() if isinstance(v, int) and "size" not in f)
    if small and config.latent_dim <= 64 and getattr(config, "image_size", 28) <= 32:
        model = kind.model_class(config).eval()
        z = torch.randn(2, config.latent_dim)
        out = model.decode(z)[0] if hasattr(model, "decode") else model(z).outputs
        assert torch.isfinite(out).all()


# ------------------------------------------------------------------------------ checkpoint metadata

_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**66), 2**66),
        st.floats(allow_nan=False),
        st.text(max_size=3),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
_STATE_KEYS = ("epoch", "args", "optimizers", "schedulers")


@settings(
    max_examples=max(25, EXAMPLES // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=st.sampled_from(_STATE_KEYS + ("whole file",)), value=_json)
def test_a_checkpoints_metadata_resumes_or_is_refused(tiny, tmp_path_factory, key, value):
    """trainer_state.json with any JSON in any of its fields: the run resumes as before, or is refused with
    an LDMNISTError; never another exception, never a run that trains on a wrong state."""
    run = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(tiny.run, run)
    state_file = run / "checkpoint" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    state = value if key == "whole file" else {**state, key: value}
    state_file.write_text(json.dumps(state))
    try:
        summary = train(tiny_args(run, resume=True), mnist=tiny.mnist, progress=False)
    except LDMNISTError as e:
        assert str(e).strip()
        return
    assert summary["final"]["epoch"] == 2  # it resumed the 2-epoch run to its end
