"""Argument checks shared by the LD-MNIST configurations (no torch, no transformers).

Saved beside each exported model's configuration, so it must not import `ldmnist_hf`. Sizes are bounded
(`MAX_SIZE`): a typo in a config must fail here, not in the allocator after minutes.
"""

from __future__ import annotations

import math

SAMPLINGS = ("reference", "standard")
MAX_SIZE = 16384  # widths and latent sizes: far above any LD-MNIST model, far below an allocator failure
MAX_SIDE = 1024  # an image's height or width
MAX_CHANNELS = 4  # grey, grey + alpha, RGB, RGBA


def check_choice(name: str, value, allowed) -> None:
    """Raises a `ValueError` naming `value` and the allowed ones unless `value in allowed`."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, allowed))}, got {value!r}.")


def check_positive(name: str, value, most: int = MAX_SIZE) -> None:
    """Raises a `ValueError` unless `value` is an `int` (not a `bool`) in 1..`most`."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise ValueError(f"`{name}` must be an integer from 1 to {most}, got {value!r}.")


def check_number(
    name: str, value, low: float, high: float, low_open: bool = False, high_open: bool = True
) -> None:
    """Raises a `ValueError` unless `value` is a finite real number in the interval from `low` to `high`."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"`{name}` must be a finite number in {interval}, got {value!r}.")


def check_image_size(value) -> tuple[int, int]:
    """`image_size` as `(height, width)`: an `int` (the side of a square image) or a pair `[height, width]`.

    >>> check_image_size(28), check_image_size([8, 6])
    ((28, 28), (8, 6))
    >>> check_image_size([28])
    Traceback (most recent call last):
    ...
    ValueError: `image_size` must be an integer (the side of a square image) or a pair [height, width], got [28].
    """
    if isinstance(value, int) and not isinstance(value, bool):
        check_positive("image_size", value, most=MAX_SIDE)
        return value, value
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(
            f"`image_size` must be an integer (the side of a square image) or a pair [height, width], "
            f"got {value!r}."
        )
    for i, side in enumerate(value):
        check_positive(f"image_size[{i}]", side, most=MAX_SIDE)
    return value[0], value[1]


def check_rate(name: str, value) -> None:
    """Raises a `ValueError` unless `0 <= value < 1`."""
    check_number(name, value, 0.0, 1.0)


def check_sizes(name: str, value) -> list[int]:
    """A list of positive layer widths (at most 16 of them), checked."""
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValueError(f"`{name}` must be a list of layer widths, got {value!r}.")
    sizes = list(value)
    if not 1 <= len(sizes) <= 16:
        raise ValueError(f"`{name}` must hold 1 to 16 layer widths, got {len(sizes)}.")
    for s in sizes:
        check_positive(f"{name}[i]", s)
    return sizes


def check_batch_norm(eps, momentum) -> None:
    """BatchNorm's epsilon must be positive (it keeps `1 / sqrt(var + eps)` finite) and its momentum a rate."""
    check_number("batch_norm_eps", eps, 0.0, 1.0, low_open=True, high_open=False)
    check_number("batch_norm_momentum", momentum, 0.0, 1.0, high_open=False)
