"""`ldmnist train`'s run (training/trainer.py): losses fall, resumption is exact, a run is never lost."""

import dataclasses
import json
import shutil

import pytest
import torch
from helpers import bad_input_test, subset_args, tiny_args
from safetensors.torch import load_file, save_file

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.training.arguments import LDMNISTTrainingArguments
from ldmnist_hf.training.step import JointModels
from ldmnist_hf.training.trainer import train


def test_losses_fall_and_models_are_saved(tmp_path, mnist_subset):
    summary = train(subset_args(tmp_path, "run"), mnist=mnist_subset, progress=False)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3, 4]
    assert lines[-1]["train/loss"] < lines[0]["train/loss"]
    assert lines[-1]["test/image_rec"] < lines[0]["test/image_rec"]
    assert summary["final"]["epoch"] == 4
    models = JointModels.from_dir(tmp_path / "run" / "models")
    assert models.image_vae.config.latent_dim == 8
    assert len(summary["image_latent_std"]) == 8


def test_trains_on_another_source_dataset(tmp_path, fashion_subset):
    """`source="fashion-mnist"`: one epoch on real Fashion-MNIST images, recorded as such in the summary."""
    args = subset_args(tmp_path, "fashion", source="fashion-mnist", epochs=1)
    summary = train(args, mnist=fashion_subset, progress=False)
    assert summary["args"]["source"] == "fashion-mnist" and summary["final"]["epoch"] == 1
    assert JointModels.from_dir(tmp_path / "fashion" / "models").image_vae.config.latent_dim == 8
    assert (
        json.loads((tmp_path / "fashion" / "summary.json").read_text())["args"]["source"] == "fashion-mnist"
    )


def test_a_checkpoint_from_before_sources_resumes_as_mnist(tiny, copy_of):
    """A checkpoint written before `source` existed trained on MNIST: it resumes with the default."""
    run = copy_of(tiny.run)
    state = run / "checkpoint" / "trainer_state.json"
    meta = json.loads(state.read_text())
    del meta["args"]["source"]
    state.write_text(json.dumps(meta))
    summary = train(tiny_args(run, resume=True), mnist=tiny.mnist, progress=False)
    assert summary["final"]["epoch"] == 2 and summary["args"]["source"] == "mnist"


def test_resume_gives_identical_weights(tmp_path, mnist_subset):
    train(subset_args(tmp_path, "full"), mnist=mnist_subset, progress=False)
    # A run stopped after epoch 3 (between checkpoints) and resumed ends where the uninterrupted run ends.
    stopped = train(subset_args(tmp_path, "split", stop_after=3), mnist=mnist_subset, progress=False)
    assert stopped["stopped_after"] == 3 and not (tmp_path / "split" / "models").exists()
    with pytest.raises(LDMNISTError, match=r"other settings .*learning_rate: 0\.002 -> 0\.001"):
        train(
            subset_args(tmp_path, "split", learning_rate=1e-3, resume=True),
            mnist=mnist_subset,
            progress=False,
        )
    train(subset_args(tmp_path, "split", resume=True), mnist=mnist_subset, progress=False)
    a = JointModels.from_dir(tmp_path / "full" / "models").state_dict()
    b = JointModels.from_dir(tmp_path / "split" / "models").state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    log_a = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    log_b = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    strip = [{k: v for k, v in json.loads(x).items() if k != "epoch_seconds"} for x in log_a]
    assert strip == [{k: v for k, v in json.loads(x).items() if k != "epoch_seconds"} for x in log_b]


def test_dropout_batchnorm_mode_keeps_batchnorm_statistics(tmp_path, mnist_subset):
    train(subset_args(tmp_path, "eval", epochs=1), mnist=mnist_subset, progress=False)
    bn = JointModels.from_dir(tmp_path / "eval" / "models").image_vae.encoder[0].norm
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))  # as the reference code ran
    train(
        subset_args(tmp_path, "train", epochs=1, dropout_batchnorm="train"),
        mnist=mnist_subset,
        progress=False,
    )
    bn = JointModels.from_dir(tmp_path / "train" / "models").image_vae.encoder[0].norm
    assert not torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))


def test_bad_arguments(tmp_path, mnist_subset):
    with pytest.raises(LDMNISTError, match="Unknown `recipe`"):
        LDMNISTTrainingArguments(recipe="slow")
    with pytest.raises(LDMNISTError, match="no checkpoint"):
        train(subset_args(tmp_path, "none", resume=True), mnist=mnist_subset, progress=False)
    train(subset_args(tmp_path, "done", epochs=1), mnist=mnist_subset, progress=False)
    with pytest.raises(LDMNISTError, match="already holds a finished run"):
        train(subset_args(tmp_path, "done", epochs=1), mnist=mnist_subset, progress=False)


@pytest.mark.slow
def test_fast_recipe_reaches_the_quality_bars(tmp_path, mnist):
    """The default recipe from scratch on full MNIST reaches the bar (about a minute on 2 cores; the
    time itself is measured by bench/time_to_quality.py, not here)."""
    from ldmnist_hf.registry import QUALITY_BAR
    from ldmnist_hf.training.evaluation import evaluate_run

    train(
        LDMNISTTrainingArguments(output_dir=str(tmp_path / "fast"), device="cpu"), mnist=mnist, progress=False
    )
    m = evaluate_run(JointModels.from_dir(tmp_path / "fast" / "models"), mnist, draws=20)
    assert m["class_vae_accuracy_mean"] >= QUALITY_BAR["class_vae_accuracy_mean"]
    assert m["middle_layers_accuracy"] >= QUALITY_BAR["middle_layers_accuracy"]
    assert m["x_informative_components"] >= QUALITY_BAR["informative_components"]


# ----------------------------------------------------------------------------- runs are never lost


def test_train_without_resume_keeps_an_unfinished_run(tmp_path, tiny_kw):
    """Item 2: `train` on a folder holding an unfinished run refused to continue it, and wiped it."""
    mnist = tiny_kw["mnist_source"]

    def args(**kw):
        return tiny_args(tmp_path / "run", **{"epochs": 3, **kw})

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


def test_training_stops_on_a_non_finite_loss_and_keeps_the_last_good_checkpoint(tmp_path, tiny_kw):
    """Item 4: a diverging run logged NaN, wrote NaN into summary.json (invalid JSON) and saved the models."""
    mnist = tiny_kw["mnist_source"]
    args = tiny_args(tmp_path / "run", epochs=3)
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


def test_resume_after_a_half_written_metrics_line(tmp_path, tiny_kw):
    """A run killed while appending to metrics.jsonl resumes; the torn line is dropped, not a JSON traceback."""
    args = tiny_args(tmp_path / "run")  # 2 epochs
    train(dataclasses.replace(args, stop_after=1), mnist=tiny_kw["mnist_source"], progress=False)
    with open(tmp_path / "run" / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 2, "lr": 0.00')
    summary = train(dataclasses.replace(args, resume=True), mnist=tiny_kw["mnist_source"], progress=False)
    assert summary["final"]["epoch"] == 2
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]


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


# ----------------------------------------------------------------------------- bad input


def _foreign_models(c):
    folder = c.tmp / "mine"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "thesis-model.txt").write_text("years of work")
    return folder


# (id, action, exception type, fragment of the message); each action gets conftest.py's `scratch`.
BAD_INPUT = [
    (
        "train-output-is-file",
        lambda c: train(tiny_args(c.file()), mnist=c.mnist),
        LDMNISTError,
        "is a file; give a folder",
    ),
    (
        "train-unfinished-run",
        lambda c: train(tiny_args(c.copy("run")), mnist=c.mnist),
        LDMNISTError,
        "holds an unfinished run (checkpoint at epoch 1); continue it with `resume=True`, or start over with `overwrite=True`",
    ),
    (
        "train-finished-run",
        lambda c: train(tiny_args(c.copy("done"), epochs=1), mnist=c.mnist),
        LDMNISTError,
        "already holds a finished run",
    ),
    (
        "train-resume-nothing",
        lambda c: train(tiny_args(c.tmp / "r", resume=True), mnist=c.mnist),
        LDMNISTError,
        "no checkpoint in",
    ),
    (
        "train-resume-finished-run",
        lambda c: train(tiny_args(c.copy("done"), epochs=1, resume=True), mnist=c.mnist, progress=False),
        LDMNISTError,
        "holds a finished run (epoch 1 of 1): nothing to train, and its summary.json stays as it is",
    ),
    (
        "train-foreign-models-folder",
        lambda c: train(tiny_args(_foreign_models(c)), mnist=c.mnist, progress=False),
        LDMNISTError,
        "holds models but no run of `ldmnist train`",
    ),
    (
        "train-data-of-another-source",
        lambda c: train(tiny_args(c.tmp / "r", source="fashion-mnist"), mnist=c.mnist, progress=False),
        LDMNISTError,
        "The data given are mnist's but `source` is 'fashion-mnist'",
    ),
    (
        "train-foreign-models-folder-overwrite",
        lambda c: train(tiny_args(_foreign_models(c), overwrite=True), mnist=c.mnist, progress=False),
        LDMNISTError,
        "they are not this command's to replace",
    ),
]

test_bad_input = bad_input_test(BAD_INPUT)


def test_a_checkpoint_from_before_a_new_option_resumes(tmp_path, tiny_kw):
    """A run saved before `shuffle_buffer` existed did what its default does: resuming it is the same run; a
    different value is a change the resume refuses."""
    args = tiny_args(tmp_path / "run")
    train(dataclasses.replace(args, stop_after=1), mnist=tiny_kw["mnist_source"], progress=False)
    state = tmp_path / "run" / "checkpoint" / "trainer_state.json"
    saved = json.loads(state.read_text())
    del saved["args"]["shuffle_buffer"]
    state.write_text(json.dumps(saved))
    with pytest.raises(LDMNISTError, match="shuffle_buffer: 0 -> 10"):
        train(
            dataclasses.replace(args, resume=True, shuffle_buffer=10),
            mnist=tiny_kw["mnist_source"],
            progress=False,
        )
    summary = train(dataclasses.replace(args, resume=True), mnist=tiny_kw["mnist_source"], progress=False)
    assert summary["final"]["epoch"] == 2
