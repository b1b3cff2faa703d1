"""Wrong results and lost data that the red-team run found: each test failed on the code before the fix."""

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
import torch
from helpers import tiny_args
from safetensors.torch import load_file, save_file

from ldmnist_hf import ClassVAE, ImageVAE
from ldmnist_hf.build import dataset as B
from ldmnist_hf.cli import main
from ldmnist_hf.data import read as R
from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
from ldmnist_hf.training.trainer import train

TRAIN_FILE = "data/train-00000-of-00001.parquet"


@pytest.fixture
def tiny_kw(tiny):
    """What `build_dataset` needs from the tiny world: its 6-d model pair and its 60 digits."""
    return {"image_vae": tiny.iv, "class_vae": tiny.cv, "mnist_source": tiny.mnist}


def _parquet_x(folder):
    import pyarrow.parquet as pq

    col = pq.read_table(folder / TRAIN_FILE).column("x").combine_chunks()
    return col.flatten().to_numpy().reshape(len(col), -1)


def test_load_dataset_and_load_latents_return_what_is_on_disk(tmp_path, tiny_kw):
    """Item 1: a rebuild with another seed, and another folder with the same base name, are not served stale."""
    import datasets

    cache = str(tmp_path / "hf-cache")
    path = tmp_path / "a" / "ldmnist"
    B.build_dataset(path, seed=0, **tiny_kw)
    seed0 = datasets.load_dataset(str(path), split="train", cache_dir=cache).with_format("numpy")[:]["x"]
    assert np.array_equal(seed0, R.load_latents(path)[0])

    B.build_dataset(path, seed=1, overwrite=True, **tiny_kw)
    on_disk = _parquet_x(path)
    assert not np.array_equal(on_disk, seed0)
    again = datasets.load_dataset(str(path), split="train", cache_dir=cache).with_format("numpy")[:]["x"]
    assert np.array_equal(again, on_disk)  # was the seed-0 rows from the cache
    assert np.array_equal(R.load_latents(path)[0], on_disk)

    other = tmp_path / "b" / "ldmnist"  # same base name, other parent, other content
    B.build_dataset(other, seed=2, **tiny_kw)
    got = datasets.load_dataset(str(other), split="train", cache_dir=cache).with_format("numpy")[:]["x"]
    assert np.array_equal(got, _parquet_x(other)) and not np.array_equal(got, on_disk)

    # Same content, same cache entry: a byte-identical rebuild keeps the key.
    B.build_dataset(path, seed=1, overwrite=True, **tiny_kw)
    assert np.array_equal(
        datasets.load_dataset(str(path), split="train", cache_dir=cache)["x"][:1], on_disk[:1]
    )


def test_train_without_resume_keeps_an_unfinished_run(tmp_path, tiny_kw):
    """Item 2: `train` on a folder holding an unfinished run refused to continue it, and wiped it."""
    mnist = tiny_kw["mnist_source"]

    def args(**kw):
        kw = {"latent_dim": 4, "epochs": 3, "batch_size": 16, "device": "cpu", "checkpoint_every": 1, **kw}
        return LDMNISTTrainingArguments(output_dir=str(tmp_path / "run"), **kw)

    train(args(stop_after=2), mnist=mnist, progress=False)
    (tmp_path / "run" / "notes.txt").write_text("mine")
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    with pytest.raises(
        LDMNISTError, match=r"unfinished run \(checkpoint at epoch 2\).*resume=True.*overwrite=True"
    ):
        train(args(), mnist=mnist, progress=False)
    assert {p: p.read_bytes() for p in before} == before
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 2

    summary = train(args(overwrite=True), mnist=mnist, progress=False)  # starts over, keeps other files
    assert summary["final"]["epoch"] == 3
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3]
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_build_overwrite_never_deletes_what_it_did_not_write(tmp_path, tiny_kw):
    """Item 3: --overwrite deleted any folder; a file at the path left a .NAME.old-PID folder; killed builds' temporaries stayed."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(LDMNISTError, match="did not write"):
        B.build_dataset(mine, overwrite=True, **tiny_kw)
    assert (mine / "thesis.txt").read_text() == "years of work"

    afile = tmp_path / "afile"
    afile.write_text("keep")
    with pytest.raises(LDMNISTError, match="is not a folder"):
        B.build_dataset(afile, overwrite=True, **tiny_kw)
    assert afile.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "mine"]

    # A killed build's temporary folder (a PID that is not running) goes; a live process's stays.
    dead = 2**22 + 12345  # above the default pid_max, so no process has it
    stale = tmp_path / f".out.tmp-{dead}-abc"
    live = tmp_path / f".out.tmp-{os.getpid()}-abc"
    stale.mkdir()
    live.mkdir()
    B.build_dataset(tmp_path / "out", **tiny_kw)
    assert not stale.exists() and live.exists()
    B.build_dataset(tmp_path / "out", overwrite=True, seed=1, **tiny_kw)  # a previous build: replaced
    assert R.read_build_info(tmp_path / "out")["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == [live.name]


def test_output_path_is_checked_before_the_work(tmp_path, tiny_kw, monkeypatch):
    """Item 3: `--output-dir .` failed only after all the encoding."""
    monkeypatch.chdir(tmp_path)
    # The models are not loadable: an error about them would mean the work started before the path check.
    with pytest.raises(LDMNISTError, match="current folder"):
        B.build_dataset(".", image_vae=str(tmp_path / "no-model"), overwrite=True)


def test_training_stops_on_a_non_finite_loss_and_keeps_the_last_good_checkpoint(tmp_path, tiny_kw):
    """Item 4: a diverging run logged NaN, wrote NaN into summary.json (invalid JSON) and saved the models."""
    mnist = tiny_kw["mnist_source"]
    args = LDMNISTTrainingArguments(
        output_dir=str(tmp_path / "run"),
        latent_dim=4,
        epochs=3,
        batch_size=16,
        device="cpu",
        checkpoint_every=1,
    )
    train(dataclasses.replace(args, stop_after=1), mnist=mnist, progress=False)
    # Weights that are finite but overflow the loss: the next epoch cannot be finite.
    weights = tmp_path / "run" / "checkpoint" / "image-vae" / "model.safetensors"
    sd = load_file(weights)
    last = max(k for k in sd if k.startswith("decoder.") and k.endswith(".weight"))
    sd[last] = sd[last] * 1e37
    save_file(sd, str(weights), metadata={"format": "pt"})
    state = (tmp_path / "run" / "checkpoint" / "trainer_state.json").read_text()
    with pytest.raises(
        LDMNISTError, match=r"diverged in epoch 2: .*NaN or inf.*last good checkpoint .*epoch 1"
    ):
        train(dataclasses.replace(args, resume=True), mnist=mnist, progress=False)
    assert (tmp_path / "run" / "checkpoint" / "trainer_state.json").read_text() == state
    assert load_file(weights)[last].abs().max() > 1e30  # the checkpoint was not replaced
    assert not (tmp_path / "run" / "summary.json").exists() and not (tmp_path / "run" / "models").exists()
    for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines():
        assert "NaN" not in line and "Infinity" not in line


def test_build_refuses_nan_weights_and_writes_nothing(tmp_path, tiny_kw):
    """Item 4: a build with NaN weights wrote an all-NaN dataset and exited 0."""
    iv = ImageVAE.from_pretrained(tiny_kw["image_vae"]).eval()
    with torch.no_grad():
        iv.log_var_head.weight.fill_(float("nan"))
    with pytest.raises(LDMNISTError, match="NaN or inf latents"):
        B.build_dataset(tmp_path / "out", **{**tiny_kw, "image_vae": iv})
    assert list(tmp_path.iterdir()) == []
    iv.save_pretrained(tmp_path / "nan-iv")
    with pytest.raises(LDMNISTError, match="NaN or inf values in log_var_head.weight"):
        B.build_dataset(tmp_path / "out", **{**tiny_kw, "image_vae": str(tmp_path / "nan-iv")})


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


def test_a_flipped_byte_is_caught(tmp_path, tiny_kw, capsys):
    """Item 6: one flipped byte in a Parquet file silently changed a value."""
    out = B.build_dataset(tmp_path / "ds", **tiny_kw)
    assert main(["verify", str(out)]) == 0
    capsys.readouterr()
    raw = bytearray((out / TRAIN_FILE).read_bytes())
    raw[200] ^= 0x01
    (out / TRAIN_FILE).write_bytes(bytes(raw))
    assert main(["verify", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"ldmnist verify: error: {out / TRAIN_FILE} has changed since the build"
    )


def test_resume_after_a_half_written_metrics_line(tmp_path, tiny_kw):
    """A run killed while appending to metrics.jsonl resumes; the torn line is dropped, not a JSON traceback."""
    args = LDMNISTTrainingArguments(
        output_dir=str(tmp_path / "run"),
        latent_dim=4,
        epochs=2,
        batch_size=16,
        device="cpu",
        checkpoint_every=1,
    )
    train(dataclasses.replace(args, stop_after=1), mnist=tiny_kw["mnist_source"], progress=False)
    with open(tmp_path / "run" / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 2, "lr": 0.00')
    summary = train(dataclasses.replace(args, resume=True), mnist=tiny_kw["mnist_source"], progress=False)
    assert summary["final"]["epoch"] == 2
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]


# ---------------------------------------------------------------------------- round 3: races and lost runs


@pytest.mark.parametrize("existing", [False, True], ids=["new target", "overwrite"])
def test_a_folder_that_appears_during_the_write_is_never_replaced(tmp_path, existing):
    """The shared writer (build, report, export, release, the MNIST cache, checkpoints): what someone puts at
    the target while the command runs stays; the command fails and leaves no temporary behind."""
    from ldmnist_hf.files import atomic_dir

    target = tmp_path / "out"
    if existing:
        with atomic_dir(target, marker="RECORD") as tmp:
            (tmp / "RECORD").write_text("an earlier run")
    changed = "created or changed by someone else while this command ran"
    with (
        pytest.raises(LDMNISTError, match=changed),
        atomic_dir(target, overwrite=True, marker="RECORD") as tmp,
    ):
        (tmp / "RECORD").write_text("this run")
        if existing:
            shutil.rmtree(target)
        target.mkdir()
        (target / "thesis.txt").write_text("years of work")
    assert sorted(p.name for p in target.iterdir()) == ["thesis.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_two_builds_into_one_new_folder_never_both_succeed(tmp_path, tiny_kw, monkeypatch):
    """A second build that finishes first wins; the first fails instead of silently replacing it."""
    real, calls = B.encode_split, []

    def encode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # while the first build encodes, a second one runs to its end
            B.build_dataset(tmp_path / "ds", seed=7, **tiny_kw)
        return real(*args, **kwargs)

    monkeypatch.setattr(B, "encode_split", encode)
    with pytest.raises(LDMNISTError, match="created or changed by someone else"):
        B.build_dataset(tmp_path / "ds", seed=0, **tiny_kw)
    assert R.read_build_info(tmp_path / "ds")["seed"] == 7
    assert R.verify_dataset(tmp_path / "ds")["files"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_resume_of_a_finished_run_keeps_its_summary(tiny, copy_of):
    run = copy_of(tiny.root / "done")
    before = (run / "summary.json").read_bytes()
    with pytest.raises(LDMNISTError, match="nothing to train"):
        train(tiny_args(run, epochs=1, resume=True), mnist=tiny.mnist, progress=False)
    assert (run / "summary.json").read_bytes() == before
    assert json.loads(before)["final"]["epoch"] == 1


def test_a_folder_holding_someone_elses_models_is_left_alone(tmp_path, tiny):
    folder = tmp_path / "mine"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "weights.bin").write_text("years of work")
    for overwrite in (False, True):
        with pytest.raises(LDMNISTError, match="not this command's to replace"):
            train(tiny_args(folder, overwrite=overwrite), mnist=tiny.mnist, progress=False)
    assert (folder / "models" / "weights.bin").read_text() == "years of work"
    assert sorted(p.name for p in folder.rglob("*")) == ["models", "weights.bin"]


def test_a_checkpoint_at_the_last_epoch_without_summary_finishes_from_its_log(tiny, copy_of):
    """A run killed after its last checkpoint but before summary.json: resuming writes the summary with the
    final figures from metrics.jsonl (it was `final: {}`)."""
    run = copy_of(tiny.root / "done")
    (run / "summary.json").unlink()
    shutil.rmtree(run / "models")
    summary = train(tiny_args(run, epochs=1, resume=True), mnist=tiny.mnist, progress=False)
    assert summary["final"]["epoch"] == 1 and "test/loss" in summary["final"]
    assert json.loads((run / "summary.json").read_text())["final"] == summary["final"]


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "fault", [KeyboardInterrupt(), RuntimeError("a crash in epoch 1")], ids=["ctrl-c", "crash"]
)
def test_an_overwrite_that_fails_gives_the_earlier_run_back(tiny, copy_of, monkeypatch, fault):
    """`train --overwrite` deleted the finished run before the first epoch: Ctrl-C left an empty folder."""
    from ldmnist_hf.training import trainer

    run = copy_of(tiny.root / "done")
    before = _files(run)

    def interrupted(*args, **kwargs):
        (run / "metrics.jsonl").write_text("half a new run\n")  # the new run has started writing
        raise fault

    monkeypatch.setattr(trainer, "evaluate_models", interrupted)
    with pytest.raises(type(fault)):
        train(tiny_args(run, epochs=1, overwrite=True), mnist=tiny.mnist, progress=False)
    assert _files(run) == before
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in (tiny.root / "done").iterdir())


@pytest.mark.parametrize(
    "extra",
    [
        lambda run, tmp: (run / "models" / "NOTES.md").write_text("my notes"),
        lambda run, tmp: (run / "checkpoint" / "mine").mkdir(),
        lambda run, tmp: (
            (run / "checkpoint" / "mine").mkdir() or (run / "checkpoint" / "mine" / "a.txt").write_text("x")
        ),
        lambda run, tmp: (shutil.rmtree(run / "models"), (run / "models").symlink_to(tmp)),
        lambda run, tmp: (run / "models" / "image-vae" / "link.json").symlink_to(tmp / "thesis.txt"),
    ],
    ids=["a note in models", "an empty folder", "a folder of files", "models is a link", "a link inside"],
)
def test_overwrite_never_deletes_a_file_a_run_did_not_write(tiny, copy_of, tmp_path, extra):
    run = copy_of(tiny.root / "done")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    extra(run, mine)
    before = _files(run)
    with pytest.raises(
        LDMNISTError, match="does not write .a link, or a file of yours.: nothing is replaced"
    ):
        train(tiny_args(run, epochs=1, overwrite=True), mnist=tiny.mnist, progress=False)
    assert _files(run) == before and (mine / "thesis.txt").read_text() == "years of work"
