"""The dataset repository of an export: every config's data and figures, the card, the leaderboard.

No `eval.yaml`: the Hub accepts it only for the evaluation frameworks on its allow-list, and has no way to say
that a lower MSE is better (docs/publishing.md); the leaderboard ranks the submissions itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..data.read import load_latents, read_build_info, verify_dataset
from ..data.records import LEADERBOARD_FILE, Leaderboard, Status
from ..data.schema import BUILD_RECORD, CARD, PREDICTIONS_DIR
from ..data.statistics import latent_statistics
from ..errors import LDMNISTError
from ..files.listing import WRITTEN
from ..files.paths import read_json
from ..registry import (
    KINDS,
)
from ..rendering import (
    TEMPLATES,
    leaderboard_markdown,
    read_block,
    render_dataset_card,
)
from .configs import _Config
from .ids import is_repo_id


def _copy_tree(src: Path, dst: Path, skip: tuple[str, ...]) -> None:
    """The regular files under `src` (no links: they could point anywhere), except the top-level `skip`."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_symlink():
            raise LDMNISTError(
                f"{path} is a symbolic link; a dataset folder to publish holds regular files only."
            )
        if path.is_file() and rel.parts[0] not in skip and not rel.name.startswith((".~", WRITTEN)):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


def _check_built_from(c: _Config, info: dict, ids: dict) -> None:
    for key in ("image_vae", "class_vae"):
        built_from = info.get(f"{key}_sha256")
        if built_from != c.sha256[key]:
            raise LDMNISTError(
                f"The dataset in {c.dataset} was built from other {KINDS[key].title} weights than the model "
                f"repository {ids[key]} holds (sha256 {str(built_from)[:12]} vs {c.sha256[key][:12]}): a "
                f"stale export. Rebuild it from these models (`ldmnist build --image-vae ... --class-vae ...`), "
                f"or export without `dataset` to build it."
            )


def _published_record(info: dict, ids: dict) -> dict:
    """The build record as published: models named by their Hub ids, no paths of the build machine."""
    record = dict(info)
    for key in ("image_vae", "class_vae"):
        record[f"{key}_source"] = record[key] = ids[key]
        record[f"{key}_card"] = f"https://huggingface.co/{ids[key]}"
    record["load_name"] = ids["dataset"]
    for key in ("image_vae_config", "class_vae_config"):  # where the models lay on the build machine
        if isinstance(record.get(key), dict):
            record[key] = {k: v for k, v in record[key].items() if k != "_name_or_path"}
    return record


def _copy_built(c: _Config, out: Path, ids: dict) -> dict:
    """One config's built folder into the dataset repo at `out`: its data and figures, its build record as
    published; returns that record (with `download_size`). Verified first: `ldmnist verify` must pass."""
    verify_dataset(c.dataset)  # a dataset `ldmnist verify` rejects is not published
    info = read_build_info(c.dataset)
    _check_built_from(c, info, ids)
    _copy_tree(c.dataset, out, skip=(CARD, ".gitattributes", BUILD_RECORD, PREDICTIONS_DIR))
    record = _published_record(info, ids)
    (out / BUILD_RECORD).write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    record["download_size"] = sum(p.stat().st_size for p in (out / "data").glob("*.parquet"))
    return record


def _blocks_of(c: _Config) -> dict:
    """What `ldmnist benchmark`, `report` and `fidelity` filled into a built card (links relative)."""
    text = (c.dataset / CARD).read_text()
    blocks = {name: read_block(text, name) for name in ("benchmark", "report", "fidelity")}
    return {k: v for k, v in blocks.items() if v is not None and not v.startswith("Run `ldmnist")}


def _read_leaderboard(path, dataset: str, configs: list[str]) -> Leaderboard | None:
    """A `leaderboard.json` checked to be this dataset's, of these configs; `None` without a path."""
    if path is None:
        return None
    fix = "write it again with `ldmnist leaderboard --json FILE`"
    try:
        board = Leaderboard.from_json(read_json(Path(path), fix=fix + "."))
    except ValueError as e:
        raise LDMNISTError(
            f"{path} is not a leaderboard of `ldmnist leaderboard --json`, or was edited since: {e}. {fix[0].upper()}"
            f"{fix[1:]}."
        ) from e
    if board.dataset != dataset:
        raise LDMNISTError(
            f"{path} is the leaderboard of {board.dataset!r}, not of {dataset}; give the leaderboard of "
            f"the dataset being exported."
        )
    unknown = sorted({r.config for r in board.rows} - set(configs))
    if unknown:
        raise LDMNISTError(
            f"{path} ranks configs this export does not have ({', '.join(unknown)}): export them too "
            f"(--variant NAME=BUILT_DIR), or compute the leaderboard of the configs you export "
            f"(`ldmnist leaderboard --config NAME --json FILE`)."
        )
    for i, row in enumerate(board.rows, 1):
        if row.status is not Status.PUBLISHED and not is_repo_id(row.model):
            raise LDMNISTError(
                f"{path}: row {i} names the model {row.model[:80]!r}, which is not a Hub repository id; it was "
                f"not written by `ldmnist leaderboard --json` (or was edited since): {fix}."
            )
    return board


def _export_dataset(
    configs: list[_Config], out: Path, ids: dict[str, dict], board: dict | None = None
) -> None:
    """The dataset repo: the default config's built folder at the top, every other config's in `NAME/`, one
    card naming every config and its repositories, the Hub's `.gitattributes` (and the leaderboard)."""
    default, others = configs[0], configs[1:]
    record = _copy_built(default, out, ids[default.name])
    variants = []
    for c in others:
        sub = _copy_built(c, out / c.name, ids[c.name])
        x, y = load_latents(c.dataset, "train", check_finite=True)
        variants.append(
            {
                "name": c.name,
                "record": sub,
                "stats": latent_statistics(x, y),
                "benchmark": _blocks_of(c).get("benchmark"),
                "repos": ids[c.name],
            }
        )
    x, y = load_latents(default.dataset, "train", check_finite=True)
    blocks = _blocks_of(default)
    if board is not None:
        blocks["leaderboard"] = leaderboard_markdown(board)
        (out / LEADERBOARD_FILE).write_text(json.dumps(board.to_json(), indent=2, allow_nan=False) + "\n")
    card = render_dataset_card(
        record,
        latent_statistics(x, y),
        blocks.get("benchmark"),
        repos=ids[default.name],
        variants=variants,
        blocks=blocks,
    )
    (out / CARD).write_text(card)
    shutil.copy(TEMPLATES / "gitattributes", out / ".gitattributes")
