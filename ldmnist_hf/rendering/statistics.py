"""The statistics of a built dataset beside the 2020 reference's: `statistics.md` and the card's report block."""

from __future__ import annotations

import numpy as np

from ..data.reference_2020 import reference_2020
from ..data.statistics import INFORMATIVE_STD, is_informative
from .markdown import markdown_table


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


def _informative_std(component_std) -> np.ndarray:
    std = np.asarray(component_std)
    return std[is_informative(std)]


def statistics_summary(stats: dict, reference: dict) -> str:
    """Markdown: the global figures of the train split beside the reference's."""
    x, y, rx, ry = stats["x"], stats["y"], reference["x"], reference["y"]
    n = {
        k: len(_informative_std(v["component_std"])) for k, v in (("x", x), ("y", y), ("rx", rx), ("ry", ry))
    }
    rows = [
        ("`x` mean / std", f"{x['mean']:.4f} / {x['std']:.4f}", f"{rx['mean']:.4f} / {rx['std']:.4f}"),
        ("`y` mean / std", f"{y['mean']:.4f} / {y['std']:.4f}", f"{ry['mean']:.4f} / {ry['std']:.4f}"),
        (f"components of `x` with std < {INFORMATIVE_STD:g}", n["x"], n["rx"]),
        (f"components of `y` with std < {INFORMATIVE_STD:g}", n["y"], n["ry"]),
        (
            "smallest component std of `x`",
            f"{min(x['component_std']):.4f}",
            f"{min(rx['component_std']):.4f}",
        ),
    ]
    return markdown_table(["train split", "ours", "2020 reference"], rows, align="lrr")


def component_std_table(stats: dict, reference: dict) -> str:
    """Markdown: the std of every component beside the reference's (same latent size only, else `""`)."""
    x, y, rx, ry = stats["x"], stats["y"], reference["x"], reference["y"]
    if len(x["component_std"]) != len(rx["component_std"]):
        return ""
    rows = [
        (
            i,
            *(
                f"{s[i]:.4f}"
                for s in (x["component_std"], rx["component_std"], y["component_std"], ry["component_std"])
            ),
        )
        for i in range(len(x["component_std"]))
    ]
    table = markdown_table(
        ["component", "x std", "x std (2020)", "y std", "y std (2020)"], rows, align="rrrrr"
    )
    return (
        f"{table}\n\nComponent numbers are arbitrary in each VAE: compare the distributions of std (how many "
        "components are informative and how small their std gets), not component by component."
    )


def statistics_comparison(stats: dict, reference: dict) -> str:
    """Markdown: global figures and the per-component std side by side with the reference's."""
    summary, table = statistics_summary(stats, reference), component_std_table(stats, reference)
    return f"{summary}\n\n{table}" if table else summary + "\n"


def what_differs(stats: dict, reference: dict) -> str:
    """One paragraph on how the informative components compare with the 2020 dataset's."""
    x, rx, y, ry = (
        _informative_std(d["component_std"]) for d in (stats["x"], reference["x"], stats["y"], reference["y"])
    )
    return (
        f"What differs: our image VAE uses {len(x)} informative components (std < {INFORMATIVE_STD:g}) "
        f"where the 2020 one used {len(rx)}, at the same std level ({x.min():.2f}-{x.max():.2f} here, "
        f"{rx.min():.2f}-{rx.max():.2f} in 2020: the reference sampling parameterisation at work); our class VAE "
        f"spreads the classes over {len(y)} components (2020: {len(ry)}). These counts are properties of the "
        f"trained VAEs: they vary from run to run (docs/training.md)."
    )


def statistics_markdown(stats: dict, reference: dict) -> str:
    """`statistics.md`: the comparison tables and both sides in the reference's printed form."""
    return (
        f"# LD-MNIST statistics (train split)\n\n{statistics_comparison(stats, reference)}\n\n"
        f"## In the reference's printed form\n\nOurs:\n\n```\n{printed_form(stats)}\n```\n\n"
        f"2020 reference:\n\n```\n{printed_form(reference)}\n```\n"
    )


def report_markdown(result: dict, figures: list[str], components: tuple[int, int], prefix: str) -> str:
    """A card's report block: class VAE accuracy, statistics, importance, figures linked under `prefix`."""
    imp, stats, reference = result["importance"], result["statistics"], reference_2020()
    i, j = components
    lines = [
        f"Class VAE: the class decoded from the dataset's sampled `y` matches the label in "
        f"{100 * result['class_vae_accuracy_test']:.2f} % of test rows and "
        f"{100 * result['class_vae_accuracy_train']:.2f} % of train rows (2020 reference: "
        f"{100 * reference['published']['class_vae_accuracy']:.2f} %).",
        "",
        statistics_summary(stats, reference),
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
        f'"{reference["published"]["important_components"]}". {imp["important_and_informative"]} of them have '
        f"std below {imp['informative_std']:g}; the rank correlation between importance and std is "
        f"{imp['spearman_importance_vs_std']:.2f} (informative components have lower std).",
        "",
        f"![importance]({prefix}importance.png)",
        "",
        f"![manifold]({prefix}manifold_{i}_{j}.png)",
        "",
        f"All components one by one: [manifold_overview.png]({prefix}manifold_overview.png); full tables: "
        f"[statistics.md]({prefix}statistics.md). Regenerate with `ldmnist report --dataset DIR`.",
    ]
    return "\n".join(lines)
