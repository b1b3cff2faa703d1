"""The leaderboard's records: one row type, its statuses with what each means, and `leaderboard.json`.

`ldmnist leaderboard` makes the rows, the dataset card and the metric Space show them, `ldmnist export` puts
a leaderboard file beside the card; all of them read these types, and the Space (which must run without this
package) reads the same facts from the file: each status's meaning and rank rule travel in it.

`leaderboard.json`, schema version 2 (a dict; `docs/publishing.md` shows one):

- `schema_version` (int, 2), `dataset` (`NS/ldmnist`), `revision` (the 40-hex commit of the dataset's main
  branch the table was computed on), `configs` (the configs it covers);
- `statuses`: `{status: {"meaning": str, "ranked": bool}}`, every status below;
- `floors`: `{config: {"mse": float, "tolerance": float}}`, the noise floor of each config's test split and
  the margin below it that no model seeing only `x` reaches (see `Floor`);
- `rows`: a list of `LeaderboardRow.to_json()` dicts, ranked rows first (by `rank`) in each config.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from dataclasses import dataclass, field

SCHEMA_VERSION = 2
LEADERBOARD_FILE = "leaderboard.json"
REVISION = re.compile(r"[0-9a-f]{40}")
# A leaderboard's standard errors: a score below the floor by more than this many is not chance.
FLOOR_STANDARD_ERRORS = 3


class Status(str, enum.Enum):  # noqa: UP042 - StrEnum is Python 3.11+, setup.cfg allows 3.10
    """What the leaderboard checked about a row. `meaning` is the sentence shown beside it; `ranked` whether
    rows of this status get a rank (by recomputed MSE)."""

    RECOMPUTED = "recomputed"
    MISMATCH = "mismatch"
    USES_TARGETS = "uses-targets"
    STALE = "stale"
    PUBLISHED = "published"
    UNVERIFIABLE = "unverifiable"
    INVALID = "invalid"

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    @property
    def ranked(self) -> bool:
        return self in (Status.RECOMPUTED, Status.MISMATCH)


_MEANING = {
    Status.RECOMPUTED: "scores recomputed from its uploaded predictions on the current published revision; "
    "they equal what it reports",
    Status.MISMATCH: "its uploaded predictions give other scores than it reports; ranked by the recomputed ones",
    Status.USES_TARGETS: "its predictions use the public test targets: their MSE is below the noise floor by "
    "more than its tolerance, or they follow the random noise of `y` (which no model that sees only `x` can "
    "know) by more than 5 standard errors; not ranked",
    Status.STALE: "scored on an earlier published revision of the dataset (recomputed there); not ranked",
    Status.UNVERIFIABLE: "reports scores but uploaded no predictions to recompute them from; not ranked",
    Status.INVALID: "not scored, for the reason given",
    Status.PUBLISHED: "the 2020 reference's published figures, on its own dataset (not recomputed); not ranked",
}
# What every row's scores rest on, in one or two sentences (the card, the Space and docs/publishing.md say it).
CHECKED = (
    "Every score is recomputed from the predictions file the submission uploaded, on a revision of the dataset's "
    "main branch; predictions that use the test targets (a score below the noise floor, or predictions that "
    "follow the random noise of `y`) are flagged. The test targets are public, so a row is the "
    "submitter's word about how the predictions were made: nothing here checks the model itself."
)


@dataclass(frozen=True)
class Floor:
    """The noise floor of a config's test split: `y` is a random draw from the class VAE's posterior, so even a
    perfect classifier (predicting each row's posterior mean) has an expected MSE of `mse` (the mean of
    `y_std^2`), and its realised MSE varies by the standard error of that mean over the test rows.
    `tolerance` is `FLOOR_STANDARD_ERRORS` standard errors: a score below `mse - tolerance` used the targets.
    """

    mse: float
    tolerance: float

    @property
    def threshold(self) -> float:
        return self.mse - self.tolerance

    @classmethod
    def of(cls, y_std) -> Floor:
        """The floor of a test split from its posterior std `(N, L)`: per row, the expected squared error of the
        posterior mean is the mean of `y_std^2` over the components, and its variance `2 sum(y_std^4) / L^2`
        (each component's error is a scaled chi-square with one degree of freedom)."""
        import numpy as np

        var = np.asarray(y_std, np.float64) ** 2
        n, L = var.shape
        row_var = 2 * (var**2).sum(1) / L**2
        standard_error = math.sqrt(row_var.sum()) / n
        return cls(float(var.mean()), FLOOR_STANDARD_ERRORS * standard_error)


@dataclass
class LeaderboardRow:
    """One row of the leaderboard: a model's result on one config, with what was checked.

    Args:
        model (`str`): the model repository (`OWNER/NAME`), or the 2020 row's description.
        config (`str`): the dataset config it was scored on.
        status (`Status`): what the leaderboard found (`Status.meaning`).
        source (`str`, defaults to `"main"`): `"main"`, `"pull request #N"` or `"published in 2020"`.
        rank (`int`, *optional*): 1 = lowest recomputed MSE among the ranked rows of its config.
        mse, reconstructed_accuracy (`float`, *optional*): the recomputed scores.
        reported_mse, reported_reconstructed_accuracy (`float`, *optional*): what the submission reports.
        revision (`str`, *optional*): the dataset revision its results name.
        revision_date (`str`, *optional*): that revision's commit date (ISO 8601).
        submitted (`str`, *optional*): when its predictions file was committed (ISO 8601).
        user (`str`, *optional*): who submitted a pull request (credited).
        url (`str`, *optional*): where to see it: the model, or the pull request's revision of it.
        reason (`str`): why it has its status, when that needs saying.
    """

    model: str
    config: str
    status: Status
    source: str = "main"
    rank: int | None = None
    mse: float | None = None
    reconstructed_accuracy: float | None = None
    reported_mse: float | None = None
    reported_reconstructed_accuracy: float | None = None
    revision: str | None = None
    revision_date: str | None = None
    submitted: str | None = None
    user: str | None = None
    url: str | None = None
    reason: str = ""

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "status": self.status.value}

    @classmethod
    def from_json(cls, row) -> LeaderboardRow:
        """A row read back from `leaderboard.json`, every field checked; `ValueError` says what is wrong."""
        if not isinstance(row, dict):
            raise ValueError("is not an object")
        unknown = sorted(set(row) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"has fields the schema does not have ({', '.join(map(str, unknown))[:80]})")
        try:
            status = Status(row.get("status"))
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise ValueError(
                f"has the status {str(row.get('status'))[:40]!r}, not one of {allowed}"
            ) from None
        for key in ("model", "config"):
            if not isinstance(row.get(key), str) or not row[key] or len(row[key]) > 200:
                raise ValueError(f"names no {key}")
        for f in dataclasses.fields(cls):
            value = row.get(f.name)
            if f.name in ("model", "config", "status") or value is None:
                continue
            if f.type == "int | None":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"has the {f.name} {str(value)[:40]!r}, not a positive integer")
            elif f.type == "float | None":
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise ValueError(f"has {f.name} = {str(value)[:40]!r}, not a finite number")
            elif not isinstance(value, str) or len(value) > 1000:
                raise ValueError(f"has a {f.name} that is not a short text")
        return cls(**{**row, "status": status})


@dataclass
class Leaderboard:
    """A dataset's leaderboard: every config's rows, ranked, and the floors they were checked against."""

    dataset: str
    revision: str
    configs: list[str]
    rows: list[LeaderboardRow]
    floors: dict[str, Floor] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "dataset": self.dataset,
            "revision": self.revision,
            "configs": list(self.configs),
            "checked": CHECKED,
            "statuses": {s.value: {"meaning": s.meaning, "ranked": s.ranked} for s in Status},
            "floors": {c: dataclasses.asdict(f) for c, f in self.floors.items()},
            "rows": [r.to_json() for r in self.rows],
        }

    @classmethod
    def from_json(cls, data) -> Leaderboard:
        """A leaderboard read back from its JSON; `ValueError` says what is wrong (`row N ...`)."""
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise ValueError("it is not a leaderboard (no rows)")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"its schema version is {str(data.get('schema_version'))[:20]}, not {SCHEMA_VERSION}"
            )
        if not isinstance(data.get("dataset"), str) or not REVISION.fullmatch(str(data.get("revision"))):
            raise ValueError("it names no dataset or no 40-hex revision")
        configs = data.get("configs")
        if not isinstance(configs, list) or not all(isinstance(c, str) for c in configs):
            raise ValueError("its configs are not a list of names")
        rows = []
        for i, row in enumerate(data["rows"], 1):
            try:
                rows.append(LeaderboardRow.from_json(row))
            except ValueError as e:
                raise ValueError(f"row {i} {e}") from None
        floors = {}
        for config, floor in (data.get("floors") or {}).items():
            numbers = [floor.get(k) if isinstance(floor, dict) else None for k in ("mse", "tolerance")]
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in numbers
            ):
                raise ValueError(f"the floor of {str(config)[:40]!r} is not two finite numbers")
            floors[config] = Floor(*map(float, numbers))
        return cls(data["dataset"], data["revision"], configs, rows, floors)


def rank(rows: list[LeaderboardRow], default_config: str = "default") -> list[LeaderboardRow]:
    """Per config (`default_config` first): the ranked statuses by recomputed MSE (rank 1 = lowest; equal
    scores: the earlier submission first), then without a rank the other rows by status. Stale rows are grouped
    by the revision they were scored on, newest first, by MSE within a group."""
    out = []
    for config in sorted({r.config for r in rows}, key=lambda c: (c != default_config, c)):
        mine = [r for r in rows if r.config == config]
        scored = sorted(
            (r for r in mine if r.status.ranked and r.mse is not None),
            key=lambda r: (r.mse, r.submitted or "~", r.model),
        )
        for i, r in enumerate(scored, 1):
            r.rank = i
        rest = [r for r in mine if r not in scored]
        for r in rest:
            r.rank = None
        groups = {s: [r for r in rest if r.status is s] for s in Status}
        for status, group in groups.items():
            group.sort(key=lambda r: (math.inf if r.mse is None else r.mse, r.model))
            if status is Status.STALE:  # stable: newest revision first, by MSE within one revision
                group.sort(key=lambda r: r.revision_date or "", reverse=True)
        out += scored + [r for s in Status for r in groups[s]]
    return out
