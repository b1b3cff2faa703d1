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

from .training import JointModels
from .training_args import LDMNISTTrainingArguments
from .utils import LDMNISTError, atomic_dir, read_json


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
    """Loads what `_optimizer_to_files` wrote back into `opt`."""
    state: dict[int, dict] = {}
    for name, value in [*tensors.items(), *meta["scalars"].items()]:
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(
    path: Path, models: JointModels, optimizers, schedulers, epoch: int, args: LDMNISTTrainingArguments
) -> None:
    """Weights and optimizer moments in safetensors, the rest in JSON; written atomically."""
    with atomic_dir(path, overwrite=True, marker="trainer_state.json") as tmp:
        models.save(tmp)
        meta = {"epoch": epoch, "args": dataclasses.asdict(args), "optimizers": {}, "schedulers": {}}
        for name, opt in optimizers.items():
            tensors, opt_meta = _optimizer_to_files(opt)
            save_file(tensors, str(tmp / f"optimizer-{name}.safetensors"))
            meta["optimizers"][name] = opt_meta
            meta["schedulers"][name] = schedulers[name].state_dict()
        (tmp / "trainer_state.json").write_text(json.dumps(meta, indent=1))


def read_trainer_state(path: Path) -> dict:
    """`trainer_state.json` of a checkpoint, with a clear error when it is damaged."""
    file = Path(path) / "trainer_state.json"
    fix = "this checkpoint cannot be resumed. Start over with --overwrite, or use another --output-dir."
    meta = read_json(file, fix=fix)
    if not isinstance(meta, dict) or {"epoch", "args", "optimizers", "schedulers"} - set(meta):
        raise LDMNISTError(f"{file} is damaged (missing fields); {fix}")
    return meta


def load_checkpoint(path: Path, models: JointModels, optimizers, schedulers) -> int:
    """Loads a checkpoint into `models`, `optimizers` and `schedulers`; returns its epoch."""
    meta = read_trainer_state(path)
    try:
        loaded = JointModels.from_dir(path)
        models.load_state_dict(loaded.state_dict())
        for name, opt in optimizers.items():
            _optimizer_from_files(
                opt, load_file(str(path / f"optimizer-{name}.safetensors")), meta["optimizers"][name]
            )
            schedulers[name].load_state_dict(meta["schedulers"][name])
        return int(meta["epoch"])
    except LDMNISTError as e:
        raise LDMNISTError(
            f"The checkpoint {path} cannot be resumed: {e} Start over with --overwrite."
        ) from e
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as e:
        raise LDMNISTError(
            f"The checkpoint {path} is damaged ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
            f"it cannot be resumed. Start over with --overwrite."
        ) from e
