"""`overwrite` replaces only what an ldmnist command wrote, for every writer (files.atomic_dir and its listing).

Each writer writes its output, the user saves a file of their own into it (at the top and one folder down),
and the same command with `overwrite` refuses, naming the file, and leaves everything as it was; once the
file is moved out, the command replaces its output. A file saved while the command runs is never lost either.
"""

import json
import shutil

import pytest
from conftest import NS

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.files.atomic import atomic_dir
from ldmnist_hf.files.listing import WRITTEN, foreign_files


def _build(tiny, tiny_kw, out):
    from ldmnist_hf.build.dataset import build_dataset

    build_dataset(out, overwrite=True, **tiny_kw)
    return out, "data"


def _benchmark(tiny, tiny_kw, out):
    from ldmnist_hf.analysis.benchmark import PREDICTIONS_DIR, run_benchmark, write_benchmark

    if not out.exists():
        shutil.copytree(tiny.ds, out)
    write_benchmark(run_benchmark(out, mlp_epochs=1, progress=False), out)
    return out / PREDICTIONS_DIR, None


def _report(tiny, tiny_kw, out):
    from ldmnist_hf.analysis.report import make_report

    dataset = out.parent / "ds-for-report"
    if not dataset.exists():
        shutil.copytree(tiny.ds, dataset)
    make_report(dataset, out, components=(1, 2), mnist=tiny.mnist, overwrite=True)
    return out, None


def _release(tiny, tiny_kw, out):
    from ldmnist_hf.training.release import release

    release(tiny.root / "done", dest=out, mnist=tiny.mnist, latent_dim=4)
    return out / "image-vae-4", None


def _cache(tiny, tiny_kw, out):
    from ldmnist_hf.data.mnist import write_cache

    write_cache(tiny.mnist, out)
    return out, None


def _export(tiny, tiny_kw, out, built=None):
    from ldmnist_hf.hub.export import export

    export(NS, out, dataset=built / "ldmnist", overwrite=True)
    return out, "datasets"


WRITERS = {"build": _build, "benchmark": _benchmark, "report": _report, "release": _release, "cache": _cache}


@pytest.mark.parametrize("writer", [*WRITERS, "export"])
def test_overwrite_keeps_the_users_files_and_replaces_its_own(request, tiny, tiny_kw, tmp_path, writer):
    if writer == "export":  # the real shipped models and the session's full build
        built = request.getfixturevalue("built")
        run = lambda out: _export(tiny, tiny_kw, out, built)  # noqa: E731
    else:
        run = lambda out: WRITERS[writer](tiny, tiny_kw, out)  # noqa: E731
    out = tmp_path / "out"
    folder, sub = run(out)
    assert (folder / WRITTEN).is_file() and foreign_files(folder) == []
    mine = [folder / "my_notes.md", *([folder / sub / "TODO.txt"] if sub else [])]
    for path in mine:
        path.write_text("the user's own")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(LDMNISTError, match="my_notes.md") as e:
        run(out)
    assert "which no ldmnist command wrote" in str(e.value)
    if sub:
        assert f"{sub}/TODO.txt" in str(e.value)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing replaced or lost
    assert all(p.read_text() == "the user's own" for p in mine)
    for path in mine:
        path.unlink()
    run(out)  # its own output alone: replaced
    assert foreign_files(folder) == []


def test_a_dataset_folder_with_its_benchmark_and_report_is_still_the_builds(tiny, tiny_kw, tmp_path):
    """What `make dataset` does twice: build, benchmark and report write into one folder; a second build
    with `overwrite` replaces all of it (each command listed what it wrote), and nothing else."""
    from ldmnist_hf.analysis.benchmark import run_benchmark, write_benchmark
    from ldmnist_hf.analysis.report import make_report
    from ldmnist_hf.build.dataset import build_dataset

    out = tmp_path / "ds"
    build_dataset(out, **tiny_kw)
    write_benchmark(run_benchmark(out, mlp_epochs=1, progress=False), out)
    make_report(out, components=(1, 2), mnist=tiny.mnist)
    assert foreign_files(out) == []
    listed = set(json.loads((out / WRITTEN).read_text())["paths"])
    assert {"benchmark.json", "benchmark.md", "benchmark_predictions/", "report/"} <= listed
    build_dataset(out, overwrite=True, seed=1, **tiny_kw)
    assert not (out / "benchmark.json").exists() and not (out / "report").exists()


def test_a_file_saved_while_the_command_runs_is_kept(tmp_path):
    """The race: the folder was the command's when it started; a file saved into it meanwhile makes the
    command fail, naming the file, and the folder stays as it is (with the earlier output and the file)."""
    target = tmp_path / "out"
    with atomic_dir(target, marker="RECORD") as tmp:
        (tmp / "RECORD").write_text("an earlier run")
    with (
        pytest.raises(LDMNISTError, match=r"gained notes\.txt while this command ran"),
        atomic_dir(target, overwrite=True, marker="RECORD") as tmp,
    ):
        (tmp / "RECORD").write_text("this run")
        (target / "notes.txt").write_text("saved meanwhile")
    assert (target / "notes.txt").read_text() == "saved meanwhile"
    assert (target / "RECORD").read_text() == "an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary or old folder left


FOREIGN = [
    # (case, what the folder holds besides a listed RECORD, legacy patterns, foreign files found)
    ("listed only", {}, (), []),
    ("a file of the user's", {"notes.md": "x"}, (), ["notes.md"]),
    ("one folder down", {"data/TODO.txt": "x"}, (), ["data/TODO.txt"]),
    ("a link", {"link": None}, (), ["link"]),
    (
        "another command's output written inside",
        {
            WRITTEN: '{"paths": ["RECORD", "report/"]}',
            "report/" + WRITTEN: '{"paths": ["a.png"]}',
            "report/a.png": "",
        },
        (),
        [],
    ),
    (
        "an ldmnist output copied in by hand",
        {"copy/" + WRITTEN: '{"paths": ["a.png"]}', "copy/a.png": ""},
        (),
        [f"copy/{WRITTEN}", "copy/a.png"],
    ),
    (
        "inside it, a file it did not list",
        {
            WRITTEN: '{"paths": ["RECORD", "report/"]}',
            "report/" + WRITTEN: '{"paths": []}',
            "report/b.png": "",
        },
        (),
        ["report/b.png"],
    ),
    ("a damaged listing lists nothing", {WRITTEN: "{not json"}, (), ["RECORD"]),
]


@pytest.mark.parametrize("case, extra, legacy, expected", FOREIGN, ids=[c[0] for c in FOREIGN])
def test_foreign_files(tmp_path, case, extra, legacy, expected):
    with atomic_dir(tmp_path / "out", marker="RECORD") as tmp:
        (tmp / "RECORD").write_text("1")
    out = tmp_path / "out"
    for rel, text in extra.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            (out / rel).symlink_to(tmp_path)
        else:
            (out / rel).write_text(text)
    assert foreign_files(out, legacy) == expected


def test_a_folder_from_before_listings(tmp_path):
    """Without a listing, only the writer's own file patterns (`legacy`) count as its; the message says why."""
    out = tmp_path / "cache"
    out.mkdir()
    for name in ("RECORD", "data.npz", "notes.md"):
        (out / name).write_text("x")
    assert foreign_files(out, legacy=("RECORD", "*.npz")) == ["notes.md"]
    with (
        pytest.raises(LDMNISTError, match=f"it has no {WRITTEN} listing"),
        atomic_dir(out, overwrite=True, marker="RECORD", legacy=("RECORD", "*.npz")),
    ):
        pass
    (out / "notes.md").unlink()
    with atomic_dir(out, overwrite=True, marker="RECORD", legacy=("RECORD", "*.npz")) as tmp:
        (tmp / "RECORD").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [WRITTEN, "RECORD"]
