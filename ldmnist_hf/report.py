"""`ldmnist report`: statistics, figures and the component-importance analysis of a built dataset.

Writes into `--out`: `statistics.json` / `statistics.md` (ours beside the 2020 reference's, and in the
reference's printed form), `hist_train_x.png`, `hist_train_y.png`, `reconstructions.png`,
`manifold_<i>_<j>.png`, `manifold_overview.png`, `importance.png` / `importance.json`, and
`report.md` that embeds them. The dataset card (and optionally README.md) gets the same section.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .reference_2020 import reference_2020
from .training_args import INFORMATIVE_STD
from .utils import LDMNISTError, atomic_dir, check_block, check_output_dir, log, replace_block

IMPORTANCE_DELTAS = (-2.0, -1.0, 1.0, 2.0)
REPORT_RECORD = "report.json"  # what `report` leaves in every folder it writes
IMPORTANCE_RULE = 0.1  # a component matters if its effect is at least this fraction of the largest one


def printed_form(stats: dict) -> str:
    """The statistics as the 2020 reference printed them."""
    lines = [f"train_{n} mean and std: {stats[n]['mean']:.8g} {stats[n]['std']:.8g}" for n in ("x", "y")]
    for i in range(len(stats["x"]["component_mean"])):
        for n in ("x", "y"):
            lines.append(
                f"train_{n} mean and std of {i}-th component: "
                f"{stats[n]['component_mean'][i]:.8g} {stats[n]['component_std'][i]:.8g}"
            )
    return "\n".join(lines)


def statistics_comparison(stats: dict, reference: dict) -> str:
    """Markdown: global figures and the per-component std side by side with the reference's."""
    x, y, rx, ry = stats["x"], stats["y"], reference["x"], reference["y"]
    below = {
        k: int((np.asarray(v["component_std"]) < INFORMATIVE_STD).sum())
        for k, v in (("x", x), ("y", y), ("rx", rx), ("ry", ry))
    }
    lines = [
        "| train split | ours | 2020 reference |",
        "|---|---:|---:|",
        f"| `x` mean / std | {x['mean']:.4f} / {x['std']:.4f} | {rx['mean']:.4f} / {rx['std']:.4f} |",
        f"| `y` mean / std | {y['mean']:.4f} / {y['std']:.4f} | {ry['mean']:.4f} / {ry['std']:.4f} |",
        f"| components of `x` with std < 0.8 | {below['x']} | {below['rx']} |",
        f"| components of `y` with std < 0.8 | {below['y']} | {below['ry']} |",
        f"| smallest component std of `x` | {min(x['component_std']):.4f} | {min(rx['component_std']):.4f} |",
        "",
    ]
    if len(x["component_std"]) == len(rx["component_std"]):
        lines += ["| component | x std | x std (2020) | y std | y std (2020) |", "|---:|---:|---:|---:|---:|"]
        for i in range(len(x["component_std"])):
            lines.append(
                f"| {i} | {x['component_std'][i]:.4f} | {rx['component_std'][i]:.4f} | "
                f"{y['component_std'][i]:.4f} | {ry['component_std'][i]:.4f} |"
            )
        lines += [
            "",
            "Component numbers are arbitrary in each VAE: compare the distributions of std (how many "
            "components are informative and how small their std gets), not component by component.",
        ]
    return "\n".join(lines)


def what_differs(stats: dict, reference: dict) -> str:
    """One paragraph on how the informative components compare with the 2020 dataset's."""

    def informative(d):
        std = np.asarray(d["component_std"])
        return std[std < INFORMATIVE_STD]

    x, rx, y, ry = (informative(d) for d in (stats["x"], reference["x"], stats["y"], reference["y"]))
    return (
        f"What differs: our image VAE uses {len(x)} informative components (std < 0.8) where the 2020 one used "
        f"{len(rx)}, at the same std level ({x.min():.2f}-{x.max():.2f} here, {rx.min():.2f}-{rx.max():.2f} in 2020: "
        f"the reference sampling parameterisation at work); our class VAE spreads the classes over {len(y)} "
        f"components (2020: {len(ry)}). These counts are properties of the trained VAEs: other runs of the "
        f"fast recipe gave 9 to 11 informative image components (README, Training)."
    )


def _quantiles(n: int) -> np.ndarray:
    from statistics import NormalDist

    return np.array([NormalDist().inv_cdf(q) for q in np.linspace(0.05, 0.95, n)], np.float32)


def decode_grid(image_vae, components: tuple[int, int], n: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Decoded images over two components at standard-normal quantiles, others at 0: `(n, n, 28, 28)`."""
    import torch

    values = _quantiles(n)
    L = image_vae.config.latent_dim
    z = torch.zeros(n, n, L)
    z[:, :, components[0]] = torch.from_numpy(values)[:, None]
    z[:, :, components[1]] = torch.from_numpy(values)[None, :]
    with torch.no_grad():
        images = image_vae.decode(z.reshape(-1, L)).sample.reshape(n, n, 28, 28).numpy()
    return images, values


def decode_sweep(image_vae, n: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Each component alone at standard-normal quantiles, others at 0: `(latent_dim, n, 28, 28)`."""
    import torch

    values = _quantiles(n)
    L = image_vae.config.latent_dim
    z = torch.zeros(L, n, L)
    z[torch.arange(L), :, torch.arange(L)] = torch.from_numpy(values)  # z[c, k, c] = values[k]
    with torch.no_grad():
        images = image_vae.decode(z.reshape(-1, L)).sample.reshape(L, n, 28, 28).numpy()
    return images, values


def component_importance(image_vae, latents: np.ndarray, deltas=IMPORTANCE_DELTAS) -> np.ndarray:
    """For each component: mean |change| of decoded pixels when it moves by each of `deltas` from real latents.

    Args:
        image_vae (`ImageVAE`): the decoder.
        latents (`np.ndarray` `(N, L)`): starting points (sampled image latents of real digits).
    Returns:
        `(L,)` mean absolute pixel change, averaged over the starting points and the deltas.
    """
    import torch

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
    threshold = rule * float(importance.max())
    return int((importance >= threshold).sum()), threshold


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
            figure (default: `load_mnist()`, when the dataset was built from real MNIST).
    """
    import torch

    from .builder import latent_statistics, load_vaes
    from .mnist import load_mnist
    from .plots import plot_component_sweep, plot_histogram, plot_image_grid, plot_importance, plot_manifold
    from .readers import BUILD_RECORD, load_latents, read_build_info, verify_dataset

    dataset_dir = Path(dataset_dir)
    info = read_build_info(dataset_dir)
    verify_dataset(dataset_dir)  # figures of changed data would be wrong without a word
    if readme:
        check_block(readme, "report")
    iv, cv = load_vaes(image_vae or info["image_vae_source"], class_vae or info["class_vae_source"])
    L = iv.config.latent_dim
    for c in components:
        if not 0 <= c < L:
            raise LDMNISTError(
                f"--components {components[0]} {components[1]}: components must be in 0..{L - 1}."
            )
    out_dir = Path(out_dir) if out_dir else dataset_dir / "report"
    check_output_dir(out_dir, overwrite, marker=REPORT_RECORD)
    if (out_dir / BUILD_RECORD).exists():
        raise LDMNISTError(
            f"--out {out_dir} is a dataset folder; give a folder for the report (default: DATASET/report)."
        )
    x, y, train_labels = load_latents(dataset_dir, "train", columns=("x", "y", "label"))
    x_test, y_test, test_labels = load_latents(dataset_dir, "test", columns=("x", "y", "label"))
    stats = latent_statistics(x, y)
    reference = reference_2020()

    with torch.no_grad():
        class_acc = float((cv.predict(torch.tensor(y_test)).numpy() == test_labels).mean())
        class_acc_train = float((cv.predict(torch.tensor(y)).numpy() == train_labels).mean())
    importance = component_importance(iv, x_test[:n_importance])
    n_important, threshold = count_important(importance)
    std = np.asarray(stats["x"]["component_std"])
    corr = float(np.corrcoef(np.argsort(np.argsort(importance)), np.argsort(np.argsort(std)))[0, 1])
    result = {
        "statistics": stats,
        "class_vae_accuracy_test": class_acc,
        "class_vae_accuracy_train": class_acc_train,
        "importance": {
            "per_component": importance.round(6).tolist(),
            "important_components": n_important,
            "threshold": threshold,
            "rule": f"mean |pixel change| >= {IMPORTANCE_RULE} x the largest component's, "
            f"moving each component by {list(IMPORTANCE_DELTAS)} from {min(n_importance, len(x_test))} test latents",
            "spearman_importance_vs_std": corr,
            "important_with_std_below_0.8": int(((importance >= threshold) & (std < INFORMATIVE_STD)).sum()),
        },
    }

    with atomic_dir(out_dir, overwrite=overwrite, marker=REPORT_RECORD) as tmp:
        import matplotlib.pyplot as plt

        figures = {
            "hist_train_x.png": plot_histogram(x, "Image latents x (train): all components pooled"),
            "hist_train_y.png": plot_histogram(y, "Class latents y (train): all components pooled"),
        }
        if mnist is None and info.get("mnist_verified", True):
            mnist = load_mnist()
        if mnist is not None:
            with torch.no_grad():
                rec = iv.decode(torch.tensor(x_test[:12])).sample.numpy()
            figures["reconstructions.png"] = plot_image_grid(
                [mnist.test_images[:12], rec],
                ["test image", "decoded x"],
                "Image VAE: MNIST test digits (top) and their dataset latents x decoded (bottom)",
            )
        grid, values = decode_grid(iv, components)
        figures[f"manifold_{components[0]}_{components[1]}.png"] = plot_manifold(grid, values, components)
        sweep, _ = decode_sweep(iv)
        figures["manifold_overview.png"] = plot_component_sweep(sweep, values, std, importance >= threshold)
        figures["importance.png"] = plot_importance(importance, std, threshold)
        for name, fig in figures.items():
            fig.savefig(tmp / name, dpi=90, bbox_inches="tight")
            plt.close(fig)
        (tmp / "statistics.json").write_text(
            json.dumps({"ours": stats, "reference_2020": reference}, indent=1) + "\n"
        )
        (tmp / "statistics.md").write_text(
            f"# LD-MNIST statistics (train split)\n\n{statistics_comparison(stats, reference)}\n\n"
            f"## In the reference's printed form\n\nOurs:\n\n```\n{printed_form(stats)}\n```\n\n"
            f"2020 reference:\n\n```\n{printed_form(reference)}\n```\n"
        )
        (tmp / "importance.json").write_text(json.dumps(result["importance"], indent=1) + "\n")
        (tmp / REPORT_RECORD).write_text(
            json.dumps({k: v for k, v in result.items() if k != "statistics"}, indent=1) + "\n"
        )
        (tmp / "report.md").write_text(report_markdown(result, sorted(figures), components, prefix="") + "\n")
    if out_dir.resolve().is_relative_to(dataset_dir.resolve()):  # the card links only to files it ships with
        rel = os.path.relpath(out_dir, dataset_dir)
        block = report_markdown(result, sorted(figures), components, rel + "/")
        replace_block(dataset_dir / "README.md", "report", block)
    if readme:
        rel = os.path.relpath(out_dir, Path(readme).parent)
        replace_block(readme, "report", report_markdown(result, sorted(figures), components, rel + "/"))
    log(f"Wrote the report to {out_dir}")
    return result


def report_markdown(result: dict, figures: list[str], components: tuple[int, int], prefix: str) -> str:
    imp = result["importance"]
    stats = result["statistics"]
    reference = reference_2020()
    i, j = components
    lines = [
        f"Class VAE: the class decoded from the dataset's sampled `y` matches the label in "
        f"{100 * result['class_vae_accuracy_test']:.2f} % of test rows and "
        f"{100 * result['class_vae_accuracy_train']:.2f} % of train rows (2020 reference: "
        f"{100 * reference['published']['class_vae_accuracy']:.2f} %).",
        "",
        statistics_comparison(stats, reference).split("\n\n| component")[0],
        "",
        what_differs(stats, reference),
        "",
        f"| ![hist_train_x]({prefix}hist_train_x.png) | ![hist_train_y]({prefix}hist_train_y.png) |",
        "|:-:|:-:|",
        "",
    ]
    if "reconstructions.png" in figures:
        lines += [f"![reconstructions]({prefix}reconstructions.png)", ""]
    lines += [
        f"**Component importance.** {imp['important_components']} of {len(imp['per_component'])} components "
        f"change the decoded image noticeably (rule: {imp['rule']}); the 2020 reference estimated "
        f'"{reference["published"]["important_components"]}". {imp["important_with_std_below_0.8"]} of them have std below 0.8; the rank '
        f"correlation between importance and std is {imp['spearman_importance_vs_std']:.2f} (informative "
        f"components have lower std).",
        "",
        f"![importance]({prefix}importance.png)",
        "",
        f"![manifold]({prefix}manifold_{i}_{j}.png)",
        "",
        f"All components one by one: [manifold_overview.png]({prefix}manifold_overview.png); full tables: "
        f"[statistics.md]({prefix}statistics.md). Regenerate with `ldmnist report --dataset DIR`.",
    ]
    return "\n".join(lines)
