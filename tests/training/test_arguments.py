"""The training settings (training/arguments.py): every field checked, finite and bounded, when it is made."""

from helpers import bad_input_test, tiny_args

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
from ldmnist_hf.training.trainer import train


def test_mnist_source_is_the_old_name_of_data_from(tmp_path, caplog):
    args = tiny_args(tmp_path, mnist_source="cache")
    assert (args.data_from, args.mnist_source, args.source) == ("cache", None, "mnist")
    assert "`mnist_source` is deprecated: use `data_from`" in caplog.text
    assert tiny_args(tmp_path, source="fashion-mnist", data_from="debian").source == "fashion-mnist"


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "train-source-unknown",
        lambda c: tiny_args(c.tmp, source="kmnist"),
        LDMNISTError,
        "Unknown source dataset 'kmnist' (`source`): give one of mnist, fashion-mnist",
    ),
    (
        "train-mnist-source-beside-data-from",
        lambda c: tiny_args(c.tmp, data_from="cache", mnist_source="pypi"),
        LDMNISTError,
        "`mnist_source` is the old name of `data_from`: give `data_from` alone.",
    ),
    (
        "train-class-vae-learning-rate",
        lambda c: LDMNISTTrainingArguments(class_vae_learning_rate=float("inf")),
        LDMNISTError,
        "`class_vae_learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-inf",
        lambda c: tiny_args(c.tmp, learning_rate=float("inf")),
        LDMNISTError,
        "`learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-nan",
        lambda c: tiny_args(c.tmp, learning_rate=float("nan")),
        LDMNISTError,
        "`learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-huge",
        lambda c: tiny_args(c.tmp, learning_rate=1e30),
        LDMNISTError,
        "`learning_rate` must be in (0, 1.0]",
    ),
    (
        "train-lr-negative",
        lambda c: tiny_args(c.tmp, learning_rate=-1e-3),
        LDMNISTError,
        "`learning_rate` must be in",
    ),
    (
        "train-lr-string",
        lambda c: tiny_args(c.tmp, learning_rate="fast"),
        LDMNISTError,
        "`learning_rate` must be a number",
    ),
    (
        "train-epochs-float",
        lambda c: tiny_args(c.tmp, epochs=2.5),
        LDMNISTError,
        "`epochs` must be an integer",
    ),
    (
        "train-batch-zero",
        lambda c: tiny_args(c.tmp, batch_size=0),
        LDMNISTError,
        "`batch_size` must be an integer from 1",
    ),
    (
        "train-seed-negative",
        lambda c: tiny_args(c.tmp, seed=-3),
        LDMNISTError,
        "`seed` must be an integer from 0",
    ),
    (
        "train-plateau-factor",
        lambda c: tiny_args(c.tmp, plateau_factor=1.5),
        LDMNISTError,
        "`plateau_factor` must be in (0, 1)",
    ),
    ("train-device-foo", lambda c: tiny_args(c.tmp, device="foo"), LDMNISTError, "Unknown `device` 'foo'"),
    (
        "train-device-meta",
        lambda c: tiny_args(c.tmp, device="meta"),
        LDMNISTError,
        "`device` 'meta' is not supported",
    ),
    ("train-recipe", lambda c: tiny_args(c.tmp, recipe="slow"), LDMNISTError, "Unknown `recipe` 'slow'"),
    (
        "train-stop-after-negative",
        lambda c: tiny_args(c.tmp / "r", stop_after=-1),
        LDMNISTError,
        "`stop_after` must be an epoch number",
    ),
    (
        "train-resume-and-overwrite",
        lambda c: train(tiny_args(c.tmp / "r", resume=True, overwrite=True), mnist=c.mnist),
        LDMNISTError,
        "choose one",
    ),
    (
        "train-output-dir-empty",
        lambda c: tiny_args(""),
        LDMNISTError,
        "`output_dir` must name a folder, got ''",
    ),
    ("train-latent-dim-huge", lambda c: tiny_args(c.tmp, latent_dim=2**62), LDMNISTError, "from 1 to 4,096"),
    (
        "train-seed-above-2-63",
        lambda c: tiny_args(c.tmp, seed=2**64),
        LDMNISTError,
        "`seed` must be an integer from 0",
    ),
    (
        "train-schedule-unknown",
        lambda c: tiny_args(c.tmp, schedule="linear"),
        LDMNISTError,
        "Unknown `schedule` 'linear'",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)
