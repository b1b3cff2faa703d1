"""Figures of an LD dataset (LD-MNIST or a sibling). Each takes an optional `ax`/`fig`, returns a matplotlib `Figure`, no `show()`."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure  # not pyplot: no global figure state, no GUI backend to pick


def _tick(v: float) -> str:
    return f"{round(float(v), 1) + 0.0:.1f}"  # + 0.0 turns -0.0 into 0.0


def plot_histogram(values: np.ndarray, title: str, ax=None, bins: int = 120):
    """Histogram of all components pooled, with the standard normal density drawn over it."""
    fig = ax.figure if ax is not None else Figure(figsize=(6, 4))
    ax = ax or fig.add_subplot()
    v = np.asarray(values, np.float64).ravel()
    ax.hist(v, bins=bins, range=(-5, 5), density=True, color="tab:blue", alpha=0.7, label="all components")
    grid = np.linspace(-5, 5, 400)
    ax.plot(grid, np.exp(-(grid**2) / 2) / math.sqrt(2 * math.pi), color="black", lw=1.5, label="N(0, 1)")
    ax.set(title=title, xlabel="latent value", ylabel="density")
    ax.text(
        0.02, 0.95, f"mean {v.mean():.4f}\nstd {v.std():.4f}", transform=ax.transAxes, va="top", fontsize=9
    )
    ax.legend(loc="upper right")
    return fig


def displayable(images: np.ndarray) -> np.ndarray:
    """Images as `imshow` takes them: grey `(..., H, W)` stays, colour channels-first `(..., C, H, W)` (what the
    image VAE decodes) becomes `(..., H, W, C)`. Colour is told by a channel axis of 3 or 4 before H and W.

    >>> displayable(np.zeros((2, 3, 8, 6))).shape, displayable(np.zeros((2, 8, 6))).shape
    ((2, 8, 6, 3), (2, 8, 6))
    """
    images = np.asarray(images)
    if images.ndim >= 4 and images.shape[-3] in (3, 4):
        return np.moveaxis(images, -3, -1)
    return images


def _tile(images: np.ndarray) -> np.ndarray:
    """A `(rows, cols, H, W[, C])` array of images as one canvas `(rows * H, cols * W[, C])`."""
    rows, cols, h, w = images.shape[:4]
    return images.swapaxes(1, 2).reshape(rows * h, cols * w, *images.shape[4:])


def plot_image_grid(rows: list[np.ndarray], row_titles: list[str], title: str, fig=None):
    """Rows of images (grey `(n, H, W)` or colour `(n, C, H, W)`), each row with a label on its left."""
    n_rows, n_cols = len(rows), len(rows[0])
    fig = fig or Figure(figsize=(n_cols * 0.9, n_rows * 1.0 + 0.5))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, (images, name) in enumerate(zip(rows, row_titles)):
        for c in range(n_cols):
            ax = axes[r][c]
            image = displayable(images[c][None])[0]
            scale = 255.0 if image.dtype == np.uint8 else 1.0
            ax.imshow(
                image / scale if image.ndim == 3 else image,
                cmap="gray",
                vmin=0,
                vmax=1 if scale == 1 else 255,
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
    fig.suptitle(title)
    return fig


def plot_manifold(images: np.ndarray, values: np.ndarray, components: tuple[int, int], fig=None):
    """Decoded images on a grid over two latent components: `images` `(n, n, H, W)` (or colour `(n, n, C, H, W)`),
    `values` `(n,)`."""
    n = len(values)
    fig = fig or Figure(figsize=(7, 7))
    ax = fig.add_subplot()
    canvas = _tile(displayable(images))
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=(0, n, n, 0))
    ticks = np.arange(n) + 0.5
    ax.set_xticks(ticks, [_tick(v) for v in values], fontsize=7)
    ax.set_yticks(ticks, [_tick(v) for v in values], fontsize=7)
    ax.set(
        xlabel=f"component {components[1]} (normal quantiles)",
        ylabel=f"component {components[0]} (normal quantiles)",
        title=f"Decoded images over latent components {components[0]} and {components[1]} (others at 0)",
    )
    return fig


def plot_importance(importance: np.ndarray, std: np.ndarray, threshold: float, ax=None):
    """Bar plot of each component's effect on the decoded image, coloured by whether it counts."""
    fig = ax.figure if ax is not None else Figure(figsize=(10, 4))
    ax = ax or fig.add_subplot()
    idx = np.arange(len(importance))
    matters = importance >= threshold
    ax.bar(idx[matters], importance[matters], color="tab:red", label="matters")
    ax.bar(idx[~matters], importance[~matters], color="tab:gray", label="does not")
    ax.axhline(threshold, color="black", ls="--", lw=1, label=f"threshold {threshold:.4f}")
    for i, s in zip(idx, std):
        ax.text(i, importance[i], f"{s:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set(
        xlabel="latent component (label above bar: std over the train set)",
        ylabel="mean |change| of decoded pixels",
        title=f"Component importance: {int(matters.sum())} of {len(importance)} components change the decoded image",
    )
    ax.set_xticks(idx)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=8)
    return fig


def plot_component_sweep(images: np.ndarray, values: np.ndarray, std: np.ndarray, important=None, fig=None):
    """Each component swept on its own: `images` `(L, n, H, W)` (or colour `(L, n, C, H, W)`), one column per
    component, one row per value."""
    n_comp, n = images.shape[:2]
    fig = fig or Figure(figsize=(max(8, n_comp * 0.42), n * 0.42 + 1.6))
    ax = fig.add_subplot()
    canvas = _tile(displayable(images).swapaxes(0, 1))  # rows: values, columns: components
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=(0, n_comp, n, 0))
    ax.set_xticks(np.arange(n_comp) + 0.5, [f"{i}\n{s:.2f}" for i, s in enumerate(std)], fontsize=6)
    ax.set_yticks(np.arange(n) + 0.5, [_tick(v) for v in values], fontsize=7)
    if important is not None:
        for label, keep in zip(ax.get_xticklabels(), important):
            label.set_color("tab:red" if keep else "black")
    ax.set(
        xlabel="latent component and its std over the train set (red: changes the decoded image)",
        ylabel="value of that component (normal quantiles)",
        title="Each latent component moved on its own, the others at 0",
    )
    return fig
