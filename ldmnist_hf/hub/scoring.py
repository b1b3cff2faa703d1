"""Scoring predictions against a published LD-MNIST dataset: what `submit` and the leaderboard share.

The reading, checking and scoring of predictions are the metric script's own functions (`read_predictions`,
`validate`, `score` of `metrics/ldmnist/ldmnist.py`, loaded here as a module): the package, the metric Space
and the leaderboard score with the same file. The test split's targets and labels and the class decoder
come from the dataset repository at a given revision.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ..data.records import Floor
from ..data.schema import BUILD_RECORD, data_file
from ..errors import LDMNISTError, first_line
from ..files.paths import sha256_file
from ..pretrained.loading import METRIC_PATH
from ..registry import SOURCE_SETS


@functools.cache
def metric_module():
    """The metric script as a module (`read_predictions`, `validate`, `score`, `load_class_decoder`)."""
    spec = importlib.util.spec_from_file_location("ldmnist_metric", Path(METRIC_PATH) / "ldmnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_prefixes(card_data: dict | None) -> dict[str, str]:
    """A dataset card's configs and the folder each reads (`""` for `default`, `NAME/` for the others)."""
    out = {}
    for config in (card_data or {}).get("configs") or []:
        if not isinstance(config, dict) or not isinstance(config.get("data_files"), list):
            continue
        paths = [f.get("path") for f in config["data_files"] if isinstance(f, dict)]
        test = next((p for p in paths if isinstance(p, str) and p.endswith("data/test-*.parquet")), None)
        if test is not None:
            out[str(config.get("config_name", "default"))] = test[: -len("data/test-*.parquet")]
    return out


def dataset_configs(api, dataset_repo: str, config: str | None):
    """The dataset's info and its configs' folders; `config`, when given, must be one of them."""
    try:
        info = api.dataset_info(dataset_repo)
    except Exception as e:  # noqa: BLE001 - network, a missing repository: one clear line
        raise LDMNISTError(
            f"Could not read the dataset {dataset_repo} at {api.endpoint} ({first_line(e)})."
        ) from e
    prefixes = config_prefixes(info.card_data.to_dict() if info.card_data else None)
    if config is not None and config not in prefixes:
        raise LDMNISTError(
            f"{dataset_repo} has no config {config!r}; its configs: {', '.join(prefixes) or 'none'} (`config`)."
        )
    return info, prefixes


@dataclass
class TestSplit:
    """One config's test split at one revision of the dataset repository, ready to score predictions."""

    dataset: str
    config: str
    revision: str
    references: np.ndarray  # (N, L) float32: the dataset's `y`
    labels: np.ndarray  # (N,) int64
    decoder: tuple  # the class VAE's decoder (weight, bias)
    class_vae: str  # its repository
    floor: Floor | None = None  # the noise floor of these targets (from the split's `y_std`)
    posterior: tuple | None = None  # the split's `y_mean` and `y_std`, what the targets were drawn from
    source: str = "mnist"  # the source dataset its build encoded (its build record's `source`): its family

    def score(self, predictions) -> dict:
        """`mse` and `reconstructed_accuracy` of an `(N, L)` array, checked (shape, finite values)."""
        metric = metric_module()
        array = np.asarray(predictions)
        if array.shape != self.references.shape:
            raise LDMNISTError(
                f"The predictions have shape {array.shape}; the {self.config!r} config's test split needs "
                f"{self.references.shape}: one prediction of y per test row, in the test split's order."
            )
        try:
            p, r, y = metric.validate(array, self.references, self.labels)
        except ValueError as e:
            raise LDMNISTError(f"The predictions are not valid: {e}") from e
        return metric.score(p, r, y, self.decoder, self.class_vae)

    def uses_targets(self, predictions, mse: float) -> str | None:
        """Why these predictions must have used the public test targets (`None` when nothing says so): an MSE
        below the noise floor by more than its tolerance, or predictions that follow the targets' random noise
        (`target_noise_z` above `NOISE_Z_LIMIT`)."""
        if self.floor is not None and mse < self.floor.threshold:
            return (
                f"MSE {mse:.4f} is below the noise floor {self.floor.mse:.4f} by more than its tolerance "
                f"{self.floor.tolerance:.4f}"
            )
        if self.posterior is None:
            return None
        metric = metric_module()
        z = metric.target_noise_z(predictions, self.references, *self.posterior)
        if z > metric.NOISE_Z_LIMIT:
            return (
                f"the predictions follow the random noise of the test targets by {z:.1f} standard errors "
                f"(more than {metric.NOISE_Z_LIMIT:g} happens by chance with probability 3e-7)"
            )
        return None


def fetch_test_split(api, dataset: str, config: str, revision: str, prefix: str) -> TestSplit:
    """The test split of `config` at `revision`: targets, labels and the class decoder its build names."""
    try:
        path = api.hf_hub_download(
            dataset, f"{prefix}{data_file('test')}", repo_type="dataset", revision=revision
        )
        record = json.loads(
            Path(
                api.hf_hub_download(
                    dataset, f"{prefix}{BUILD_RECORD}", repo_type="dataset", revision=revision
                )
            ).read_text()
        )
        class_vae, source = str(record["class_vae_source"]), record.get("source", "mnist")
        folder = Path(api.hf_hub_download(class_vae, "config.json")).parent
        weights = api.hf_hub_download(class_vae, "model.safetensors")
        expected = (record["files"][data_file("test")]["sha256"], record["class_vae_sha256"])
    except Exception as e:  # noqa: BLE001 - network, a missing file or repository: one clear line
        raise LDMNISTError(
            f"Could not read the {config!r} config of {dataset} at revision {revision[:12]} ({first_line(e)})."
        ) from e
    if not isinstance(source, str) or source not in SOURCE_SETS:
        raise LDMNISTError(
            f"The {config!r} config of {dataset} at revision {revision[:12]} encodes the source dataset "
            f"{str(source)[:80]!r} (its build record's `source`), not one whose LD version ldmnist-hf publishes "
            f"({', '.join(SOURCE_SETS)}): it cannot be scored here."
        )
    # Scores are only as good as the data: the test file and the class VAE must be those the build recorded.
    for what, file, sha in (
        ("test split", path, expected[0]),
        (f"class VAE {class_vae}", weights, expected[1]),
    ):
        if sha256_file(file) != sha:
            raise LDMNISTError(
                f"The {what} of the {config!r} config of {dataset} at revision {revision[:12]} is not the one "
                f"its build record names (SHA-256 differs); the dataset's publisher must push it again."
            )
    table = pq.read_table(path, columns=["y", "y_mean", "y_std", "label"])
    y, y_mean, y_std = (table.column(name).combine_chunks() for name in ("y", "y_mean", "y_std"))
    return TestSplit(
        dataset,
        config,
        revision,
        y.flatten().to_numpy().reshape(len(y), -1),
        table.column("label").to_numpy(),
        metric_module().load_class_decoder(str(folder)),
        class_vae,
        Floor.of(y_std.flatten().to_numpy().reshape(len(y), -1)),
        (y_mean.flatten().to_numpy().reshape(len(y), -1), y_std.flatten().to_numpy().reshape(len(y), -1)),
        source,
    )
