import subprocess
import sys

import pytest

from ldmnist_hf.cli import build_parser, main

COMMANDS = [
    "fetch-mnist",
    "train",
    "release",
    "build",
    "verify",
    "benchmark",
    "fidelity",
    "report",
    "export",
    "push",
]


def test_help_is_light():
    """`ldmnist --help` must not pay for torch, transformers or datasets."""
    code = (
        "import sys\nfrom ldmnist_hf.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for command in COMMANDS:
        assert command in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([command, "--help"])
    assert e.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_known_errors_are_one_line(capsys, empty_cache):
    assert main(["fetch-mnist", "--source", "kaggle"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ldmnist fetch-mnist: error: Unknown MNIST source 'kaggle'")


def test_train_options_come_from_the_dataclass():
    """Every training setting is a `ldmnist train` option, with the dataclass's default, and the help
    is built without importing torch."""
    import dataclasses

    from ldmnist_hf.cli import build_parser
    from ldmnist_hf.training_args import LDMNISTTrainingArguments

    parser = build_parser()
    args = parser.parse_args(["train"])
    for f in dataclasses.fields(LDMNISTTrainingArguments):
        assert getattr(args, f.name) == f.default, f.name
    args = parser.parse_args(["train", "--class-vae-draws", "3", "--no-classification-to-vaes", "--compile"])
    assert (args.class_vae_draws, args.classification_to_vaes, args.compile) == (3, False, True)
    code = "import sys; from ldmnist_hf.cli import main\ntry:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass"
    code += "\nprint(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "--class-vae-learning-rate" in out.stdout and out.stdout.strip().endswith("[]"), out.stderr
