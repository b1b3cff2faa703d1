import os
import subprocess
import sys

import pytest

from ldmnist_hf.cli import build_parser, main

COMMANDS = [
    "fetch-mnist",
    "train",
    "release",
    "cards",
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
    from ldmnist_hf.training.arguments import LDMNISTTrainingArguments

    parser = build_parser()
    args = parser.parse_args(["train"])
    for f in dataclasses.fields(LDMNISTTrainingArguments):
        assert getattr(args, f.name) == f.default, f.name
    choices = {a.dest: a.choices for a in parser._subparsers._group_actions[0].choices["train"]._actions}
    assert choices["recipe"] == ("reference", "fast") and choices["schedule"] == (
        "plateau",
        "cosine",
        "constant",
    )
    assert choices["dropout_batchnorm"] == ("eval", "train") and choices["sampling"] == (
        "reference",
        "standard",
    )
    for session in ("resume", "overwrite", "stop_after", "mnist_source"):  # every option is a field
        assert session in {f.name for f in dataclasses.fields(LDMNISTTrainingArguments)}
    args = parser.parse_args(["train", "--class-vae-draws", "3", "--no-classification-to-vaes", "--compile"])
    assert (args.class_vae_draws, args.classification_to_vaes, args.compile) == (3, False, True)
    code = "import sys; from ldmnist_hf.cli import main\ntry:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass"
    code += "\nprint(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "--class-vae-learning-rate" in out.stdout and out.stdout.strip().endswith("[]"), out.stderr


def test_library_errors_name_the_flags_of_the_command(capsys, tmp_path):
    """The library says `learning_rate`; the command line says --learning-rate (and --no-verify, --resume)."""
    from ldmnist_hf.cli import as_flags

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    fetch = build_parser()._subparsers._group_actions[0].choices["fetch-mnist"]
    assert as_flags("`learning_rate` must be in (0, 1]", train) == "--learning-rate must be in (0, 1]"
    assert as_flags("continue it with `resume=True`", train) == "continue it with --resume"
    assert as_flags("use `device=cpu`", train) == "use --device cpu"
    assert as_flags("Pass `verify=False` to", fetch) == "Pass --no-verify to"
    assert (
        as_flags("run `ldmnist build --overwrite` and `x`", train)
        == "run `ldmnist build --overwrite` and `x`"
    )
    assert main(["train", "--learning-rate", "2", "--output-dir", str(tmp_path / "r")]) == 1
    assert "error: --learning-rate must be in (0, 1.0]" in capsys.readouterr().err


@pytest.fixture(scope="module")
def cache(tmp_path_factory, mnist):
    from ldmnist_hf.data.mnist import write_cache

    folder = tmp_path_factory.mktemp("cache")
    write_cache(mnist, folder / "mnist")
    return folder


@pytest.mark.parametrize(
    "before, after, shown",
    [
        ([], [], True),
        ([], ["--quiet"], False),
        (["-q"], [], False),
        ([], ["-v"], True),
        (["--verbose"], [], True),
    ],
)
def test_quiet_and_verbose(cache, before, after, shown):
    """Progress messages go to stderr through logging; --quiet keeps results and errors only; the flags work
    before the command (`ldmnist -q fetch-mnist`) and after it."""
    env = {**os.environ, "LDMNIST_CACHE": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", *before, "fetch-mnist", *after, "--source", "cache"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("MNIST from cache: 60000 train")
    assert ("MNIST: read from the verified cache" in proc.stderr) == shown, proc.stderr


def test_quiet_and_verbose_exclude_each_other_wherever_given():
    proc = subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", "-q", "fetch-mnist", "-v"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "-q/--quiet and -v/--verbose exclude each other" in proc.stderr


def test_the_library_logs_and_never_prints(cache, monkeypatch, caplog, capsys):
    """A library user gets the package's messages through `logging` (here captured), nothing on stderr."""
    import logging

    from ldmnist_hf import load_mnist

    monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    caplog.set_level(logging.INFO, logger="ldmnist_hf")
    load_mnist("cache")
    assert any("read from the verified cache" in r.getMessage() for r in caplog.records)
    assert capsys.readouterr().err == ""
