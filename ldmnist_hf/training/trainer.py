"""`ldmnist train`'s run: its folder, resumption, the epoch loop with checkpoints and the summary.

`train` composes the parts: `_check_run_dir` refuses a folder it would damage, `_setup` builds the models,
optimizers and data, `_resume` loads a checkpoint, `_run_epochs` trains (logging `metrics.jsonl` and
checkpointing), and `_finish` saves the models and `summary.json`. One step and one epoch live in
`training`, the checkpoint files in `checkpoints`, the test figures in `evaluation`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data.classification import dataset_id, load_source_dataset
from ..data.sources import DEFAULT_SOURCE
from ..data.statistics import INFORMATIVE_STD, informative_components
from ..errors import LDMNISTError
from ..files.atomic import atomic_dir, atomic_write_text, check_output_dir
from ..files.listing import WRITTEN, briefly
from ..registry import KINDS
from .arguments import LDMNISTTrainingArguments, recipe_differences
from .checkpoints import load_checkpoint, read_trainer_state, save_checkpoint
from .evaluation import evaluate_models, latent_std
from .memory import retain_freed_memory
from .step import JointModels, joint_losses, make_optimizers, make_schedulers, mnist_tensors, train_epoch

logger = logging.getLogger(__name__)

RUN_FILES = ("checkpoint", "models", "metrics.jsonl", "summary.json")  # all that a run writes
_STATE = Path("checkpoint") / "trainer_state.json"
# The files a run writes inside its folders (`models/<kind>/...`, `checkpoint/...`): `overwrite` replaces a
# folder only when it holds nothing else, so a user's own file in it is never deleted.
_RUN_WRITES = {"config.json", "model.safetensors", "trainer_state.json", WRITTEN}
_RUN_FOLDERS = {kind.stem for kind in KINDS.values()}  # models/image-vae, checkpoint/image-vae, ...
# the optimizers' states, and what a killed atomic write leaves
_RUN_WRITES_GLOB = ("optimizer-*.safetensors", ".*.tmp-*")


def _foreign(out: Path, earlier: list[str]) -> list[str]:
    """What, in an earlier run's files, a run did not write: other files, links, deeper folders."""
    found = []
    for name in earlier:
        top = out / name
        if top.is_symlink():
            found.append(name)
            continue
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            rel = path.relative_to(out)
            if path.is_symlink() or len(rel.parts) > 3:
                found.append(str(rel))
            elif path.is_dir():
                if len(rel.parts) != 2 or rel.parts[1] not in _RUN_FOLDERS:
                    found.append(str(rel))
            elif not (path.name in _RUN_WRITES or any(path.match(g) for g in _RUN_WRITES_GLOB)):
                found.append(str(rel))
    return found


def _check_same_run(args: LDMNISTTrainingArguments, saved: dict) -> None:
    """Refuses to resume a checkpoint with settings that would change the run (session fields may change)."""
    diff = recipe_differences(saved, dataclasses.asdict(args))
    if diff:
        raise LDMNISTError(
            "`resume` with other settings than the checkpoint's would not continue the same run ("
            + "; ".join(diff)
            + "). Resume with the original options, or start a new `output_dir`."
        )


def _check_run_dir(out: Path, args: LDMNISTTrainingArguments) -> list[str]:
    """Refuses to start where it would lose a run or write nowhere; returns the earlier run's files.

    A folder holds a run when `train` left its marks there: `checkpoint/trainer_state.json` or `summary.json`.
    Any other folder with files a run would write (`models/`, ...) is someone else's: refused, even with
    `overwrite`, so that nothing this command did not write is deleted.
    """
    if out.exists() and not out.is_dir():
        raise LDMNISTError(f"`output_dir` {out} is a file; give a folder.")
    if not out.exists():
        check_output_dir(out)  # its parent must be writable
    elif not os.access(out, os.W_OK | os.X_OK):
        raise LDMNISTError(f"`output_dir` {out} is not writable; choose another folder.")
    ckpt = out / "checkpoint"
    if args.resume:
        if not (out / _STATE).is_file():
            raise LDMNISTError(f"`resume`: no checkpoint in {ckpt}; start without `resume`.")
        return []
    earlier = [name for name in RUN_FILES if (out / name).exists()]
    is_run = (out / _STATE).is_file() or (out / "summary.json").is_file()
    if earlier and not is_run:
        raise LDMNISTError(
            f"{out} holds {', '.join(earlier)} but no run of `ldmnist train` (no {_STATE} or summary.json): "
            f"they are not this command's to replace. Choose another `output_dir`, or move them away."
        )
    foreign = _foreign(out, earlier) if earlier else []
    if foreign:
        raise LDMNISTError(
            f"{out} holds a run, and also {briefly(foreign)}, which `ldmnist train` does not write (a link, or a file of "
            f"yours): nothing is replaced. Move those away, or choose another `output_dir`."
        )
    if earlier and not args.overwrite:
        if (out / "summary.json").exists():
            raise LDMNISTError(
                f"{out} already holds a finished run; start it over with `overwrite=True`, or choose another "
                f"`output_dir`."
            )
        where = ""
        if (out / _STATE).is_file():
            where = f" (checkpoint at epoch {read_trainer_state(ckpt).get('epoch')})"
        raise LDMNISTError(
            f"{out} holds an unfinished run{where}; continue it with `resume=True`, or start over with "
            f"`overwrite=True`."
        )
    return earlier


def _metrics_lines(path: Path, last_epoch: int) -> list[str]:
    """The lines of metrics.jsonl up to `last_epoch`; a half-written line (a killed run) is dropped."""
    kept, dropped = [], 0
    for line in path.read_text().splitlines():
        try:
            epoch = json.loads(line)["epoch"]
        except (json.JSONDecodeError, KeyError, TypeError):
            dropped += 1
            continue
        if isinstance(epoch, int) and epoch <= last_epoch:
            kept.append(line)
    if dropped:
        logger.info(f"{path}: dropped {dropped} unreadable line(s) (a run killed while writing?).")
    return kept


def _check_finite_losses(
    metrics: dict, epoch: int, ckpt: Path, args: LDMNISTTrainingArguments, first: bool = False
) -> None:
    """Stops a diverged run before it logs, checkpoints or saves anything of the bad epoch."""
    bad = [k for k, v in metrics.items() if not math.isfinite(v)]
    if bad:
        kept = (
            f"the last good checkpoint ({ckpt}, epoch {read_trainer_state(ckpt)['epoch']}) is kept"
            if (ckpt / "trainer_state.json").exists()
            else "no checkpoint had been written yet"
        )
        raise LDMNISTError(
            f"Training diverged in epoch {epoch + 1}: {', '.join(bad[:4])} became NaN or inf "
            f"(learning rate {args.learning_rate}). Nothing of that epoch was saved; {kept}. "
            + (
                "It is the first epoch after resuming, so the checkpoint's weights may be damaged: start over "
                "with `overwrite=True`."
                if first and args.resume
                else "Start over with a lower `learning_rate` and `overwrite=True`."
            )
        )


@dataclasses.dataclass
class _Session:
    """What the epochs of one run share: settings, models, optimizers, schedules, data and the step."""

    args: LDMNISTTrainingArguments
    models: JointModels
    optimizers: dict
    schedulers: dict
    data: tuple  # train pixels, train labels, test pixels, test labels (`mnist_tensors`)
    step: object  # `joint_losses`, or its `torch.compile`d version
    source: dict = dataclasses.field(default_factory=dict)  # the data's sizes, image shape, classes, Hub id


def _data(args: LDMNISTTrainingArguments, given):
    """The images trained on: `given`, which must be of `args.source`, else loaded from `args.data_from`."""
    if given is None:
        return load_source_dataset(args.source, args.data_from, args.image_column, args.label_column)
    name = getattr(given, "name", DEFAULT_SOURCE)
    if name != args.source:
        raise LDMNISTError(
            f"The data given are {name}'s but `source` is {args.source!r}: give data of that source dataset, "
            f"or `source={name}`."
        )
    return given


def _data_shape(data) -> dict:
    """What the models take from the data: the images' `(C, H, W)` and the classes (named where they are not
    MNIST's digits)."""
    shape = {"image_shape": data.image_shape, "num_classes": len(data.class_names)}
    if data.name != DEFAULT_SOURCE:
        shape["id2label"] = dict(enumerate(data.class_names))
    return shape


def _setup(args: LDMNISTTrainingArguments, mnist) -> _Session:
    """Fresh models (seeded), their optimizers and schedules, and the data on the device."""
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise LDMNISTError("`device` cuda was asked for but CUDA is not available here; use `device=cpu`.")
    if torch.device(args.device).type == "cpu":
        retain_freed_memory()  # process-wide: large step tensors reuse memory instead of faulting in fresh pages
    mnist = _data(args, mnist)
    torch.manual_seed(args.seed)  # weight initialisation
    models = JointModels.new(args, **_data_shape(mnist)).to(args.device)
    if mnist.name != DEFAULT_SOURCE:  # MNIST's models say nothing (their configs stay as they were)
        for model in (models.image_vae, models.class_vae, models.middle_layers):
            model.config.source_dataset = dataset_id(mnist)
    optimizers = make_optimizers(models, args)
    data = mnist_tensors(mnist, args.device)
    schedulers = make_schedulers(optimizers, args, len(data[0]))
    step = torch.compile(joint_losses, dynamic=False) if args.compile else joint_losses
    source = {  # what the summary says the models were trained on (`rendering.texts.source_texts` reads it)
        "n_train": len(data[1]),
        "n_test": len(data[3]),
        "image_shape": list(mnist.image_shape),
        "classes": list(mnist.class_names),
        "hub": (getattr(mnist, "provenance", None) or {}).get("hub"),  # another source read from the Hub
    }
    return _Session(args, models, optimizers, schedulers, data, step, source)


def _resume(s: _Session, out: Path) -> tuple[int, dict]:
    """Loads the checkpoint of the same run into the session; returns its epoch and that epoch's log record.

    A finished run (its `summary.json` written) has nothing left to train and is refused, so that its
    summary is never rewritten. A checkpoint at the last epoch without a summary (a run killed while saving)
    is finished from its log.
    """
    ckpt = out / "checkpoint"
    _check_same_run(s.args, read_trainer_state(ckpt)["args"])
    start_epoch = load_checkpoint(ckpt, s.models, s.optimizers, s.schedulers, s.args.epochs)
    last = {}
    if start_epoch >= s.args.epochs:
        if (out / "summary.json").exists():
            raise LDMNISTError(
                f"{out} holds a finished run (epoch {start_epoch} of {s.args.epochs}): nothing to train, and "
                f"its summary.json stays as it is. Start over with `overwrite=True`, or use another `output_dir`."
            )
        lines = _metrics_lines(out / "metrics.jsonl", start_epoch) if (out / "metrics.jsonl").exists() else []
        last = json.loads(lines[-1]) if lines else {}
        if last.get("epoch") != start_epoch:
            raise LDMNISTError(
                f"The checkpoint {ckpt} is at the last epoch ({start_epoch}) but metrics.jsonl has no record of "
                f"it, so the run's final figures are lost; start over with `overwrite=True`."
            )
    logger.info("Resuming from epoch %d (%s)", start_epoch, ckpt)
    return start_epoch, last


def _prepare_run_dir(out: Path, resume: bool, earlier: list[str], start_epoch: int) -> Path | None:
    """Moves an earlier run's files aside (`overwrite`), or drops the log lines after the checkpoint (`resume`).

    Returns the folder the earlier run was moved to: `train` deletes it once the new run has ended and
    `_restore` puts it back when the new one fails or is interrupted, so an overwrite loses nothing early.
    """
    out.mkdir(parents=True, exist_ok=True)
    aside = None
    if not resume and earlier:  # overwrite: only the files a run writes move; anything else stays
        aside = Path(tempfile.mkdtemp(prefix=".replaced-run-", dir=out))
        for name in earlier:
            os.rename(out / name, aside / name)
    # A resumed run drops the lines logged after its checkpoint, so the log matches an uninterrupted run.
    metrics_path = out / "metrics.jsonl"
    if resume and metrics_path.exists():
        kept = _metrics_lines(metrics_path, start_epoch)
        atomic_write_text(metrics_path, "".join(ln + "\n" for ln in kept))
    return aside


def _restore(out: Path, aside: Path) -> None:
    """The new run failed: its partial files go, the earlier run comes back as it was."""
    for name in RUN_FILES:
        if (aside / name).exists() or (aside / name).is_symlink():
            if (out / name).is_dir() and not (out / name).is_symlink():
                shutil.rmtree(out / name)
            elif (out / name).exists():
                (out / name).unlink()
            os.rename(aside / name, out / name)
    shutil.rmtree(aside, ignore_errors=True)
    logger.warning("The run did not finish: the earlier run in %s is back as it was.", out)


def _one_epoch(s: _Session, epoch: int, ckpt: Path, first: bool = False) -> tuple[dict, float]:
    """Trains and tests one epoch; returns its `metrics.jsonl` record and the training seconds."""
    train_x, train_y, test_x, test_y = s.data
    t0 = time.perf_counter()
    train_metrics = train_epoch(s.models, s.optimizers, s.schedulers, train_x, train_y, s.args, epoch, s.step)
    train_seconds = time.perf_counter() - t0
    test_metrics = evaluate_models(s.models, test_x, test_y, seed=s.args.seed)
    _check_finite_losses(
        {**train_metrics, **{f"test/{k}": v for k, v in test_metrics.items()}}, epoch, ckpt, s.args, first
    )
    record = {
        "epoch": epoch + 1,
        "lr": s.optimizers["vaes"].param_groups[0]["lr"],
        "epoch_seconds": time.perf_counter() - t0,
        **{f"train/{k}": v for k, v in train_metrics.items()},
        **{f"test/{k}": v for k, v in test_metrics.items()},
    }
    return record, train_seconds


def _run_epochs(
    s: _Session, out: Path, start_epoch: int, stop_after: int | None, progress: bool
) -> tuple[dict, float, int | None]:
    """The epoch loop: logs each epoch to `metrics.jsonl` and checkpoints every `checkpoint_every` epochs.

    Returns:
        The last epoch's record, the seconds spent training, and the epoch it stopped after because of
        `stop_after` (`None` when it ran to `args.epochs`).
    """
    args, ckpt = s.args, out / "checkpoint"
    bar = tqdm(
        range(start_epoch, args.epochs),
        initial=start_epoch,
        total=args.epochs,
        disable=not progress,
        desc=f"train {args.recipe}",
        unit="epoch",
        dynamic_ncols=True,
    )
    last, train_time = {}, 0.0
    for epoch in bar:
        last, seconds = _one_epoch(s, epoch, ckpt, first=epoch == start_epoch)
        train_time += seconds
        with open(out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(last, allow_nan=False) + "\n")
        bar.set_postfix(
            loss=f"{last['train/loss']:.4f}",
            cls_acc=f"{last['test/class_vae_accuracy']:.4f}",
            mid_acc=f"{last['test/middle_layers_accuracy']:.4f}",
        )
        stopping = stop_after is not None and epoch + 1 >= stop_after
        if (epoch + 1) % args.checkpoint_every == 0 or epoch + 1 == args.epochs or stopping:
            save_checkpoint(ckpt, s.models, s.optimizers, s.schedulers, epoch + 1, args)
        if stopping and epoch + 1 < args.epochs:
            bar.close()
            return last, train_time, epoch + 1
    bar.close()
    return last, train_time, None


def _finish(s: _Session, out: Path, last: dict, train_time: float, start_epoch: int) -> dict:
    """Saves the trained models and writes `summary.json`; returns the summary."""
    stds = latent_std(s.models.image_vae, s.data[0], seed=s.args.seed)
    with atomic_dir(
        out / "models",
        overwrite=True,
        marker=tuple(k.stem for k in KINDS.values()),
        legacy=("*/config.json", "*/model.safetensors"),
    ) as tmp:
        s.models.save(tmp)
    summary = {
        "args": dataclasses.asdict(s.args),
        "train_seconds_this_session": round(train_time, 1),
        # > 1 after a resume: the seconds above cover this session only
        "first_epoch_this_session": start_epoch + 1,
        "final": last,
        "image_latent_std": [round(float(v), 4) for v in stds],
        "informative_components": informative_components(stds),
        "informative_std": INFORMATIVE_STD,
        "data": s.source,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
    logger.info(f"Saved models to {out / 'models'} and the summary to {out / 'summary.json'}")
    return summary


def train(args: LDMNISTTrainingArguments, mnist=None, progress: bool = True) -> dict:
    """Trains the three models and saves them with `save_pretrained` under `args.output_dir`.

    `args.resume` continues the run from its checkpoint; `args.overwrite` starts over in a folder that holds
    a run (replacing its checkpoint, models, metrics and summary, nothing else); without either, such a
    folder is refused. `args.stop_after` stops after that epoch with a checkpoint to resume from. On CPU it
    calls `memory.retain_freed_memory()` first: glibc keeps freed memory for the rest of the process instead
    of returning it to the system (see there).

    Args:
        args (`LDMNISTTrainingArguments`): what to train and how.
        mnist (`MNIST`, *optional*): the data, of `args.source`; `load_source(args.source, args.data_from)`
            when omitted.
        progress (`bool`, defaults to `True`): show a progress bar with the current losses.

    Returns:
        `dict`: the summary also written to `output_dir/summary.json` (final test metrics, time), or
        `{"final": ..., "stopped_after": epoch}` when `stop_after` ended the session early.
    """
    out = Path(args.output_dir)
    earlier = _check_run_dir(out, args)  # before any work
    session = _setup(args, mnist)
    start_epoch, last = _resume(session, out) if args.resume else (0, {})
    aside = _prepare_run_dir(out, args.resume, earlier, start_epoch)
    try:
        ran, train_time, stopped = _run_epochs(session, out, start_epoch, args.stop_after, progress)
        if stopped is not None:
            logger.info("Stopped after epoch %d; continue with `resume=True`.", stopped)
            result = {"final": ran, "stopped_after": stopped}
        else:
            result = _finish(session, out, ran or last, train_time, start_epoch)
    except BaseException:  # an error or Ctrl-C: an overwritten run comes back
        if aside is not None:
            _restore(out, aside)
        raise
    if aside is not None:
        shutil.rmtree(aside)  # the earlier run, replaced now that the new one has ended
    return result
