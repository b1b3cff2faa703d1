"""The quality bar as `ldmnist train` and `ldmnist release` print it (docs/training.md)."""

from __future__ import annotations


def quality_bar_lines(figures: dict, one_draw: bool = False, source: str = "mnist") -> str:
    """The source dataset's quality bar, figure by figure: met or NOT MET, the value and the bar; for another
    source than MNIST also the joint accuracy beside an MLP on the raw pixels (no bar).

    >>> print(quality_bar_lines({"class_vae_accuracy_mean": 0.9958, "informative_components": 9}))
    Quality bar of the shipped 32-d models (docs/training.md):
      NOT MET  class VAE accuracy from sampled class latents (mean of draws): 99.58 % (bar >= 99.80 %)
      met      informative image latent components: 9 (bar >= 8)
    """
    from ..registry import QUALITY_BAR_FIGURES, quality_bar

    shown = {
        "class_vae_accuracy_mean": lambda v: f"{100 * v:.2f} %",
        "middle_layers_accuracy": lambda v: f"{v:.4f}",
        "informative_components": str,
    }
    lines = ["Quality bar of the shipped 32-d models (docs/training.md):"]
    if source != "mnist":
        lines[0] = f"Quality bar of models trained on {source} (docs/training.md):"
    for key, value, bar, met in quality_bar(figures, source):
        title = QUALITY_BAR_FIGURES[key]
        if key == "class_vae_accuracy_mean" and one_draw:
            title = "class VAE accuracy from sampled class latents (one test draw; release measures 20)"
        lines.append(
            f"  {'met    ' if met else 'NOT MET'}  {title}: {shown[key](value)} (bar >= {shown[key](bar)})"
        )
    if source != "mnist" and figures.get("middle_layers_accuracy") is not None:
        pixels = figures.get("pixel_mlp_accuracy")
        beside = f" (an MLP on the raw pixels: {pixels:.4f})" if pixels is not None else ""
        lines.append(
            f"  stated   middle layers: image -> class accuracy: {figures['middle_layers_accuracy']:.4f}{beside}"
        )
    return "\n".join(lines)
