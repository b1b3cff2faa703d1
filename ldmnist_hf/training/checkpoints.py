"""Training checkpoints without pickle: weights and optimizer moments in safetensors, the rest in JSON.

A checkpoint folder holds the three models (`save_pretrained` folders), `optimizer-<name>.safetensors`
per optimizer and `trainer_state.json` (epoch, arguments, optimizer scalars and scheduler states).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import LDMNISTError, first_line
from ..files.atomic import atomic_dir
from ..files.paths import read_json_object
from .arguments import LDMNISTTrainingArguments
from .step import JointModels


def _optimizer_to_files(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state split into tensors (for safetensors) and JSON-able rest."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_from_files(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Loads what `_optimizer_to_files` wrote back into `opt`, after checking it fits `opt`'s parameters.

    `Optimizer.load_state_dict` checks the number of parameters only: Adam moments of another shape or dtype
    would be loaded and trained with (and fail, or silently broadcast, steps later). Here each tensor must
    have its parameter's shape and dtype, and be finite.
    """
    params = [p for group in opt.param_groups for p in group["params"]]
    state: dict[int, dict] = {}
    for name, value in [*tensors.items(), *meta["scalars"].items()]:
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    for idx, entry in state.items():
        if not 0 <= idx < len(params):
            raise ValueError(f"optimizer state for parameter {idx}, but the optimizer has {len(params)}")
        for key, value in entry.items():
            if key == "step":
                continue
            p = params[idx]
            if not torch.is_tensor(value) or value.shape != p.shape or value.dtype != p.dtype:
                what = f"{tuple(value.shape)} {value.dtype}" if torch.is_tensor(value) else repr(value)
                raise ValueError(
                    f"optimizer state {idx}.{key} is {what}, its parameter is {tuple(p.shape)} {p.dtype}"
                )
            if not torch.isfinite(value).all():
                raise ValueError(f"optimizer state {idx}.{key} holds NaN or inf values")
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


# What a checkpoint folder holds (for one written before folders listed their files).
_CHECKPOINT_FILES = ("trainer_state.json", "optimizer-*.safetensors", "*/config.json", "*/model.safetensors")


def save_checkpoint(
    path: Path, models: JointModels, optimizers, schedulers, epoch: int, args: LDMNISTTrainingArguments
) -> None:
    """Weights and optimizer moments in safetensors, the rest in JSON; written atomically."""
    with atomic_dir(path, overwrite=True, marker="trainer_state.json", legacy=_CHECKPOINT_FILES) as tmp:
        models.save(tmp)
        meta = {"epoch": epoch, "args": dataclasses.asdict(args), "optimizers": {}, "schedulers": {}}
        for name, opt in optimizers.items():
            tensors, opt_meta = _optimizer_to_files(opt)
            save_file(tensors, str(tmp / f"optimizer-{name}.safetensors"))
            meta["optimizers"][name] = opt_meta
            meta["schedulers"][name] = schedulers[name].state_dict()
        (tmp / "trainer_state.json").write_text(json.dumps(meta, indent=1))  # a plateau schedule's best: inf


def read_trainer_state(path: Path) -> dict:
    """`trainer_state.json` of a checkpoint, with a clear error when it is damaged."""
    file = Path(path) / "trainer_state.json"
    fix = "this checkpoint cannot be resumed. Start over with `overwrite=True`, or use another `output_dir`."
    meta = read_json_object(file, fix=fix)
    if {"epoch", "args", "optimizers", "schedulers"} - set(meta):
        raise LDMNISTError(f"{file} is damaged (missing fields); {fix}")
    if not isinstance(meta["args"], dict) or not all(
        isinstance(meta[k], dict) for k in ("optimizers", "schedulers")
    ):
        raise LDMNISTError(f"{file} is damaged (fields of the wrong type); {fix}")
    return meta


def load_checkpoint(path: Path, models: JointModels, optimizers, schedulers, epochs: int) -> int:
    """Loads a checkpoint into `models`, `optimizers` and `schedulers`; returns its epoch.

    Nothing in it is trusted: the epoch must be a whole number in 1..`epochs`, the weights load strictly
    (`load_pretrained`) and the optimizer moments must fit the parameters.
    """
    meta = read_trainer_state(path)
    epoch = meta["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= epochs:
        raise LDMNISTError(
            f"{path / 'trainer_state.json'} gives epoch {epoch!r}, not a whole number from 1 to the run's "
            f"{epochs} epochs: the checkpoint is damaged and cannot be resumed. Start over with `overwrite=True`."
        )
    try:
        loaded = JointModels.from_dir(path)
        models.load_state_dict(loaded.state_dict())
        for name, opt in optimizers.items():
            _optimizer_from_files(
                opt, load_file(str(path / f"optimizer-{name}.safetensors")), meta["optimizers"][name]
            )
            schedulers[name].load_state_dict(meta["schedulers"][name])
        return epoch
    except LDMNISTError as e:
        raise LDMNISTError(
            f"The checkpoint {path} cannot be resumed: {e} Start over with `overwrite=True`."
        ) from e
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError, SafetensorError) as e:
        raise LDMNISTError(
            f"The checkpoint {path} is damaged ({first_line(e)}); "
            f"it cannot be resumed. Start over with `overwrite=True`."
        ) from e
