"""The leaderboard block of the dataset card: per config, the rows as `ldmnist leaderboard` ranked them, what
each status means, what the leaderboard checks and what it cannot."""

from __future__ import annotations

import re

from ..data.records import CHECKED, FLOOR_STANDARD_ERRORS, Leaderboard, LeaderboardRow, Status
from .markdown import markdown_table, plain_cell

_LINK = re.compile(r"https?://[\w.:@-]+(/[\w./%~+-]*)?")  # what a row's `url` may be to render as a link


def _number(value) -> str:
    return "" if value is None else f"{value:.4f}"


def _model_cell(row: LeaderboardRow) -> str:
    if row.status is Status.PUBLISHED:
        return plain_cell(row.model)
    url = row.url if row.url and _LINK.fullmatch(row.url) else f"https://huggingface.co/{row.model}"
    return f"[{plain_cell(row.model)}]({url})"


def _note(row: LeaderboardRow) -> str:
    parts = []
    if row.source not in ("main", "published in 2020"):
        parts.append(row.source + (f" by @{row.user}" if row.user else ""))
    if row.status in (Status.MISMATCH, Status.UNVERIFIABLE) or (
        row.status is Status.STALE and row.mse is None
    ):
        parts.append(f"reports {_number(row.reported_mse)} / {_number(row.reported_reconstructed_accuracy)}")
    if row.status is Status.STALE and row.revision_date:
        parts.append(f"revision of {row.revision_date[:10]}")
    if row.reason and row.status is not Status.PUBLISHED:
        parts.append(row.reason)
    return "; ".join(plain_cell(p) for p in parts)


def leaderboard_markdown(board: Leaderboard) -> str:
    """The dataset card's leaderboard block: a table per config, the statuses it shows, the floors, the rules."""
    parts = []
    for config in board.configs:
        rows = [r for r in board.rows if r.config == config]
        if not rows:
            continue
        table = markdown_table(
            ["rank", "model", "MSE", "reconstructed accuracy", "status", "note"],
            [
                (
                    r.rank or "",
                    _model_cell(r),
                    _number(r.mse),
                    _number(r.reconstructed_accuracy),
                    r.status.value,
                    _note(r),
                )
                for r in rows
            ],
            align="rlrrll",
        )
        parts.append(f"Config `{config}`:\n\n{table}" if len(board.configs) > 1 else table)
    shown = [s for s in Status if any(r.status is s for r in board.rows)]
    legend = "\n".join(f"- `{s.value}`: {s.meaning}." for s in shown)
    floors = "; ".join(
        f"`{c}` {f.mse:.4f} (tolerance {f.tolerance:.4f})"
        for c, f in board.floors.items()
        if c in board.configs
    )
    floor_line = (
        f"Noise floor (the expected MSE of a perfect classifier) and its tolerance ({FLOOR_STANDARD_ERRORS} "
        f"standard errors over the test rows): {floors}. A score below the floor by more than the tolerance, or "
        f"predictions that follow the random noise of `y`, are `uses-targets`, not ranked."
        if floors
        else ""
    )
    return "\n\n".join(
        [
            *(parts or ["No submissions yet."]),
            f"Recomputed by `ldmnist leaderboard` on dataset revision `{board.revision[:12]}`. {CHECKED}",
            *([floor_line] if floor_line else []),
            *([legend] if legend else []),
            f"Submit with `ldmnist submit --predictions FILE --repo USER/MODEL --dataset-repo {board.dataset}`.",
        ]
    )
