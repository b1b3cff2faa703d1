"""The dataset repository of an export (hub/dataset_repo.py): its card and .gitattributes, the leaderboard it
shows, and a hand-edited leaderboard file refused."""

import json
import re

import pytest
from conftest import IDS, NS

from ldmnist_hf.errors import LDMNISTError
from ldmnist_hf.hub.export import export
from ldmnist_hf.hub.leaderboard import build_leaderboard
from ldmnist_hf.rendering import leaderboard_markdown, read_block

from .conftest import DATASET


def test_dataset_card_and_gitattributes(exported):
    from huggingface_hub import DatasetCard

    _, folders = exported
    card = DatasetCard.load(folders["dataset"] / "README.md")
    infos = {i["config_name"]: i for i in card.data.dataset_info}  # one per config
    assert set(infos) == {"default", "ld16"}
    for name, folder in (("default", folders["dataset"]), ("ld16", folders["dataset"] / "ld16")):
        assert infos[name]["download_size"] == sum(p.stat().st_size for p in (folder / "data").iterdir())
    assert card.data.license == "mit" and card.data.task_categories == ["tabular-regression"]
    for kind in ("image_vae", "class_vae"):
        assert f"(https://huggingface.co/{IDS[kind]})" in card.text
    assert f"(https://huggingface.co/spaces/{IDS['metric']})" in card.text
    attributes = (folders["dataset"] / ".gitattributes").read_text().splitlines()
    patterns = {line.split()[0] for line in attributes if line and not line.startswith("#")}
    # the Hub's default list for a new dataset repository, media types included
    for p in ("*.parquet", "*.safetensors", "*.npy", "*.arrow", "*.zst", "*tfevents*", "*.png", "*.mp4"):
        assert p in patterns
    assert len(patterns) == 54 and all(
        line.endswith("filter=lfs diff=lfs merge=lfs -text")
        for line in attributes
        if line and not line.startswith("#")
    )


def test_the_exported_card_shows_a_leaderboard(board, benchmarked, variant16, tmp_path):
    """`export --leaderboard FILE` puts a leaderboard into the card it writes, so a new push keeps it."""

    result = build_leaderboard(DATASET, endpoint=board["stub"].endpoint)
    path = tmp_path / "board.json"
    path.write_text(json.dumps(result.to_json()))
    out = tmp_path / "hub"
    export(NS, out, dataset=benchmarked, variants={"ld16": variant16}, leaderboard=path)
    card = (out / "datasets" / "ldmnist" / "README.md").read_text()
    assert read_block(card, "leaderboard").strip() == leaderboard_markdown(result).strip()
    assert json.loads((out / "datasets" / "ldmnist" / "leaderboard.json").read_text()) == result.to_json()


# A leaderboard file edited by hand: `export --leaderboard` renders its rows into the dataset card.
EDITED_LEADERBOARD = [
    ("mse-as-text", {"mse": "NaN"}, "has mse = 'NaN', not a finite number"),
    ("mse-infinite", {"mse": float("inf")}, "has mse = 'inf', not a finite number"),
    ("accuracy-bool", {"reconstructed_accuracy": True}, "has reconstructed_accuracy = 'True'"),
    ("model-with-a-link", {"model": "evil/x](javascript:alert(1))"}, "which is not a Hub repository id"),
    ("model-missing", {"model": None}, "names no model"),
    ("status-unknown", {"status": "best"}, "has the status 'best', not one of recomputed"),
    ("status-of-version-1", {"status": "verified"}, "has the status 'verified', not one of recomputed"),
    ("rank-zero", {"rank": 0}, "has the rank '0', not a positive integer"),
    ("reason-not-text", {"reason": ["x"]}, "has a reason that is not a short text"),
    ("field-unknown", {"verified_by": "me"}, "has fields the schema does not have (verified_by)"),
]


@pytest.mark.parametrize("case, edit, fragment", EDITED_LEADERBOARD, ids=[c[0] for c in EDITED_LEADERBOARD])
def test_an_edited_leaderboard_file_is_refused(board, tmp_path, case, edit, fragment):
    from ldmnist_hf.hub.dataset_repo import _read_leaderboard

    result = build_leaderboard(DATASET, endpoint=board["stub"].endpoint)
    configs = sorted({r.config for r in result.rows})
    path = tmp_path / "board.json"
    data = result.to_json()
    path.write_text(json.dumps(data))
    assert _read_leaderboard(path, DATASET, configs).to_json() == data  # as written: accepted
    row = next(r for r in data["rows"] if r["status"] == "recomputed")
    row.update(edit)
    path.write_text(json.dumps(data))
    with pytest.raises(LDMNISTError, match=re.escape(fragment)):
        _read_leaderboard(path, DATASET, configs)
