"""Argument checks shared by the LD-MNIST configurations (no torch, no transformers).

Saved beside each exported model's configuration, so it must not import `ldmnist_hf`.
"""

from __future__ import annotations

SAMPLINGS = ("reference", "standard")


def check_choice(name: str, value, allowed) -> None:
    """Raises a `ValueError` naming `value` and the allowed ones unless `value in allowed`."""
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, allowed))}, got {value!r}.")


def check_positive(name: str, value) -> None:
    """Raises a `ValueError` unless `value` is a positive `int` (not a `bool`)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")


def check_rate(name: str, value) -> None:
    """Raises a `ValueError` unless `0 <= value < 1`."""
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}.")


def check_sizes(name: str, value) -> list[int]:
    """A list of positive layer widths, checked."""
    sizes = list(value)
    for s in sizes:
        check_positive(f"{name}[i]", s)
    return sizes
