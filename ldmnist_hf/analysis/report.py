"""`ldmnist report`: statistics, figures and the component-importance analysis of a built dataset.

Writes into `out_dir`: `statistics.json` / `statistics.md` (ours beside the 2020 reference's, and in the
reference's printed form), `hist_train_x.png`, `hist_train_y.png`, `reconstructions.png`,
`manifold_<i>_<j>.png`, `manifold_overview.png`, `importance.png` / `importance.json`, and
`report.md` that embeds them. The dataset card (and optionally README.md) gets the same section.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from statistics import NormalDist

import numpy as np
import torch

from ..build.dataset import load_vaes
from ..data.classification import source_of
from ..data.read import load_latents, read_build_info, verify_dataset
from ..data.reference_2020 import reference_2020
from ..data.schema import BUILD_RECORD, CARD, REPORT_DIR
from ..data.sources import DEFAULT_SOURCE, SOURCE_DATASETS
from ..data.statistics import INFORMATIVE_STD, is_informative, latent_statistics
from ..errors import LDMNISTError
from ..files.atomic import atomic_dir, check_output_dir
from ..rendering import check_block, replace_block, report_markdown, statistics_markdown
from .plots import plot_component_sweep, plot_histogram, plot_image_grid, plot_importance, plot_manifold

logger = logging.getLogger(__name__)

IMPORTANCE_DELTAS = (-2.0, -1.0, 1.0, 2.0)
REPORT_RECORD = "report.json"  # what `report` leaves in every folder it writes
IMPORTANCE_RULE = 0.1  # a component matters if its effect is at least this fraction of the largest one


def _quantiles(n: int) -> np.ndarray:
    return np.array([NormalDist().inv_cdf(q) for q in np.linspace(0.05, 0.95, n)], np.float32)


def decode_grid(image_vae, components: tuple[int, int], n: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Decoded images over two components at standard-normal quantiles, others at 0: `(n, n, *image)` (MNIST:
    `(n, n, 28, 28)`)."""
    values = _quantiles(n)
    L = image_vae.config.latent_dim
    z = torch.zeros(n, n, L)
    z[:, :, components[0]] = torch.from_numpy(values)[:, None]
    z[:, :, components[1]] = torch.from_numpy(values)[None, :]
    with torch.no_grad():
        decoded = image_vae.decode(z.reshape(-1, L)).sample
        images = decoded.reshape(n, n, *decoded.shape[1:]).numpy()
    return images, values


def decode_sweep(image_vae, n: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Each component alone at standard-normal quantiles, others at 0: `(latent_dim, n, *image)`."""
    values = _quantiles(n)
    L = image_vae.config.latent_dim
    z = torch.zeros(L, n, L)
    z[torch.arange(L), :, torch.arange(L)] = torch.from_numpy(values)  # z[c, k, c] = values[k]
    with torch.no_grad():
        decoded = image_vae.decode(z.reshape(-1, L)).sample
        images = decoded.reshape(L, n, *decoded.shape[1:]).numpy()
    return images, values


def component_importance(image_vae, latents: np.ndarray, deltas=IMPORTANCE_DELTAS) -> np.ndarray:
    """For each component: mean |change| of decoded pixels when it moves by each of `deltas` from real latents.

    Args:
        image_vae (`ImageVAE`): the decoder.
        latents (`np.ndarray` `(N, L)`): starting points (sampled image latents of real digits).
    Returns:
        `(L,)` mean absolute pixel change, averaged over the starting points and the deltas.
    """
    image_vae.eval()
    z = torch.tensor(latents, dtype=torch.float32)
    out = np.zeros(z.shape[1])
    with torch.no_grad():
        base = image_vae.decode(z).sample
        for i in range(z.shape[1]):
            for d in deltas:
                moved = z.clone()
                moved[:, i] += d
                out[i] += (image_vae.decode(moved).sample - base).abs().mean().item() / len(deltas)
    return out


def count_important(importance: np.ndarray, rule: float = IMPORTANCE_RULE) -> tuple[int, float]:
    """How many components matter (effect >= `rule` x the largest one's), and that threshold."""
    threshold = rule * float(importance.max())
    return int((importance >= threshold).sum()), threshold


def _check_components(components, latent_dim: int) -> tuple[int, int]:
    """Two different component numbers in 0..latent_dim-1 for the manifold plot."""
    pair = tuple(components) if isinstance(components, list | tuple) else ()
    ok = len(pair) == 2 and all(isinstance(c, int) and not isinstance(c, bool) for c in pair)
    if not ok or not all(0 <= c < latent_dim for c in pair) or pair[0] == pair[1]:
        raise LDMNISTError(
            f"`components` {components!r}: give two different components in 0..{latent_dim - 1} (the "
            f"manifold plot draws one against the other)."
        )
    return pair


def _check_out_dir(out_dir: Path, overwrite: bool) -> None:
    check_output_dir(out_dir, overwrite, marker=REPORT_RECORD)
    if (out_dir / BUILD_RECORD).exists():
        raise LDMNISTError(
            f"`out_dir` {out_dir} is a dataset folder; give a folder for the report (default: DATASET/report)."
        )


def _class_accuracy(class_vae, y: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows whose latent `y` the class VAE decodes to the row's label."""
    with torch.no_grad():
        return float((class_vae.predict(torch.tensor(y)).numpy() == labels).mean())


def importance_summary(importance: np.ndarray, std: np.ndarray, n_latents: int) -> dict:
    """What `importance.json` holds: per-component effects, how many matter, and how that relates to std.

    Args:
        importance (`np.ndarray` `(L,)`): `component_importance` of each component.
        std (`np.ndarray` `(L,)`): each component's std over the train split.
        n_latents (`int`): how many test latents the importance was averaged over.
    """
    n_important, threshold = count_important(importance)
    ranks = np.argsort(np.argsort(importance)), np.argsort(np.argsort(std))
    return {
        "per_component": importance.round(6).tolist(),
        "important_components": n_important,
        "threshold": threshold,
        "rule": f"mean |pixel change| >= {IMPORTANCE_RULE} x the largest component's, "
        f"moving each component by {list(IMPORTANCE_DELTAS)} from {n_latents} test latents",
        "spearman_importance_vs_std": float(np.corrcoef(*ranks)[0, 1]),
        "important_and_informative": int(((importance >= threshold) & is_informative(std)).sum()),
        "informative_std": INFORMATIVE_STD,
    }


def analyse_dataset(dataset_dir: Path, image_vae, class_vae, n_importance: int = 1000) -> tuple[dict, dict]:
    """Computes the report of a dataset folder; writes nothing.

    Args:
        dataset_dir (`Path`): a folder written by `ldmnist build`.
        image_vae, class_vae (`ImageVAE`, `ClassVAE`): the models the dataset was built with.
        n_importance (`int`, defaults to 1000): test latents the importance is averaged over.

    Returns:
        `(result, arrays)`: `result` is what `make_report` returns (statistics, class VAE accuracies,
        importance); `arrays` holds the latents and per-component figures the plots are drawn from.
    """
    x, y, train_labels = load_latents(dataset_dir, "train", columns=("x", "y", "label"), check_finite=True)
    x_test, y_test, test_labels = load_latents(
        dataset_dir, "test", columns=("x", "y", "label"), check_finite=True
    )
    stats = latent_statistics(x, y)
    importance = component_importance(image_vae, x_test[:n_importance])
    std = np.asarray(stats["x"]["component_std"])
    result = {
        "statistics": stats,
        "class_vae_accuracy_test": _class_accuracy(class_vae, y_test, test_labels),
        "class_vae_accuracy_train": _class_accuracy(class_vae, y, train_labels),
        "importance": importance_summary(importance, std, min(n_importance, len(x_test))),
    }
    return result, {"x": x, "y": y, "x_test": x_test, "importance": importance, "std": std}


def _test_images_title(data) -> str:
    """How the reconstructions figure names the source's test images.

    >>> from types import SimpleNamespace as S
    >>> _test_images_title(S(name="mnist")), _test_images_title(S(name="fashion-mnist"))
    ('MNIST test digits', 'Fashion-MNIST test images')
    """
    known = SOURCE_DATASETS.get(data.name)
    if data.name == DEFAULT_SOURCE:
        return "MNIST test digits"
    return f"{known.title if known else Path(str(data.name)).name} test images"


def report_figures(result: dict, arrays: dict, image_vae, components: tuple[int, int], mnist=None) -> dict:
    """The report's figures by file name (reconstructions only when the MNIST digits are given)."""
    importance, std, threshold = arrays["importance"], arrays["std"], result["importance"]["threshold"]
    figures = {
        "hist_train_x.png": plot_histogram(arrays["x"], "Image latents x (train): all components pooled"),
        "hist_train_y.png": plot_histogram(arrays["y"], "Class latents y (train): all components pooled"),
    }
    if mnist is not None:
        with torch.no_grad():
            rec = image_vae.decode(torch.tensor(arrays["x_test"][:12])).sample.numpy()
        figures["reconstructions.png"] = plot_image_grid(
            [mnist.test_images[:12], rec],
            ["test image", "decoded x"],
            f"Image VAE: {_test_images_title(mnist)} (top) and their dataset latents x decoded (bottom)",
        )
    grid, values = decode_grid(image_vae, components)
    figures[f"manifold_{components[0]}_{components[1]}.png"] = plot_manifold(grid, values, components)
    sweep, _ = decode_sweep(image_vae)
    figures["manifold_overview.png"] = plot_component_sweep(sweep, values, std, importance >= threshold)
    figures["importance.png"] = plot_importance(importance, std, threshold)
    return figures


def write_report_files(folder: Path, result: dict, figures: dict, components: tuple[int, int]) -> None:
    """Writes the figures, `statistics.json/.md`, `importance.json`, `report.json`, `report.md` into `folder`."""
    stats, reference = result["statistics"], reference_2020()
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=90, bbox_inches="tight")
    (folder / "statistics.json").write_text(
        json.dumps({"ours": stats, "reference_2020": reference}, indent=1, allow_nan=False) + "\n"
    )
    (folder / "statistics.md").write_text(statistics_markdown(stats, reference))
    (folder / "importance.json").write_text(
        json.dumps(result["importance"], indent=1, allow_nan=False) + "\n"
    )
    (folder / REPORT_RECORD).write_text(
        json.dumps({k: v for k, v in result.items() if k != "statistics"}, indent=1, allow_nan=False) + "\n"
    )
    (folder / "report.md").write_text(report_markdown(result, sorted(figures), components, prefix="") + "\n")


def make_report(
    dataset_dir: str | Path,
    out_dir: str | Path | None = None,
    components: tuple[int, int] = (8, 9),
    image_vae=None,
    class_vae=None,
    n_importance: int = 1000,
    readme: str | Path | None = None,
    overwrite: bool = True,
    mnist=None,
) -> dict:
    """Writes the statistics, figures and importance analysis of a dataset folder; returns the figures.

    Args:
        dataset_dir: a folder written by `ldmnist build`.
        out_dir: where to write (default: `dataset_dir/report`). The dataset card embeds the figures
            when they are written inside the dataset folder.
        components (`tuple[int, int]`, defaults to `(8, 9)`, the reference's pair): the manifold plot.
        image_vae, class_vae: default to the models the dataset was built with.
        n_importance (`int`, defaults to 1000): test latents the importance is averaged over.
        readme: also fill the report block of this README.md (figures linked relative to it).
        mnist (`MNIST`, *optional*): the digits the dataset was built from, for the reconstructions
            figure (default: the verified source dataset the build record names).

    Returns:
        `dict`: `statistics`, `class_vae_accuracy_test`, `class_vae_accuracy_train`, `importance`.
    """
    dataset_dir = Path(dataset_dir)
    info = read_build_info(dataset_dir)
    verify_dataset(dataset_dir)  # figures of changed data would be wrong without a word
    if readme:
        check_block(readme, "report")
    iv, cv = load_vaes(image_vae or info["image_vae_source"], class_vae or info["class_vae_source"])
    components = _check_components(components, iv.config.latent_dim)
    out_dir = Path(out_dir) if out_dir else dataset_dir / REPORT_DIR
    _check_out_dir(out_dir, overwrite)
    result, arrays = analyse_dataset(dataset_dir, iv, cv, n_importance)
    if mnist is None and (info.get("mnist_verified", True) or "source_provenance" in info):
        mnist = source_of(info)  # the images it was built from
    figures = report_figures(result, arrays, iv, components, mnist)
    with atomic_dir(out_dir, overwrite=overwrite, marker=REPORT_RECORD) as tmp:
        write_report_files(tmp, result, figures, components)
    fill_report_blocks(result, sorted(figures), components, out_dir, dataset_dir, readme)
    logger.info(f"Wrote the report to {out_dir}")
    return result


def fill_report_blocks(
    result: dict, figures: list[str], components: tuple[int, int], out_dir: Path, dataset_dir: Path, readme
) -> None:
    """Fills the report block of the dataset card (when the report lies inside the dataset folder: the
    card links only to files it ships with) and of `readme`, with figure links relative to each."""
    targets = [Path(readme)] if readme else []
    if out_dir.resolve().is_relative_to(dataset_dir.resolve()):
        targets.insert(0, dataset_dir / CARD)
    for target in targets:
        prefix = os.path.relpath(out_dir, target.parent) + "/"
        replace_block(target, "report", report_markdown(result, figures, components, prefix))
