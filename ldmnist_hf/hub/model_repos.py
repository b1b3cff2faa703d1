"""The model repositories of an export: the three models with their code, and the benchmark's baselines."""

from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import numpy as np

from ..data.read import load_latents, read_build_info
from ..data.schema import CARD
from ..errors import LDMNISTError
from ..registry import (
    kind_of_class,
)
from ..rendering import (
    render_model_card,
)
from .configs import _Config
from .manifest import Repo
from .results import ld_title, submission_files
from .scoring import TestSplit, metric_module


def save_with_code(model, folder: Path) -> list[str]:
    """`save_pretrained` plus what transformers' remote code needs: `auto_map` and the modeling files.

    The files are the model's and configuration's modules and their relative imports, found with
    transformers' own `get_relative_import_files` (what `trust_remote_code` will load), copied by base name.
    Done here, explicitly, instead of through `register_for_auto_class`, whose class-wide switch would also
    put the code into every later `save_pretrained` of the process.

    Returns:
        The names of the code files written.
    """
    from transformers.dynamic_module_utils import get_relative_import_files

    kind = kind_of_class(type(model))
    if kind is None:
        raise LDMNISTError(f"{type(model).__name__} is not an LD-MNIST model; nothing to export.")
    model.save_pretrained(folder)
    config = copy.deepcopy(model.config)
    config.auto_map = {
        "AutoConfig": f"{kind.config_module}.{kind.config_name}",
        "AutoModel": f"{kind.model_module}.{kind.model_name}",
    }
    config.save_pretrained(folder)
    written = []
    for module in (kind.config_class.__module__, kind.model_class.__module__):
        source = sys.modules[module].__file__
        for path in (source, *get_relative_import_files(source)):
            shutil.copyfile(path, folder / Path(path).name)
            written.append(Path(path).name)
    return sorted(set(written))


def _export_model(folder: Path, key: str, c: _Config, ids: dict) -> None:
    """A model repo: config.json with auto_map and the modeling code, the weights, the card."""
    model = c.models[key]
    save_with_code(model, folder)
    # The weights byte for byte as they were loaded: the file the dataset's build record names.
    shutil.copyfile(c.weights[key], folder / "model.safetensors")
    evaluation = c.evaluations[key]
    card = render_model_card(key, model.config.to_dict(), evaluation["metrics"], evaluation["training"], ids)
    (folder / CARD).write_text(card)


def _local_split(c: _Config, dataset: str) -> TestSplit:
    """A config's test split from its built folder and its class VAE's weights: what its baselines score on
    (`dataset`: the repository the split will be published in)."""
    y, labels = load_latents(c.dataset, "test", columns=("y", "label"), check_finite=True)
    decoder = metric_module().load_class_decoder(str(c.weights["class_vae"].parent))
    source = read_build_info(c.dataset).get("source", "mnist")
    return TestSplit(
        dataset,
        c.name,
        None,
        np.asarray(y),
        np.asarray(labels),
        decoder,
        c.sources["class_vae"],
        source=source,
    )


def _export_baseline(folder: Path, repo: Repo, c: _Config, split: TestSplit) -> None:
    """A baseline's model repo: its test predictions, results and card, as `ldmnist submit` writes them."""
    key = repo.role.split(":", 1)[1]
    predictions, row = c.baselines[key]
    scores = split.score(predictions)
    description = (
        f"A baseline of the {ld_title(split.source)} benchmark: {row['model']}. `ldmnist benchmark` (package ldmnist-hf) trains and "
        f"scores it on the `{c.name}` config; `ldmnist export` published its test-split predictions here."
    )
    files = submission_files(
        repo.repo_id, split, predictions, scores, "https://huggingface.co", None, description
    )
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
