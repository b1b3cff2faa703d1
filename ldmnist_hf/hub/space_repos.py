"""The Spaces of an export: the metric Space (the metric script, its app, its card) and the explorer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..data.records import LEADERBOARD_FILE
from ..data.schema import BENCHMARK_FILE, CARD, data_file
from ..data.sources import source_dataset
from ..errors import LDMNISTError
from ..pretrained.loading import METRIC_PATH
from ..registry import (
    DEFAULT_CONFIG,
    config_prefix,
    family,
)
from ..rendering import (
    render_explorer_card,
    render_metric_card,
)
from ..rendering.texts import source_texts

METRIC_SCRIPT = (
    "ldmnist.py"  # the package's metric script; a Space's copy is `registry.family(...).metric_script`
)


_DEFAULT_LINE = "CLASS_VAES = {}\n"  # the package metric's line that the Space's copy fills in


def class_vaes_line(ids: dict[str, dict]) -> str:
    """The metric script's line in the Space: each config's class VAE repository."""
    return f"CLASS_VAES = {json.dumps({name: i['class_vae'] for name, i in ids.items()})}\n"


SPACES = Path(__file__).parent / "spaces"  # each Space's own files: app.py, requirements.txt, ...


SCREENSHOT = "screenshot.png"  # written by the browser tests (`make screenshots`), shown in the Space's card


def _space_files(name: str, out: Path, space: dict) -> str | None:
    """Copies a Space's own files from `hub/spaces/NAME/` and writes its `space.json` (with the names of the
    dataset repository's files, so that the Space, which runs without this package, spells none of them);
    returns the screenshot's name when there is one to show. LD-MNIST's Spaces show `screenshot.png`, a
    sibling's its own, `screenshot-<source>.png` (a sibling's `space.json` names its `source`)."""
    sibling = space.get("source", {}).get("name")
    for path in sorted((SPACES / name).iterdir()):
        if path.is_file() and path.suffix in (".py", ".txt"):
            shutil.copyfile(path, out / path.name)
    shot = SPACES / name / (f"screenshot-{sibling}.png" if sibling else SCREENSHOT)
    if shot.is_file():
        shutil.copyfile(shot, out / SCREENSHOT)
    files = {"test_split": data_file("test"), "benchmark": BENCHMARK_FILE, "leaderboard": LEADERBOARD_FILE}
    (out / "space.json").write_text(json.dumps({**space, "files": files}, indent=2) + "\n")
    return SCREENSHOT if (out / SCREENSHOT).is_file() else None


def source_space(source: str) -> dict:
    """What a sibling's Spaces show of its source dataset (`space.json`'s `source`): the names, the class names
    and the test images on the Hub. Empty for MNIST: the Spaces' own defaults are LD-MNIST's."""
    if source == "mnist":
        return {}
    src, ds = source_texts({"args": {"source": source}}), source_dataset(source)
    return {
        "source": {
            "name": source,
            "ld": src["ld"],
            "title": src["title"],
            "noun": src["noun"],
            "nouns": src["nouns"],
            "class_names": list(ds.class_names),
            "images": {"repo": ds.hub_repo, "file": ds.hub_test_file},
        }
    }


def _export_metric(
    out: Path, ids: dict[str, dict], latent_dims: dict[str, int], source: str = "mnist"
) -> None:
    """The metric Space: the package's metric script knowing each config's class VAE (named so that
    `evaluate.load` finds it: `registry.family`), the app, the card."""
    script = (Path(METRIC_PATH) / METRIC_SCRIPT).read_text()
    if script.count(_DEFAULT_LINE) != 1:  # the one line that differs; a test keeps it there
        raise LDMNISTError(f"{METRIC_PATH}/{METRIC_SCRIPT} has no line {_DEFAULT_LINE.strip()!r} to fill in.")
    (out / family(source).metric_script).write_text(script.replace(_DEFAULT_LINE, class_vaes_line(ids)))
    default = ids[DEFAULT_CONFIG]
    configs = {name: {"latent_dim": latent_dims[name], "prefix": config_prefix(name)} for name in ids}
    sibling = source_space(source)
    if sibling:
        sibling["metric_script"] = family(source).metric_script
    space = {"dataset": default["dataset"], "configs": configs, **sibling}
    screenshot = _space_files("metric", out, space)
    class_vaes = [i["class_vae"] for i in ids.values()]
    src = source_texts({"args": {"source": source}})
    (out / CARD).write_text(render_metric_card(default, class_vaes, screenshot, src))


def _export_explorer(out: Path, ids: dict, source: str = "mnist") -> None:
    """The explorer Space: the app, its numpy decoders, the repositories it reads, its card."""
    space = {
        "dataset": ids["dataset"],
        "prefix": "",
        "image_vae": ids["image_vae"],
        "class_vae": ids["class_vae"],
        **({"mnist": source_dataset(source).hub_repo} if source == "mnist" else source_space(source)),
    }
    screenshot = _space_files("explorer", out, space)
    src = source_texts({"args": {"source": source}})
    (out / CARD).write_text(render_explorer_card(ids, screenshot, src))
