"""Training checkpoints (training/checkpoints.py): any damage to one is refused, never resumed from."""

import json
import shutil

import torch
from helpers import PROPERTY_EXAMPLES, bad_input_test, property_settings, tiny_args
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.training.trainer import train

# ----------------------------------------------------------------------------- any metadata (property-based)


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


@property_settings(max(25, PROPERTY_EXAMPLES // 4))
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


# ----------------------------------------------------------------------------- bad input


def _run_with(c, change):
    run = c.copy("run")
    change(run / "checkpoint")
    return run


def _resume(c, run):
    return train(tiny_args(run, resume=True), mnist=c.mnist, progress=False)


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


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
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
        "trainer_state.json holds an array ([...]), not a JSON object ({...}); this checkpoint cannot be resumed",
    ),
    (
        "train-resume-state-is-a-number",
        lambda c: _resume(c, _write_state(c, 1)),
        LDMNISTError,
        "trainer_state.json holds a number, not a JSON object",
    ),
    (
        "train-resume-args-null",
        lambda c: _resume(c, _state_with(c, lambda d: d.update(args=None))),
        LDMNISTError,
        "is damaged (fields of the wrong type)",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
