"""The LD-MNIST benchmark: baselines, noise floors and the 2020 reference's published figures.

Every row is scored with the package's `evaluate` metric on the test split. `ldmnist benchmark`
writes the table as JSON and Markdown into the dataset folder, into its card, and (for the shipped
dataset) into README.md.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.read import load_latents, read_build_info, verify_dataset
from ..data.reference_2020 import reference_2020
from ..data.schema import BENCHMARK_FILE, BENCHMARK_MARKDOWN, PREDICTIONS_DIR
from ..data.sources import DEFAULT_SOURCE
from ..errors import LDMNISTError
from ..files.atomic import atomic_dir, atomic_write_text
from ..files.listing import record_written
from ..models.configuration_middle_layers import MiddleLayersConfig
from ..models.modeling_middle_layers import MiddleLayers
from ..pretrained.loading import load_metric, load_pretrained
from ..registry import BASELINES, SOURCE_SETS, model_set
from ..rendering import benchmark_markdown, replace_block

logger = logging.getLogger(__name__)


def linear_regression(x_train: np.ndarray, y_train: np.ndarray):
    """Least squares with a bias, solved exactly; returns `predict(x)`."""
    a = np.c_[x_train.astype(np.float64), np.ones(len(x_train))]
    w, *_ = np.linalg.lstsq(a, y_train.astype(np.float64), rcond=None)
    return lambda x: (np.c_[x.astype(np.float64), np.ones(len(x))] @ w).astype(np.float32)


# How the MLP baseline is trained: a fast default, and the 2020 schedule (the one its published rows used).
MLP_RECIPES = {
    "fast": dict(epochs=40, batch_size=256, lr=2e-3, schedule="cosine"),
    "reference": dict(epochs=5000, batch_size=10000, lr=1e-3, schedule="plateau"),
}


def _lr_schedule(opt: torch.optim.Optimizer, recipe: dict, n_rows: int):
    """Cosine decay over every step of the run, or the 2020 reduce-on-plateau of the training loss."""
    if recipe["schedule"] == "cosine":
        steps = recipe["epochs"] * -(-n_rows // recipe["batch_size"])
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.9, patience=50)


def _train_epoch(model, x, y, opt, sched, recipe: dict, gen: torch.Generator) -> float:
    """One pass over shuffled mini-batches on MSE; returns the epoch's mean training loss."""
    order = torch.randperm(len(x), generator=gen).to(x.device)
    total = 0.0
    for i in range(0, len(x), recipe["batch_size"]):
        idx = order[i : i + recipe["batch_size"]]
        loss = torch.nn.functional.mse_loss(model.transform(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if recipe["schedule"] == "cosine":  # per step; the plateau schedule steps per epoch
            sched.step()
        total += loss.item() * len(idx)
    return total / len(x)


def train_mlp(
    x_train,
    y_train,
    seed: int = 0,
    recipe: str = "fast",
    epochs: int | None = None,
    dropout: float = 0.1,
    progress: bool = True,
    device: str = "cpu",
):
    """The reference's MLP baseline (Dense L -> LeakyReLU -> BatchNorm -> Dropout, x2, -> Dense L) on MSE.

    Args:
        recipe (`str`, defaults to `"fast"`): `"fast"` = Adam 2e-3 with cosine decay, batch 256, 40 epochs;
            `"reference"` = the 2020 schedule: Adam 1e-3, batch 10000, reduce-on-plateau of the training
            loss (factor 0.9, patience 50 epochs), 5000 epochs.
        epochs (`int`, *optional*): overrides the recipe's number of epochs.

    Returns:
        `MiddleLayers`: the trained model, in eval mode. Trained with dropout and BatchNorm active;
        deterministic given `seed` on CPU.
    """
    r = {**MLP_RECIPES[recipe], **({} if epochs is None else {"epochs": epochs})}
    torch.manual_seed(seed)
    model = MiddleLayers(MiddleLayersConfig(latent_dim=x_train.shape[1], dropout=dropout)).to(device)
    x = torch.tensor(x_train, device=device)  # copies: the Arrow-backed arrays are read-only
    y = torch.tensor(y_train, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=r["lr"])
    sched = _lr_schedule(opt, r, len(x))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in tqdm(range(r["epochs"]), desc=f"MLP baseline ({recipe})", unit="epoch", disable=not progress):
        loss = _train_epoch(model, x, y, opt, sched, r, gen)
        if r["schedule"] == "plateau":
            sched.step(loss)
    model.eval()
    return model


def _predict(model, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor(x)).outputs.numpy()


def _check_options(mlp_recipe: str, mlp_epochs: int | None, seed: int) -> None:
    if not isinstance(mlp_recipe, str) or mlp_recipe not in MLP_RECIPES:
        raise LDMNISTError(f"Unknown `mlp_recipe` {mlp_recipe!r}; choose one of {', '.join(MLP_RECIPES)}.")
    for name, value, least, most in (("mlp_epochs", mlp_epochs, 1, 1_000_000), ("seed", seed, 0, 2**63 - 1)):
        if name == "mlp_epochs" and value is None:
            continue  # the recipe's
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
            raise LDMNISTError(f"`{name}` must be an integer from {least} to {most:,}, got {value!r}.")


def score_row(metric, key: str, name: str, kind: str, predictions, references, labels) -> dict:
    """One benchmark row: the metric's MSE and reconstructed accuracy of `predictions` (logged at debug level:
    `ldmnist benchmark` prints the whole table once, at the end; `-v` shows each row as it is scored)."""
    t0 = time.perf_counter()
    out = metric.compute(predictions=predictions, references=references, labels=labels)
    logger.debug(
        f"  {name}: MSE {out['mse']:.4f}, accuracy {out['reconstructed_accuracy']:.4f} "
        f"({time.perf_counter() - t0:.2f} s to score)"
    )
    mse, accuracy = out["mse"], out.get("reconstructed_accuracy")
    return {"key": key, "model": name, "kind": kind, "mse": mse, "reconstructed_accuracy": accuracy}


def _expected_floor(y_std: np.ndarray) -> dict:
    """The row no model can beat on average: `y` is drawn from N(y_mean, y_std^2), so even the
    posterior mean misses by the mean posterior variance."""
    return {
        "key": "floor_expected",
        "model": "noise floor: expected MSE of a perfect classifier, mean of y_std^2",
        "kind": "floor",
        "mse": float(np.mean(y_std.astype(np.float64) ** 2)),
        "reconstructed_accuracy": None,
    }


def _baselines(x_tr, y_tr, x_te, y_mean, middle_layers: str | None, mlp: dict):
    """Yields `(key, name, kind, predictions)` per scored row, each computed when asked (so the debug log
    shows each score as soon as it is known; the MLP trains for seconds to minutes)."""
    yield "floor_y_mean", "noise floor: predict each row's posterior mean y_mean", "floor", y_mean
    yield "zero", "predict zero (the prior mean)", "baseline", np.zeros_like(y_mean)
    linear = linear_regression(x_tr, y_tr)(x_te)
    yield "linear", "linear regression (least squares, closed form)", "baseline", linear
    model = train_mlp(x_tr, y_tr, **mlp)
    epochs = mlp["epochs"] or MLP_RECIPES[mlp["recipe"]]["epochs"]
    schedule = "" if mlp["recipe"] == "fast" else ", the 2020 schedule"
    name = (
        f"MLP: Dense-LeakyReLU-BatchNorm-Dropout 0.1 x2 + Dense, trained on MSE ({epochs} "
        f"epoch{'s' if epochs != 1 else ''}{schedule})"
    )
    yield "mlp", name, "baseline", _predict(model, x_te)
    if middle_layers:
        ml = load_pretrained(middle_layers, MiddleLayers)
        name = "middle layers trained with the VAEs on the classification loss"
        yield "middle", name, "baseline", _predict(ml, x_te)


def run_benchmark(
    dataset_dir: str | Path,
    class_vae: str | None = None,
    middle_layers: str | None = None,
    seed: int = 0,
    mlp_recipe: str = "fast",
    mlp_epochs: int | None = None,
    progress: bool = True,
) -> dict:
    """Trains and scores the baselines on a dataset folder written by `ldmnist build`.

    Args:
        dataset_dir: the dataset folder.
        class_vae: the class decoder for reconstructed accuracy (default: the one the dataset was built with).
        middle_layers: the middle layers trained with the VAEs (default: the shipped ones when the
            dataset was built with the shipped VAEs; otherwise that row is left out).
        seed (`int`, defaults to 0): the MLP baseline's seed.
        mlp_recipe (`str`, defaults to `"fast"`), mlp_epochs (`int`, *optional*): how the MLP baseline is
            trained (see `MLP_RECIPES`); `"reference"` is the 2020 schedule, minutes on 2 CPU cores.

    Returns:
        `{"rows": [{"model", "mse", "reconstructed_accuracy", "kind"}...], ...}`.
    """
    _check_options(mlp_recipe, mlp_epochs, seed)
    dataset_dir = Path(dataset_dir)
    info = read_build_info(dataset_dir)
    verify_dataset(dataset_dir)  # a changed byte would silently change the table
    class_vae = class_vae or info["class_vae_source"]
    source = info.get("source", DEFAULT_SOURCE)
    if middle_layers is None and source in SOURCE_SETS:  # the shipped set's, when built with its class VAE
        shipped = model_set(SOURCE_SETS[source])
        if info["class_vae_source"] == shipped["class_vae"]:
            middle_layers = shipped["middle_layers"]
    # Straight from the Parquet files: what is on disk now, not a datasets cache.
    x_tr, y_tr = load_latents(dataset_dir, "train", check_finite=True)
    x_te, y_te, y_mean, y_std, labels = load_latents(
        dataset_dir, "test", columns=("x", "y", "y_mean", "y_std", "label"), check_finite=True
    )
    metric = load_metric(class_vae)
    logger.info(f"Benchmark on {dataset_dir} (test split, {len(y_te)} rows)")
    rows = [_expected_floor(y_std)]
    mlp = {"seed": seed, "recipe": mlp_recipe, "epochs": mlp_epochs, "progress": progress}
    predicted = {}
    for key, name, kind, predictions in _baselines(x_tr, y_tr, x_te, y_mean, middle_layers, mlp):
        rows.append(score_row(metric, key, name, kind, predictions, y_te, labels))
        if key in BASELINES:
            predicted[key] = np.asarray(predictions, np.float32)
    if source == DEFAULT_SOURCE:  # the 2020 publication's rows are MNIST's
        rows += [{**row, "kind": "reference"} for row in reference_2020()["published"]["benchmark"]]
    return {
        "dataset": str(dataset_dir),
        **({"source": source} if source != DEFAULT_SOURCE else {}),
        "latent_dim": info["latent_dim"],
        "class_decoder": class_vae,
        "seed": seed,
        "mlp_recipe": mlp_recipe,
        "mlp_epochs": mlp_epochs or MLP_RECIPES[mlp_recipe]["epochs"],
        "rows": rows,
        "predictions": predicted,  # not in benchmark.json: the baselines' test predictions, for their repos
    }


def predictions_path(dataset_dir: str | Path, key: str) -> Path:
    """Where `write_benchmark` keeps a baseline's test-split predictions (published as its model repo)."""
    return Path(dataset_dir) / PREDICTIONS_DIR / f"{key}.npy"


def write_benchmark(result: dict, dataset_dir: str | Path, readme: str | Path | None = None) -> None:
    """Writes benchmark.json/.md into the dataset folder, fills its card's block and optionally README's."""
    dataset_dir = Path(dataset_dir)
    md = benchmark_markdown(result)
    predictions = result.get("predictions", {})
    result = {k: v for k, v in result.items() if k != "predictions"}
    with atomic_dir(
        dataset_dir / PREDICTIONS_DIR, overwrite=True, marker=tuple(f"{k}.npy" for k in BASELINES)
    ) as tmp:
        for key, array in predictions.items():
            np.save(tmp / f"{key}.npy", array)
    atomic_write_text(dataset_dir / BENCHMARK_FILE, json.dumps(result, indent=2, allow_nan=False) + "\n")
    atomic_write_text(dataset_dir / BENCHMARK_MARKDOWN, md + "\n")
    record_written(dataset_dir, [BENCHMARK_FILE, BENCHMARK_MARKDOWN])
    replace_block(dataset_dir / "README.md", "benchmark", md)
    if (
        readme
    ):  # a README shows each source dataset's table in its own block: benchmark, benchmark-fashion-mnist
        source = result.get("source", DEFAULT_SOURCE)
        replace_block(readme, "benchmark" if source == DEFAULT_SOURCE else f"benchmark-{source}", md)
